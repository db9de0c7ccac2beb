/**
 * Journey: a profile deactivated, deleted and created again under the same name against a new destination (another
 * schema of the embedded database). The new profile must copy every row there; nothing of the old one may remain
 * to make it believe it is already caught up.
 */
import { describe, expect, it } from 'vitest';
import { compareTable, describeDifference, versionsEqual } from '../../local/verify';
import { waitFor } from '../support/wait';
import { startLocalRun, startProfile, useJourneyDataDir, type LocalRun } from './support/local-run';

const PROFILE = 'sample';
const TABLES = ['account', 'contact'];
let run: LocalRun | undefined;
const dataDir = useJourneyDataDir('recreate', () => run);

const inDelta = async (current: LocalRun) => {
  const body = (await current.call('GET', `profiles/${PROFILE}/status`)).body as { tables: Array<{ phase: string }> };
  return body.tables.length === TABLES.length && body.tables.every((t) => t.phase === 'delta') ? true : undefined;
};

describe('a profile deleted and created again', () => {
  it('copies every row into the new destination', async () => {
    run = await startLocalRun({ dataDir });
    const current = run;
    const first = startProfile(run, { kind: 'sql', dialect: 'pglite', schema: 'first' });
    expect((await run.call('PUT', `profiles/${PROFILE}`, first)).status).toBe(201);
    expect((await run.call('POST', `profiles/${PROFILE}/activate`)).status).toBe(202);
    await waitFor('every table in delta', () => inDelta(current), 60_000);

    expect((await run.call('POST', `profiles/${PROFILE}/deactivate`)).status).toBeLessThan(300);
    expect((await run.call('DELETE', `profiles/${PROFILE}`)).status).toBe(204);
    const second = startProfile(run, { kind: 'sql', dialect: 'pglite', schema: 'second' });
    expect((await run.call('PUT', `profiles/${PROFILE}`, second)).status).toBe(201);
    expect((await run.call('POST', `profiles/${PROFILE}/activate`)).status).toBe(202);

    let last = '';
    await waitFor(
      'the new destination = source',
      async () => {
        const { destination } = await current.product.deps.sync.runtimes.get(PROFILE);
        for (const table of TABLES) {
          const difference = await compareTable(current.emulator, destination, table);
          if (!versionsEqual(difference)) {
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
  }, 240_000);
});
