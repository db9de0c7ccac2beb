/**
 * The partitioned initial sync (docs/notes/parallel-initial-sync.md) as it runs by default, against the emulator and
 * Azurite: a partition writes each request's rows as they arrive, the table's progress moves as partitions finish,
 * its documents are deleted when it finishes or its profile is deleted, and a table started over replaces the plan
 * of its earlier start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { destinationVersions, sourceVersions } from '../../local/verify';
import { ExportError } from '../../shared/errors';
import { defaultChunkLimits } from '../../shared/dataverse/page-stream';
import type { Destination } from '../../shared/destinations/destination';
import { forgetProfileState } from '../../shared/sync/admin/forget-profile';
import { copyPage } from '../../shared/sync/capture/copy-page';
import { partitionName, planName } from '../../shared/sync/capture/partition-documents';
import { copyPartition } from '../../shared/sync/capture/partitioned-copy';
import { snapshotTable } from '../../shared/sync/admin/snapshot';
import { useAzurite } from '../support/azurite';
import { activateAccountProfile, recordingOrchestrations } from '../support/direct-sync';

const TOKEN = 'partitioned-lifecycle-token';
const ACCOUNTS = 1_500;
/** Key pages of 300 ids: partitions of 300, each read in requests of 250 and 50 ids. */
const PAGE_SIZE = 1_250;
const azurite = useAzurite();
let emulator: Emulator;
let deps: FunctionDeps;
const orchestrations = recordingOrchestrations();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: 31, accounts: ACCOUNTS, contacts: 0, token: TOKEN });
  // No readStreams here: the product's default is what is tested.
  deps = createFunctionDeps(
    { AzureWebJobsStorage: azurite.connectionString, DVX_SECRET_DV_TOKEN: TOKEN, DVX_LOCAL_MODE: '1' },
    () => orchestrations,
    { pageSize: PAGE_SIZE },
  );
}, 60_000);
afterAll(async () => {
  await deps.sync.runtimes.closeAll();
  await emulator.close();
});

/** Records the size of every batch the destination is given, still writing it. */
async function recordApplies(profile: string): Promise<number[]> {
  const { destination } = await deps.sync.runtimes.get(profile);
  const sizes: number[] = [];
  const applyBatch: Destination['applyBatch'] = destination.applyBatch.bind(destination);
  destination.applyBatch = (table, batch) => {
    sizes.push(batch.upserts.length);
    return applyBatch(table, batch);
  };
  return sizes;
}

/** Steps the table until its key pass is over; the number of partitions. */
async function keyPass(profile: string): Promise<number> {
  for (;;) {
    const step = await copyPage(deps.sync, profile, 'account');
    if (step.done) throw new Error('finished before any partition was copied');
    if (step.partitions) return step.partitions.total;
  }
}

const documentsOf = async (profile: string, partitions: number) => ({
  plan: await deps.sync.partitions.get(planName(profile, 'account')),
  partitions: await Promise.all(
    Array.from({ length: partitions }, (_, index) =>
      deps.sync.partitions.get(partitionName(profile, 'account', index)),
    ),
  ),
});

