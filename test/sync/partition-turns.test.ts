/**
 * Partitions of one table copied at once in one process take turns to write it (shared/sync/capture/table-turns.ts),
 * and parse their held answers only in their turn (shared/dataverse/held-bytes.ts): no two applies of the table run
 * at once, and no partition holds parsed rows while another writes. Before, every partition parsed its answers as
 * they arrived and then waited inside the destination for the table's lock with its rows as objects, long enough
 * for V8 to promote them, which made the host's peak memory depend on how long the sync ran.
 * Real parts: the emulator over HTTP, Azurite for the state, PGlite as the destination.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { destinationVersions, sourceVersions } from '../../local/verify';
import { copyPage } from '../../shared/sync/capture/copy-page';
import { copyPartition } from '../../shared/sync/capture/partitioned-copy';
import type { SyncServices } from '../../shared/sync/wiring/services';
import { useAzurite } from '../support/azurite';
import { activateAccountProfile, aroundApplyBatch, recordingOrchestrations } from '../support/direct-sync';

const TOKEN = 'partition-turns-token';
const PROFILE = 'turns';
/** How long each apply holds the table: long enough that partitions read meanwhile would overlap it. */
const APPLY_HOLD_MS = 300;
const azurite = useAzurite();
let emulator: Emulator;
let deps: FunctionDeps;
const orchestrations = recordingOrchestrations();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: 21, accounts: 80, token: TOKEN, faults: { dopHint: 4 } });
  deps = createFunctionDeps(
    { AzureWebJobsStorage: azurite.connectionString, DVX_SECRET_DV_TOKEN: TOKEN, DVX_LOCAL_MODE: '1' },
    () => orchestrations,
    { pageSize: 20, readStreams: 8 },
  );
  await activateAccountProfile(deps, orchestrations, PROFILE, emulator.baseUrl);
}, 90_000);
afterAll(async () => {
  await deps.sync.runtimes.closeAll();
  await emulator.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

interface Observed {
  /** Most applies of the table running at the same moment. */
  mostAtOnce: number;
  /** Per apply, as it began: answers of id requests parsed so far, and applies begun so far (this one included). */
  atApply: Array<{ answersParsed: number; appliesBegun: number }>;
}

/** The services with every apply of the destination held APPLY_HOLD_MS and watched. */
function watchedServices(observed: Observed, answersParsed: () => number): SyncServices {
  let running = 0;
  return aroundApplyBatch(deps.sync, async (apply, table, batch) => {
    running++;
    observed.mostAtOnce = Math.max(observed.mostAtOnce, running);
    observed.atApply.push({ answersParsed: answersParsed(), appliesBegun: observed.atApply.length + 1 });
    try {
      await sleep(APPLY_HOLD_MS);
      return await apply(table, batch);
    } finally {
      running--;
    }
  });
}

describe("a table's partitions in one process", () => {
  it('write one at a time, each parsing its rows only in its turn, and copy every row', async () => {
    let step = await copyPage(deps.sync, PROFILE, 'account');
    while (!step.partitions) step = await copyPage(deps.sync, PROFILE, 'account');
    expect(step.partitions).toEqual({ total: 4, streams: 4 });

    // An answer of an id request is a page body: `{"@odata.context":…,"value":[…]}`, parsed whole.
    let answersParsed = 0;
    const parse = JSON.parse.bind(JSON);
    vi.spyOn(JSON, 'parse').mockImplementation((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
      if (typeof text === 'string' && text.startsWith('{"@odata.context"') && text.includes('"value":[{'))
        answersParsed++;
      return parse(text, reviver) as unknown;
    });
    const observed: Observed = { mostAtOnce: 0, atApply: [] };
    const services = watchedServices(observed, () => answersParsed);
    const copied = await Promise.all([0, 1, 2, 3].map((index) => copyPartition(services, PROFILE, 'account', index)));
    vi.restoreAllMocks();

    expect(copied.map((partition) => partition.rows)).toEqual([20, 20, 20, 20]);
    expect(observed.mostAtOnce).toBe(1);
    // Each partition is one request: by the time an apply begins, only the answers of the applies so far are parsed.
    for (const { answersParsed: parsed, appliesBegun } of observed.atApply) expect(parsed).toBe(appliesBegun);
    expect((await copyPage(deps.sync, PROFILE, 'account')).done).toBe(true);
    const destination = (await deps.sync.runtimes.get(PROFILE)).destination;
    expect(await destinationVersions(destination, 'account')).toEqual(sourceVersions(emulator, 'account'));
  }, 90_000);
});
