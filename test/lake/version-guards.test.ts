/**
 * What the lake keeps out in every mode: a late upsert of a row a resync never saw (the per-table version floor),
 * and an upsert redelivered after the row's delete at the same version (readers break that tie by `SinkModifiedOn`,
 * the newest record wins: docs/reference/lake-format.md §5).
 */
import type { ContainerClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import type { RowUpsert, WebApiRow } from '../../shared/dataverse/changes';
import { createLakeDestination, type LakeMode } from '../../shared/destinations/lake/destination';
import { sampleCounts, sampleRow, sampleTable, toWebApiRow } from '../../local/sample-org';
import { useAzurite } from '../support/azurite';
import { latestRows, readBlob, rowsOf, type LakeRow } from './lake-readers';

const azurite = useAzurite();
const account = sampleTable('account');
const counts = sampleCounts(20);
let containers = 0;

function accountUpsert(index: number, versionNumber: number, name?: string): RowUpsert {
  const row: WebApiRow = toWebApiRow(account, sampleRow('account', index, 3, counts), {
    versionNumber,
    annotations: true,
  });
  if (name) row.name = name;
  return { kind: 'upsert', id: String(row.accountid), versionNumber, row };
}

/** Every record of `account` in the live files (any time folder, never snapshots), newest per Id, deletes dropped. */
async function liveAccounts(container: ContainerClient): Promise<Map<string, LakeRow>> {
  const model = JSON.parse((await readBlob(container, 'model.json')) ?? '{}') as {
    entities: Array<{ name: string; attributes: Array<{ name: string; dataType: string }> }>;
  };
  const attributes = model.entities.find((entity) => entity.name === 'account')?.attributes ?? [];
  const rows: LakeRow[] = [];
  for await (const blob of container.listBlobsFlat()) {
    if (/^(?:[^/]+\/)?account\/[^/]+\.csv$/.test(blob.name))
      rows.push(...rowsOf((await readBlob(container, blob.name)) ?? '', attributes));
  }
  return latestRows(rows);
}

function open(mode: LakeMode, clock?: () => Date) {
  const container = azurite.clients.blobs.getContainerClient(`guards-${mode.toLowerCase()}-${++containers}`);
  const lake = createLakeDestination(
    container,
    { mode, granularity: 'Year', incrementalIntervalMinutes: 60, snapshotIntervalMinutes: 60 },
    clock ? { clock } : {},
  );
  return { container, lake };
}

describe.each<LakeMode>(['appendOnly', 'inPlace', 'incremental'])('lake version guards in %s mode', (mode) => {
  it('keeps out, after a resync sweep, a late upsert at or below its watermark of a row the resync never saw (version floor)', async () => {
    const { container, lake } = open(mode);
    await lake.ensureTables([account], []);
    const [kept, goneBeforeToken] = [accountUpsert(33, 100), accountUpsert(34, 400)];
    await lake.resync.start('account');
    await lake.applyBatch(account, { upserts: [kept], deletes: [] });
    await lake.resync.markSeen('account', [kept.id]);
    await lake.resync.sweep(account, 500);
    await lake.resync.finish('account');
    // Created and deleted before the resync's token at 500; its upsert waited in the queue until now.
    expect(await lake.applyBatch(account, { upserts: [goneBeforeToken], deletes: [] })).toMatchObject({
      upserted: 0,
      skippedAsStale: 1,
    });
    // A row changed after the token is written, and so is a later change of a row the resync copied.
    const createdLater = accountUpsert(35, 501);
    expect(
      await lake.applyBatch(account, { upserts: [createdLater, accountUpsert(33, 502, 'changed')], deletes: [] }),
    ).toMatchObject({ upserted: 2, skippedAsStale: 0 });
    // A persisted floor: another instance (a new destination on the same container) keeps the row out too.
    const other = createLakeDestination(container, {
      mode,
      granularity: 'Year',
      incrementalIntervalMinutes: 60,
      snapshotIntervalMinutes: 60,
    });
    expect(await other.applyBatch(account, { upserts: [goneBeforeToken], deletes: [] })).toMatchObject({
      upserted: 0,
    });
    const live = await liveAccounts(container);
    expect([...live.keys()].sort()).toEqual([kept.id, createdLater.id].map((id) => id.toLowerCase()).sort());
    expect(live.get(kept.id.toLowerCase())?.name).toBe('changed');

    // The next resync copies again whatever the lake lost, below the old floor too.
    await lake.resync.start('account');
    await lake.applyBatch(account, { upserts: [goneBeforeToken], deletes: [] });
    expect((await liveAccounts(container)).has(goneBeforeToken.id.toLowerCase())).toBe(true);
    await lake.close();
    await other.close();
  });

  it('lets a delete win over an upsert of its own version redelivered after it', async () => {
    let now = new Date('2026-03-04T05:06:07Z');
    const { container, lake } = open(mode, () => now);
    await lake.ensureTables([account], []);
    const row = accountUpsert(40, 700);
    await lake.applyBatch(account, { upserts: [row], deletes: [] });
    // The delete's version is the watermark of the token that saw the row go: here the row's last version.
    now = new Date(now.getTime() + 60_000);
    await lake.applyBatch(account, { upserts: [], deletes: [{ id: row.id, versionNumber: 700 }] });
    // The first batch is delivered again a minute later (its completion was lost).
    now = new Date(now.getTime() + 60_000);
    expect(await lake.applyBatch(account, { upserts: [row], deletes: [] })).toMatchObject({
      upserted: 0,
      skippedAsStale: 1,
    });
    // And in one batch: the upsert and the delete of the same version, the delete written last.
    const both = accountUpsert(41, 710);
    await lake.applyBatch(account, { upserts: [both], deletes: [{ id: both.id, versionNumber: 710 }] });
    const live = await liveAccounts(container);
    expect(live.has(row.id.toLowerCase())).toBe(false);
    expect(live.has(both.id.toLowerCase())).toBe(false);
    await lake.close();
  });
});
