import { describe, expect, it } from 'vitest';
import { createLakeDestination, type LakeTarget } from '../../shared/destinations/lake/destination';
import { dfsRoot } from '../../shared/destinations/lake/paths';
import { sampleCounts, sampleRow, sampleTable, sampleTables, toWebApiRow } from '../../local/sample-org';
import { useAzurite } from '../support/azurite';
import { interceptWrites } from './intercept';
import { csvProblems, modelProblems, parseCsv } from './lake-checks';
import { readBlob, readLikeCdmUtil } from './lake-readers';
import { applyChanges, differences, initialSync } from './sample-sync';

const azurite = useAzurite();
const target: LakeTarget = {
  mode: 'inPlace',
  granularity: 'Month',
  incrementalIntervalMinutes: 60,
  snapshotIntervalMinutes: 60,
};
const HOUR = 3_600_000;
let containers = 0;

function open() {
  const container = azurite.clients.blobs.getContainerClient(`inplace-${++containers}`);
  return {
    container,
    destination: createLakeDestination(container, target),
    root: dfsRoot(container.url, container.accountName, container.containerName),
  };
}

describe('lake destination, in-place with snapshots', () => {
  it('keeps the latest state in partition files; CDMUtil reads it from complete, unchanging snapshots', async () => {
    const { container, destination, root } = open();
    const t0 = new Date('2026-01-02T03:00:00Z');
    const source = await initialSync(destination, t0);
    // Before the first snapshot, the root model.json points at nothing for partitioned tables.
    const before = JSON.parse((await readBlob(container, 'model.json')) ?? '{}');
    expect(before.entities.find((entity: { name: string }) => entity.name === 'account').partitions).toEqual([]);

    const first = await destination.writeSnapshots(t0);
    // systemuserroles and activityparty have no createdon: always append-only, never snapshotted (docs/reference/lake-format.md §6).
    expect(first.written.map((entry) => entry.table).sort()).toEqual([
      'account',
      'contact',
      'email',
      'opportunity',
      'role',
      'systemuser',
    ]);
    const firstSnapshot = new Map<string, string>();
    for (const entry of first.written)
      for (const file of entry.files) firstSnapshot.set(file, (await readBlob(container, file)) ?? '');
    const firstModel = (await readBlob(container, 'model.json')) ?? '';

    const batches = await applyChanges(destination, source);
    expect(batches.account?.deletes).toHaveLength(2);
    // Not due yet: nothing new, and the root still names the first snapshot.
    expect((await destination.writeSnapshots(new Date(t0.getTime() + HOUR / 2))).written).toEqual([]);
    expect(await readBlob(container, 'model.json')).toBe(firstModel);

    const second = await destination.writeSnapshots(new Date(t0.getTime() + HOUR));
    // Only tables that changed get a new snapshot.
    expect(second.written.map((entry) => entry.table).sort()).toEqual(['account', 'contact']);
    // A reader that opened the first snapshot still finds exactly the bytes it started with.
    for (const [file, text] of firstSnapshot) expect(await readBlob(container, file)).toBe(text);

    const modelText = (await readBlob(container, 'model.json')) ?? '';
    expect(modelProblems(modelText, { containerRoot: root, requireCompleted: true })).toEqual([]);
    const model = JSON.parse(modelText);
    const cdmUtil = await readLikeCdmUtil(container, root);
    for (const table of sampleTables) {
      const entity = model.entities.find((candidate: { name: string }) => candidate.name === table.logicalName);
      const { rows, files } = cdmUtil.get(table.logicalName) ?? { rows: [], files: [] };
      for (const file of files)
        expect(csvProblems((await readBlob(container, file)) ?? '', entity.attributes)).toEqual([]);
      const ids = rows.map((row) => row.Id ?? '');
      if (table.columns.some((column) => column.logicalName === 'createdon')) {
        // Snapshot rows are the state itself: one row per Id, no IsDelete rows, nothing to dedupe.
        expect(new Set(ids).size, table.logicalName).toBe(ids.length);
        expect(rows.some((row) => row.IsDelete === 'True')).toBe(false);
        expect(files.every((file) => file.startsWith(`${table.logicalName}/Snapshot/`))).toBe(true);
      }
      const latest = new Map(rows.filter((row) => row.IsDelete !== 'True').map((row) => [row.Id ?? '', row]));
      if (table.logicalName === 'systemuserroles')
        for (const remove of batches.systemuserroles?.deletes ?? []) latest.delete(remove.id);
      expect(differences(table, latest, source.get(table.logicalName) ?? new Map())).toEqual([]);
    }
    await destination.close();
  });

  it('never goes back in time: stale upserts, redeliveries and late upserts of deleted rows are skipped', async () => {
    const { container, destination } = open();
    const account = sampleTable('account');
    await destination.ensureTables([account], []);
    const row = (versionNumber: number, name: string) => {
      const webApiRow = toWebApiRow(account, sampleRow('account', 1, 1, sampleCounts(10)), {
        versionNumber,
        annotations: true,
      });
      webApiRow.name = name;
      return { kind: 'upsert' as const, id: String(webApiRow.accountid), versionNumber, row: webApiRow };
    };
    const id = row(1, '').id;
    expect(await destination.applyBatch(account, { upserts: [row(10, 'ten')], deletes: [] })).toMatchObject({
      upserted: 1,
      skippedAsStale: 0,
    });
    expect(
      await destination.applyBatch(account, { upserts: [row(9, 'nine'), row(10, 'ten again')], deletes: [] }),
    ).toMatchObject({ upserted: 0, skippedAsStale: 2 });
    expect(await destination.applyBatch(account, { upserts: [], deletes: [{ id, versionNumber: 5 }] })).toMatchObject({
      deleted: 0,
      skippedAsStale: 1,
    });

    // A fresh destination object (another instance) reads the state from the lake, not from memory.
    const other = createLakeDestination(container, target);
    expect(await other.applyBatch(account, { upserts: [], deletes: [{ id, versionNumber: 12 }] })).toMatchObject({
      deleted: 1,
    });
    expect(await destination.applyBatch(account, { upserts: [row(11, 'late')], deletes: [] })).toMatchObject({
      upserted: 0,
      skippedAsStale: 1,
    });
    expect(await destination.applyBatch(account, { upserts: [row(13, 'recreated')], deletes: [] })).toMatchObject({
      upserted: 1,
    });

    const files: string[] = [];
    for await (const item of container.listBlobsByHierarchy('/', { prefix: 'account/' }))
      if (item.kind === 'blob') files.push(item.name);
    expect(files).toHaveLength(1);
    const text = (await readBlob(container, files[0] ?? '')) ?? '';
    expect(parseCsv(text)).toHaveLength(1);
    expect(text).toContain('"recreated"');
    await destination.close();
    await other.close();
  });

  it('refuses to guess when its state or a partition file is not what it wrote', async () => {
    const { container, destination } = open();
    const account = sampleTable('account');
    await destination.ensureTables([account], []);
    const upsert = () => {
      const webApiRow = toWebApiRow(account, sampleRow('account', 1, 1, sampleCounts(10)), {
        versionNumber: 3,
        annotations: true,
      });
      return {
        upserts: [{ kind: 'upsert' as const, id: String(webApiRow.accountid), versionNumber: 3, row: webApiRow }],
        deletes: [],
      };
    };
    await container.getBlockBlobClient('dataverse-export-state/account.json').upload('{"tombstones": 1}', 17);
    await expect(destination.applyBatch(account, upsert())).rejects.toMatchObject({
      errorClass: 'schema',
      where: 'dataverse-export-state/account.json',
    });
    await container.getBlockBlobClient('dataverse-export-state/account.json').upload('{"tombstones": {}}', 18);
    await container.getBlockBlobClient('account/2020.csv').upload('"unterminated', 13);
    await expect(createLakeDestination(container, target).applyBatch(account, upsert())).rejects.toMatchObject({
      errorClass: 'schema',
      where: 'account/2020.csv',
    });
  });

  it('keeps a delete from another instance when it races a late create of the same row', async () => {
    const container = azurite.clients.blobs.getContainerClient(`inplace-${++containers}`);
    const account = sampleTable('account');
    const upsert = (index: number, versionNumber: number) => {
      const row = toWebApiRow(account, sampleRow('account', index, 7, sampleCounts(20)), {
        versionNumber,
        annotations: true,
      });
      return { kind: 'upsert' as const, id: String(row.accountid), versionNumber, row };
    };
    const first = createLakeDestination(container, target);
    await first.ensureTables([account], []);
    await first.applyBatch(account, { upserts: [upsert(0, 10)], deletes: [] });
    // The second instance has read the table and is about to write a create (v50) delivered late ...
    let release = () => undefined as void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached = () => undefined as void;
    const atWrite = new Promise<void>((resolve) => (reached = resolve));
    const second = createLakeDestination(
      interceptWrites(
        container,
        (name) => name.startsWith('account/'),
        async () => {
          reached();
          await held;
        },
      ),
      target,
    );
    const late = upsert(1, 50);
    const lateApply = second.applyBatch(account, { upserts: [late], deletes: [] });
    await atWrite;
    // ... when the first applies the row's delete (v60).
    const deleteApply = first.applyBatch(account, { upserts: [], deletes: [{ id: late.id, versionNumber: 60 }] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    await Promise.all([lateApply, deleteApply]);
    const ids: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: 'account/' })) {
      if (blob.name.split('/').length === 2)
        ids.push(...parseCsv((await readBlob(container, blob.name)) ?? '').map((record) => record[0]?.value ?? ''));
    }
    expect(ids).toContain(upsert(0, 10).id.toLowerCase());
    expect(ids).not.toContain(late.id.toLowerCase());
  });
});
