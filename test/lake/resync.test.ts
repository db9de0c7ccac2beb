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
const WATERMARK = 200;
let containers = 0;

function accountUpsert(index: number, versionNumber: number, name?: string): RowUpsert {
  const row: WebApiRow = toWebApiRow(account, sampleRow('account', index, 3, counts), {
    versionNumber,
    annotations: true,
  });
  if (name) row.name = name;
  return { kind: 'upsert', id: String(row.accountid), versionNumber, row };
}
const idOf = (index: number): string => accountUpsert(index, 1).id.toLowerCase();

/** Every record of `account` in the container's live files (any time folder, never snapshots), newest per Id, deletes dropped. */
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

describe.each<LakeMode>(['appendOnly', 'inPlace', 'incremental'])(
  'lake destination, full resync in %s mode',
  (mode) => {
    it('deletes at the end of the resync the rows it did not copy, keeps newer ones, and a repeated sweep changes nothing', async () => {
      const container = azurite.clients.blobs.getContainerClient(`resync-${mode.toLowerCase()}-${++containers}`);
      // Through the port, as the pipeline holds it: the sweep's deletes take the maintenance lock like any apply.
      const lake = createLakeDestination(container, {
        mode,
        granularity: 'Year',
        incrementalIntervalMinutes: 60,
        snapshotIntervalMinutes: 60,
      });
      await lake.ensureTables([account], []);
      const initial = Array.from({ length: 10 }, (_, index) => accountUpsert(index, 100 + index));
      await lake.applyBatch(account, { upserts: initial, deletes: [] });
      // Deleted through the change feed before the token expired; changed after the resync began (a newer version).
      await lake.applyBatch(account, {
        upserts: [accountUpsert(8, 300, 'changed after the resync began')],
        deletes: [{ id: idOf(9), versionNumber: 150 }],
      });

      // The resync copies rows 0–5 again in two pages; 6 and 7 were deleted in Dataverse while the token was expired.
      await lake.resync.start('account');
      for (const page of [
        [0, 1, 2],
        [3, 4, 5],
      ]) {
        await lake.applyBatch(account, {
          upserts: page.map((index) => accountUpsert(index, 160 + index)),
          deletes: [],
        });
        await lake.resync.markSeen(
          'account',
          page.map((index) => accountUpsert(index, 1).id.toUpperCase()),
        );
      }
      expect(await lake.resync.sweep(account, WATERMARK)).toBe(2);

      const live = await liveAccounts(container);
      expect([...live.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5, 8].map(idOf).sort());
      expect(live.get(idOf(8))?.name).toBe('changed after the resync began');
      expect(live.get(idOf(0))?.versionnumber).toBe('160');
      // Swept rows go the way the mode writes deletes: an IsDelete record at the watermark, or gone from the partition.
      expect(await lake.resync.sweep(account, WATERMARK)).toBe(0);
      expect([...(await liveAccounts(container)).keys()].sort()).toEqual([...live.keys()].sort());

      // A new resync forgets what the last one saw.
      await lake.resync.start('account');
      const seenBlobs: string[] = [];
      for await (const blob of container.listBlobsFlat({ prefix: 'dataverse-export-state/resync/' }))
        seenBlobs.push(blob.name);
      expect(seenBlobs).toEqual([]);
      await lake.close();
    });
  },
);
