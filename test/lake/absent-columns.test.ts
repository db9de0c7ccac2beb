/**
 * A column added while in delta, in an in-place lake table: a batch polled before the attribute existed carries rows
 * without its property, and their upsert must keep the row's value of that column (absent = keep; null = empty).
 */
import type { ContainerClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import type { RowUpsert, WebApiRow } from '../../shared/dataverse/changes';
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { createLakeDestination } from '../../shared/destinations/lake/destination';
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

async function liveAccounts(container: ContainerClient): Promise<Map<string, LakeRow>> {
  const model = JSON.parse((await readBlob(container, 'model.json')) ?? '{}') as {
    entities: Array<{ name: string; attributes: Array<{ name: string; dataType: string }> }>;
  };
  const attributes = model.entities.find((entity) => entity.name === 'account')?.attributes ?? [];
  const rows: LakeRow[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: 'account/' }))
    if (/^account\/[^/]+\.csv$/.test(blob.name))
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
