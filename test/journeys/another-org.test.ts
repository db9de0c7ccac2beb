/**
 * Journey: the environment URL stays, but the organization behind it is another one (an older backup restored
 * over it, a copy, a reset): the emulator comes back on the same port as a different org, made from the same
 * sample data but without the changes made to the first org. The profile must re-baseline (status says why,
 * naming both org ids) and the destination must end equal to the new org, as the README says: a row the old org
 * changed is back at the new org's value, and a row only the old org had is deleted from the destination.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareTable, describeDifference, destinationRows, isEqual } from '../../local/verify';
import { waitFor } from '../support/wait';
import { startLocalRun, startProfile, useJourneyDataDir, type LocalRun } from './support/local-run';

const PROFILE = 'sample';
const TABLES = ['account', 'contact'];
let run: LocalRun | undefined;
const dataDir = useJourneyDataDir('another-org', () => run);

interface StatusBody {
  sourceEnvironment: { organizationId: string | null; rebaselined: { at: string; reason: string } | null };
  tables: Array<{ table: string; phase: string; lastError: { message: string } | null }>;
}

const status = async (current: LocalRun) =>
  (await current.call('GET', `profiles/${PROFILE}/status`)).body as StatusBody;

async function activateAndReachDelta(current: LocalRun): Promise<void> {
  expect((await current.call('PUT', `profiles/${PROFILE}`, startProfile(current))).status).toBeLessThan(300);
  expect([202, 409]).toContain((await current.call('POST', `profiles/${PROFILE}/activate`)).status);
  await waitFor(
    'every table in delta',
    async () => {
      const body = await status(current);
      return body.tables.length === TABLES.length && body.tables.every((t) => t.phase === 'delta') ? true : undefined;
    },
    60_000,
  );
}

async function destinationEqualsSource(current: LocalRun): Promise<void> {
  let last = '';
  await waitFor(
    'destination = the new org',
    async () => {
      const { destination } = await current.product.deps.sync.runtimes.get(PROFILE);
      for (const table of TABLES) {
        const difference = await compareTable(current.emulator, destination, table);
        if (!isEqual(difference)) {
          last = describeDifference(difference);
          return undefined;
        }
      }
      return true;
    },
    60_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last difference: ${last}`);
  });
}

describe('the environment URL now serves another organization', () => {
  it('re-baselines with a status naming both orgs, and the destination becomes the new org', async () => {
    run = await startLocalRun({ dataDir, statePath: join(dataDir, 'first-org.json') });
    const port = Number(new URL(run.emulator.baseUrl).port);
    await activateAndReachDelta(run);
    const firstOrg = run.emulator.store.organizationId;
    // Changes only the first org sees: a row changed, and a row created.
    const [changed] = run.emulator.store.page('account', -1, 1).rows as Array<{ id: string }>;
    const changedId = (changed?.id ?? '').toLowerCase();
    run.emulator.store.update('account', changedId, { name: 'only in the first org' });
    const onlyInFirst = run.emulator.store.create('account', { name: 'created in the first org' }).id.toLowerCase();
    await destinationEqualsSource(run);
    await run.stop();
    run = undefined;

    // Same seed and port, a state file of its own: the same sample rows under a new org id, without those changes.
    run = await startLocalRun({ dataDir, statePath: join(dataDir, 'second-org.json'), emulatorPort: port });
    const secondOrg = run.emulator.store.organizationId;
    expect(secondOrg).not.toBe(firstOrg);
    expect(run.emulator.store.get('account', onlyInFirst)).toBeUndefined();
    await activateAndReachDelta(run);

    const current = run;
    const rebaselined = await waitFor(
      'the status to say the profile was re-baselined',
      async () => (await status(current)).sourceEnvironment.rebaselined ?? undefined,
      60_000,
    );
    expect(rebaselined.reason).toContain(firstOrg);
    expect(rebaselined.reason).toContain(secondOrg);
    await destinationEqualsSource(run);

    const { destination } = await run.product.deps.sync.runtimes.get(PROFILE);
    const accounts = await destinationRows(destination, 'account');
    expect(accounts.has(onlyInFirst), 'the row only the first org had is deleted').toBe(false);
    expect(accounts.get(changedId)?.name).toBe(run.emulator.store.get('account', changedId)?.row.name);
    const after = await status(run);
    expect(after.sourceEnvironment.organizationId).toBe(secondOrg);
    for (const table of after.tables) expect(table.lastError, table.table).toBeNull();
  }, 480_000);
});
