/**
 * Journey: `npm start` stopped and started again on the same data folder. The emulator keeps its state (and so its
 * organization id) but comes up on a new port; the saved delta links name the old one. The export must carry on:
 * changes made while everything was down and after arrive, and status never reads "caught up" while it is not.
 */
import { describe, expect, it } from 'vitest';
import { compareTable, describeDifference, versionsEqual } from '../../local/verify';
import { waitFor } from '../support/wait';
import { startLocalRun, startProfile, useJourneyDataDir, type LocalRun } from './support/local-run';

const PROFILE = 'sample';
const TABLES = ['account', 'contact'];
let run: LocalRun | undefined;
const dataDir = useJourneyDataDir('restart', () => run);

interface StatusBody {
  tables: Array<{ table: string; phase: string; lagSeconds: number; lastError: { message: string } | null }>;
}

async function activateAndReachDelta(current: LocalRun): Promise<void> {
  expect((await current.call('PUT', `profiles/${PROFILE}`, startProfile(current))).status).toBeLessThan(300);
  expect([202, 409]).toContain((await current.call('POST', `profiles/${PROFILE}/activate`)).status);
  await waitFor(
    'every table in delta',
    async () => {
      const body = (await current.call('GET', `profiles/${PROFILE}/status`)).body as StatusBody;
      return body.tables.length === TABLES.length && body.tables.every((t) => t.phase === 'delta') ? true : undefined;
    },
    60_000,
  );
}

type StatusTable = StatusBody['tables'][number] & {
  lastError: { message: string; at: string } | null;
  lastSuccessfulSyncAt: string | null;
  health?: { state: string };
};

/** Destination = source for every table; meanwhile, status may not claim lag 0 without errors while rows differ. */
async function converge(current: LocalRun): Promise<string[]> {
  let last = '';
  const claimsCaughtUp: string[] = [];
  await waitFor(
    'destination = source after the restart',
    async () => {
      const { destination } = await current.product.deps.sync.runtimes.get(PROFILE);
      for (const table of TABLES) {
        const difference = await compareTable(current.emulator, destination, table);
        if (!versionsEqual(difference)) {
          last = describeDifference(difference);
          const status = (await current.call('GET', `profiles/${PROFILE}/status`)).body as StatusBody;
          const view = status.tables.find((t) => t.table === table);
          if (view && view.lastError === null && view.lagSeconds === 0 && Date.now() - lastChangeAt > 15_000)
            claimsCaughtUp.push(`${table}: ${last}`);
          return undefined;
        }
      }
      return true;
    },
    // 23 s alone; once, among the whole suite's parallel files on two cores, one account was still behind at 40 s.
    90_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last difference: ${last}; status said caught up ${claimsCaughtUp.length} times`);
  });
  return claimsCaughtUp;
}
/** A poll reads a change within a second or two of it; long after that, lag 0 without an error is not true. */
let lastChangeAt = Date.now();

describe('npm start, stopped and started again', () => {
  it('carries on from the saved checkpoints although the emulator has a new port', async () => {
    run = await startLocalRun({ dataDir });
    await activateAndReachDelta(run);
    const firstUrl = run.emulator.baseUrl;
    const firstOrg = run.emulator.store.organizationId;
    await run.stop();
    run = undefined;

    run = await startLocalRun({ dataDir });
    expect(run.emulator.baseUrl).not.toBe(firstUrl);
    expect(run.emulator.store.organizationId, 'the same state keeps its org id').toBe(firstOrg);
    // Changed while the export was down (the host is up, but no profile is re-put yet).
    const [account] = run.emulator.store.page('account', -1, 1).rows as Array<{ id: string }>;
    const [contact] = run.emulator.store.page('contact', -1, 1).rows as Array<{ id: string }>;
    run.emulator.store.update('account', account?.id ?? '', { name: 'changed while stopped' });
    run.emulator.store.update('contact', contact?.id ?? '', { firstname: 'Stopped' });

    // What npm start does on every start: PUT the profile with the emulator's URL, then activate.
    await activateAndReachDelta(run);
    run.emulator.store.update('account', account?.id ?? '', { name: 'changed after the restart' });
    lastChangeAt = Date.now();
    expect(await converge(run), 'status claimed lag 0 and no error while rows were missing').toEqual([]);

    const status = (await run.call('GET', `profiles/${PROFILE}/status`)).body as StatusBody & {
      sourceEnvironment: { organizationId: string; rebaselined: unknown };
    };
    expect(status.sourceEnvironment).toEqual({ organizationId: firstOrg, rebaselined: null });
    // A poll that ran against the old URL while the host came back may have failed; the polls that succeeded since
    // clear its error (a successful poll clears what a poll left), so status shows no error and health ok.
    await waitFor(
      'no table shows an error once its polls succeed',
      async () => {
        const tables = ((await run?.call('GET', `profiles/${PROFILE}/status`))?.body as StatusBody)
          .tables as StatusTable[];
        const unhealthy = tables.filter((table) => table.lastError !== null || table.health?.state !== 'ok');
        return unhealthy.length === 0 ? true : undefined;
      },
      15_000,
    );
  }, 300_000);
});
