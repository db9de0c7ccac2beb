/**
 * Journey: the environment behind the profile's URL becomes another org (a restore, copy or reset): here a fresh
 * emulator state on the same port. Its change tokens say nothing about what the destination holds, so the
 * profile must start every table over, end with the new org's rows, and say why in its status.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareTable, describeDifference, versionsEqual } from '../../local/verify';
import { waitFor } from '../support/wait';
import { startLocalRun, startProfile, type LocalRun } from './support/local-run';

const PROFILE = 'sample';
const TABLES = ['account', 'contact'];
const dataDir = mkdtempSync(join(tmpdir(), 'dvexport-journey-other-org-'));
let run: LocalRun | undefined;
afterAll(async () => {
  await run?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

interface StatusBody {
  sourceEnvironment: { organizationId: string | null; rebaselined: { reason: string } | null };
  tables: Array<{ table: string; phase: string }>;
}

const status = async (current: LocalRun) =>
  (await current.call('GET', `profiles/${PROFILE}/status`)).body as StatusBody;

async function converged(current: LocalRun): Promise<true | undefined> {
  const { destination } = await current.product.deps.sync.runtimes.get(PROFILE);
  for (const table of TABLES) {
    const difference = await compareTable(current.emulator, destination, table);
    if (!versionsEqual(difference)) {
      lastDifference = describeDifference(difference);
      return undefined;
    }
  }
  return true;
}
let lastDifference = '';

describe('another org under the same URL', () => {
  it('re-baselines every table and says why in the status', async () => {
    run = await startLocalRun({ dataDir, statePath: join(dataDir, 'first-org.json') });
    expect((await run.call('PUT', `profiles/${PROFILE}`, startProfile(run))).status).toBe(201);
    expect((await run.call('POST', `profiles/${PROFILE}/activate`)).status).toBe(202);
    const first = run;
    await waitFor(
      'every table in delta',
      async () => {
        const body = await status(first);
        return body.tables.length === 2 && body.tables.every((t) => t.phase === 'delta') ? true : undefined;
      },
      60_000,
    );
    // The first org moves on: accounts the other org never had.
    for (const name of ['only in the first org', 'also only in the first org'])
      run.emulator.store.create('account', { name });
    await waitFor('the first org converged', () => converged(first), 40_000);
    const firstOrg = run.emulator.store.organizationId;
    const port = new URL(run.emulator.baseUrl).port;
    await run.stop();
    run = undefined;

    run = await startLocalRun({ dataDir, statePath: join(dataDir, 'other-org.json'), emulatorPort: Number(port) });
    const second = run;
    const otherOrg = run.emulator.store.organizationId;
    expect(otherOrg).not.toBe(firstOrg);
    expect(run.emulator.baseUrl).toBe(first.emulator.baseUrl);
    // A row changed in the other org, so its own deltas have something to say as well.
    run.emulator.store.update('contact', (run.emulator.store.page('contact', -1, 1).rows[0] as { id: string }).id, {
      firstname: 'Other',
    });

    await waitFor('destination = the other org', () => converged(second), 60_000).catch((error: Error) => {
      throw new Error(`${error.message}; last difference: ${lastDifference}`);
    });
    const body = await status(run);
    expect(body.sourceEnvironment.organizationId).toBe(otherOrg);
    expect(body.sourceEnvironment.rebaselined?.reason).toBe(
      `rebaselined: source environment changed from ${firstOrg} to ${otherOrg}`,
    );
  }, 240_000);
});
