/**
 * A column added while in delta, in an in-place lake table: a batch polled before the attribute existed carries rows
 * without its property, and their upsert must keep the row's value of that column (absent = keep; null = empty).
 * The schema refresh back-fills such a column (`fillColumns`) in every mode.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import type { RowUpsert, WebApiRow } from '../../shared/dataverse/changes';
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { createLakeDestination, type LakeMode } from '../../shared/destinations/lake/destination';
import { sampleCounts, sampleRow, sampleTable, toWebApiRow } from '../../local/sample-org';
import { useAzurite } from '../support/azurite';
import { latestRows, readBlob, rowsOf, type LakeRow } from './lake-readers';

const azurite = useAzurite();
const account = sampleTable('account');
const counts = sampleCounts(20);
const text = account.columns.find((column) => column.attributeType === 'String' && !column.isPrimaryName);
if (!text) throw new Error('The sample account has no plain text column.');
const extended: TableMetadata = {
  ...account,
  columns: [
    ...account.columns,
    {
      ...text,
      logicalName: 'new_region',
      schemaName: 'New_Region',
      metadataId: '12345678-1234-4234-8234-123456789012',
      maxLength: 100,
      columnNumber: 999,
    },
  ],
};
let containers = 0;

function accountUpsert(index: number, versionNumber: number, extra: WebApiRow = {}): RowUpsert {
  const row: WebApiRow = {
    ...toWebApiRow(account, sampleRow('account', index, 3, counts), { versionNumber, annotations: true }),
    ...extra,
  };
  return { kind: 'upsert', id: String(row.accountid), versionNumber, row };
}

/** Every record of `account` in the live files (any time folder, never snapshots), newest per Id, deletes dropped. */
async function liveAccounts(container: ContainerClient, mode: LakeMode = 'inPlace'): Promise<Map<string, LakeRow>> {
  const model = JSON.parse((await readBlob(container, 'model.json')) ?? '{}') as {
    entities: Array<{ name: string; attributes: Array<{ name: string; dataType: string }> }>;
  };
  const attributes = model.entities.find((entity) => entity.name === 'account')?.attributes ?? [];
  const rows: LakeRow[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: mode === 'incremental' ? '' : 'account/' }))
    if (/^(?:[^/]+\/)?account\/[^/]+\.csv$/.test(blob.name))
      rows.push(...rowsOf((await readBlob(container, blob.name)) ?? '', attributes));
  return latestRows(rows);
}

describe('lake in-place table, a column added while in delta', () => {
  it('keeps the value of a column whose property an upsert lacks, and empties it for a null', async () => {
    const container = azurite.clients.blobs.getContainerClient(`absent-${++containers}`);
    const lake = createLakeDestination(container, {
      mode: 'inPlace',
      granularity: 'Year',
      incrementalIntervalMinutes: 60,
      snapshotIntervalMinutes: 60,
    });
    await lake.ensureTables([account], []);
    await lake.applyBatch(account, { upserts: [accountUpsert(1, 10), accountUpsert(2, 10)], deletes: [] });
    await lake.ensureTables([extended], []);
    await lake.applyBatch(extended, {
      upserts: [accountUpsert(1, 20, { new_region: 'north' }), accountUpsert(2, 20, { new_region: 'south' })],
      deletes: [],
    });
    // Polled with the old $select before the attribute existed, applied after: no new_region property at all.
    await lake.applyBatch(extended, { upserts: [accountUpsert(1, 30, { name: 'renamed' })], deletes: [] });
    // A null is a value: the column is emptied.
    await lake.applyBatch(extended, { upserts: [accountUpsert(2, 30, { new_region: null })], deletes: [] });
    const live = await liveAccounts(container);
    const [first, second] = [accountUpsert(1, 1).id, accountUpsert(2, 1).id].map((id) => live.get(id.toLowerCase()));
    expect(first).toMatchObject({ name: 'renamed', versionnumber: '30', new_region: 'north' });
    expect(second).toMatchObject({ versionnumber: '30', new_region: null });
    await lake.close();
  });
});

describe.each<LakeMode>(['inPlace', 'appendOnly', 'incremental'])(
  'lake back-fill of a new column in %s mode',
  (mode) => {
    it('fills the column of rows standing at or below the read version, keeps their version, adds no row', async () => {
      const container = azurite.clients.blobs.getContainerClient(`fill-${mode.toLowerCase()}-${++containers}`);
      let now = new Date('2026-05-06T07:08:09Z');
      const lake = createLakeDestination(
        container,
        { mode, granularity: 'Year', incrementalIntervalMinutes: 60, snapshotIntervalMinutes: 60 },
        { clock: () => now },
      );
      await lake.ensureTables([account], []);
      const ids = [1, 2, 3, 4, 5].map((index) => accountUpsert(index, 1).id);
      await lake.applyBatch(account, {
        upserts: [accountUpsert(1, 10), accountUpsert(2, 10), accountUpsert(3, 10), accountUpsert(4, 20)],
        deletes: [],
      });
      await lake.applyBatch(account, { upserts: [], deletes: [{ id: ids[2]!, versionNumber: 15 }] });
      await lake.ensureTables([extended], []);
      now = new Date(now.getTime() + 60_000);
      // As the schema refresh reads them: id, version and the new attribute only.
      const read = (index: number, versionNumber: number, region: string | null): RowUpsert => ({
        kind: 'upsert',
        id: ids[index - 1]!,
        versionNumber,
        row: { accountid: ids[index - 1]!, versionnumber: versionNumber, new_region: region },
      });
      const filled = await lake.fillColumns(
        extended,
        ['new_region'],
        [
          read(1, 12, 'north'), // changed since its copy (12 > 10): filled, still at 10
          read(2, 10, null), // nothing to fill
          read(3, 16, 'gone'), // deleted in the lake
          read(4, 18, 'older'), // the lake holds a newer version
          read(5, 5, 'never copied'), // not in the lake: never inserted
        ],
      );
      expect(filled).toBe(1);
      const live = await liveAccounts(container, mode);
      expect([...live.keys()].sort()).toEqual([ids[0], ids[1], ids[3]].map((id) => id!.toLowerCase()).sort());
      expect(live.get(ids[0]!.toLowerCase())).toMatchObject({ versionnumber: '10', new_region: 'north' });
      expect(live.get(ids[1]!.toLowerCase())).toMatchObject({ new_region: null });
      expect(live.get(ids[3]!.toLowerCase())).toMatchObject({ versionnumber: '20', new_region: null });
      await lake.close();
    });
  },
);
