/**
 * The partitioned initial sync (docs/notes/parallel-initial-sync.md) step by step against the emulator and Azurite:
 * the key pass takes the delta link before any row is read, partitions copy in parallel, rows changed after the
 * key pass merge with the delta by version, a resync sweeps what no partition saw, and a load begun page by page
 * ends page by page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { destinationVersions, sourceVersions } from '../../local/verify';
import { copyPage } from '../../shared/sync/capture/copy-page';
import { copyPartitionLane } from '../../shared/sync/capture/partitioned-copy';
import { unitsThisCycle, type PartitionLane } from '../../shared/sync/capture/initial-sync-plan';
import { snapshotTable } from '../../shared/sync/admin/snapshot';
import type { RowUpsert } from '../../shared/dataverse/changes';
import { useAzurite } from '../support/azurite';
import { activateAccountProfile, recordingOrchestrations } from '../support/direct-sync';

const TOKEN = 'partitioned-copy-token';
const PROFILE = 'partitioned';
const azurite = useAzurite();
let emulator: Emulator;
let deps: FunctionDeps;
const orchestrations = recordingOrchestrations();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: 12, accounts: 95, token: TOKEN, faults: { dopHint: 3 } });
  deps = createFunctionDeps(
    { AzureWebJobsStorage: azurite.connectionString, DVX_SECRET_DV_TOKEN: TOKEN, DVX_LOCAL_MODE: '1' },
    () => orchestrations,
    { pageSize: 20, readStreams: 8 },
  );
  await activateAccountProfile(deps, orchestrations, PROFILE, emulator.baseUrl);
}, 60_000);
afterAll(async () => {
  await deps.sync.runtimes.closeAll();
  await emulator.close();
});

const destination = async () => destinationVersions((await deps.sync.runtimes.get(PROFILE)).destination, 'account');

/** Steps until the partitions open (the key pass is over), copies them all at once, then finishes the table. */
async function copyPartitioned(): Promise<{ partitions: number; streams: number }> {
  for (;;) {
    const step = await copyPage(deps.sync, PROFILE, 'account');
    if (step.done) throw new Error('finished before any partition was copied');
    if (!step.partitions) continue;
    const { total, streams } = step.partitions;
    // As the orchestrator runs them: `streams` lanes at once, each copying its partitions one after another.
    const input = {
      profile: PROFILE,
      pending: ['account'],
      fanOut: 1,
      progress: {},
      partitions: { account: { next: 0, total } },
      streams,
    };
    const lanes = unitsThisCycle(input).filter((unit): unit is PartitionLane => 'partition' in unit);
    expect(lanes).toHaveLength(Math.min(streams, total));
    const copied = await Promise.all(lanes.map((lane) => copyPartitionLane(deps.sync, PROFILE, lane)));
    expect(copied.reduce((sum, lane) => sum + lane.count, 0)).toBe(total);
    expect((await copyPage(deps.sync, PROFILE, 'account')).done).toBe(true);
    return { partitions: total, streams };
  }
}

describe('the partitioned initial sync', () => {
  it('copies every row in partitions of one key page each, as many at once as the dop hint says, then polls the changes made meanwhile', async () => {
    // The first key page takes the table's token: changes after it must come through the delta.
    const first = await copyPage(deps.sync, PROFILE, 'account');
    expect(first).toMatchObject({ done: false });
    const [changed, gone] = emulator.store.page('account', -1, 2).rows;
    if (!changed || !gone) throw new Error('no accounts');
    emulator.store.update('account', changed.id, { name: 'renamed during the copy' });
    emulator.store.delete('account', gone.id);
    emulator.store.create('account', { name: 'created during the copy' });

    const { partitions, streams } = await copyPartitioned();
    expect([partitions, streams]).toEqual([5, 3]);
    const checkpoint = await deps.sync.checkpoints.read(PROFILE, 'account');
    expect(checkpoint?.value).toMatchObject({ phase: 'delta', pages: 5 });
    expect(checkpoint?.value.deltaLink).toContain('$deltatoken=');

    // The delta from the key pass's token, applied as the applier does: the version guard merges the overlap.
    const { source, destination: target } = await deps.sync.runtimes.get(PROFILE);
    const table = await snapshotTable(deps.sync, PROFILE, 'account');
    const deltaLink = checkpoint?.value.deltaLink ?? '';
    for await (const page of source.readDelta(table, deltaLink, { annotations: true })) {
      const upserts = page.changes.filter((change): change is RowUpsert => change.kind === 'upsert');
      const deletes = page.changes
        .filter((change) => change.kind === 'delete')
        .map(({ id }) => ({ id, versionNumber: page.watermark ?? 0 }));
      await target.applyBatch(table, { upserts, deletes });
    }
    expect(await destination()).toEqual(sourceVersions(emulator, 'account'));
  });
});