describe('the partitioned initial sync, on by default', () => {
  it('writes each request of a partition as it arrives, shows progress as partitions finish, and deletes its documents at the end', async () => {
    const profile = 'lifecycle';
    await activateAccountProfile(deps, orchestrations, profile, emulator.baseUrl);
    expect(deps.sync.options.readStreams).toBe(8);
    const partitions = await keyPass(profile);
    expect(partitions).toBe(Math.ceil(ACCOUNTS / PAGE_SIZE));
    const sizes = await recordApplies(profile);

    await copyPartition(deps.sync, profile, 'account', 0);
    // In chunks of at most a page chunk's rows, as requests come in, never the whole partition at once.
    expect(sizes).toEqual([defaultChunkLimits.maxRows, PAGE_SIZE - defaultChunkLimits.maxRows]);
    expect((await deps.sync.checkpoints.read(profile, 'account'))?.value).toMatchObject({
      phase: 'initial',
      rowsCopied: PAGE_SIZE,
      pages: 1,
    });

    // The others at once: every one counted, none overwriting another's count.
    await Promise.all(
      Array.from({ length: partitions - 1 }, (_, index) => copyPartition(deps.sync, profile, 'account', index + 1)),
    );
    expect((await deps.sync.checkpoints.read(profile, 'account'))?.value).toMatchObject({
      phase: 'initial',
      rowsCopied: ACCOUNTS,
      pages: partitions,
    });
    expect(Math.max(...sizes)).toBeLessThanOrEqual(defaultChunkLimits.maxRows);

    const before = await documentsOf(profile, partitions);
    expect(before.plan).toBeDefined();
    expect((await copyPage(deps.sync, profile, 'account')).done).toBe(true);
    expect((await deps.sync.checkpoints.read(profile, 'account'))?.value).toMatchObject({
      phase: 'delta',
      rowsCopied: ACCOUNTS,
      pages: partitions,
    });
    const after = await documentsOf(profile, partitions);
    expect(after.plan).toBeUndefined();
    expect(after.partitions.every((partition) => partition === undefined)).toBe(true);
    const { destination, source } = await deps.sync.runtimes.get(profile);
    expect(await destinationVersions(destination, 'account')).toEqual(sourceVersions(emulator, 'account'));

    // The delta goes on from the key pass's token with every column, not the key pass's primary key alone.
    const [changed] = emulator.store.page('account', -1, 1).rows;
    emulator.store.update('account', changed?.id ?? '', { name: 'renamed after the copy' });
    const deltaLink = (await deps.sync.checkpoints.read(profile, 'account'))?.value.deltaLink ?? '';
    const rows = [];
    for await (const page of source.readDelta(await snapshotTable(deps.sync, profile, 'account'), deltaLink))
      rows.push(...page.changes.flatMap((change) => (change.kind === 'upsert' ? [change.row] : [])));
    expect(rows).toEqual([expect.objectContaining({ name: 'renamed after the copy' })]);
  });

  it('replaces the plan of an earlier start of the table when it is started over mid-copy', async () => {
    const profile = 'restarted';
    await activateAccountProfile(deps, orchestrations, profile, emulator.baseUrl);
    const partitions = await keyPass(profile);
    await copyPartition(deps.sync, profile, 'account', 0);
    // A resync (or an expired token) starts the table over while its partitions are copying.
    await deps.sync.checkpoints.reset(profile, 'account', 'resync');

    expect(await keyPass(profile)).toBe(partitions);
    const restarted = await deps.sync.checkpoints.read(profile, 'account');
    expect((await deps.sync.partitions.get(planName(profile, 'account')))?.value).toMatchObject({
      startedAt: restarted?.value.startedAt,
      partitions,
    });
    await Promise.all(
      Array.from({ length: partitions }, (_, index) => copyPartition(deps.sync, profile, 'account', index)),
    );
    expect((await copyPage(deps.sync, profile, 'account')).done).toBe(true);
    const { destination } = await deps.sync.runtimes.get(profile);
    expect(await destinationVersions(destination, 'account')).toEqual(sourceVersions(emulator, 'account'));
  });

  // A failed run's error stayed on a table status already showed in delta (phase comes from the checkpoint, and the
  // error was cleared only after it): a reactivated journey read "delta" with the old run's error.
  it('clears an earlier run error before the checkpoint says delta', async () => {
    const profile = 'cleared';
    await activateAccountProfile(deps, orchestrations, profile, emulator.baseUrl);
    const partitions = await keyPass(profile);
    for (let index = 0; index < partitions; index++) await copyPartition(deps.sync, profile, 'account', index);
    const failed = new ExportError('config', 'The initial sync stopped: refused');
    await deps.sync.status.update(profile, 'account', { lastError: failed, lastErrorSource: 'copy' });
    const errorsWhenDelta: unknown[] = [];
    const update = deps.sync.checkpoints.update.bind(deps.sync.checkpoints);
    deps.sync.checkpoints.update = async (name, table, value, etag) => {
      const result = await update(name, table, value, etag);
      if (value.phase === 'delta') errorsWhenDelta.push((await deps.sync.status.read(name, table))?.lastError ?? null);
      return result;
    };
    try {
      expect((await copyPage(deps.sync, profile, 'account')).done).toBe(true);
    } finally {
      deps.sync.checkpoints.update = update;
    }
    expect(errorsWhenDelta).toEqual([null]);
  });

  it('deletes the plan and partitions of a table still copying when its profile is deleted', async () => {
    const profile = 'forgotten';
    await activateAccountProfile(deps, orchestrations, profile, emulator.baseUrl);
    const partitions = await keyPass(profile);
    await copyPartition(deps.sync, profile, 'account', 1);
    expect((await documentsOf(profile, partitions)).plan).toBeDefined();

    await forgetProfileState(deps.sync, orchestrations, profile);
    const left = await documentsOf(profile, partitions);
    expect(left.plan).toBeUndefined();
    expect(left.partitions.every((partition) => partition === undefined)).toBe(true);
  });
});
