import type { ContainerClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import {
  createLakeDestination,
  type LakeDestination,
  type LakeTarget,
} from '../../shared/destinations/lake/destination';
import { dfsRoot } from '../../shared/destinations/lake/paths';
import { sampleTable, sampleTables, toWebApiRow, sampleRow, sampleCounts } from '../../local/sample-org';
import type { WebApiRow } from '../../shared/dataverse/changes';
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { useAzurite } from '../support/azurite';
import { interceptWrites } from './intercept';
import { csvProblems, modelProblems } from './lake-checks';
import { latestRows, readBlob, readLikeCdmUtil, readLikeDataverseToSql, rowsOf } from './lake-readers';
import { applyChanges, differences, initialSync, type SourceState } from './sample-sync';

const azurite = useAzurite();
const target: LakeTarget = {
  mode: 'appendOnly',
  granularity: 'Year',
  incrementalIntervalMinutes: 60,
  snapshotIntervalMinutes: 60,
};
const completedAt = new Date('2026-01-02T03:04:05Z');
let containers = 0;

function open(): { container: ContainerClient; destination: LakeDestination; root: string } {
  const container = azurite.clients.blobs.getContainerClient(`append-${++containers}`);
  return {
    container,
    destination: createLakeDestination(container, target),
    root: dfsRoot(container.url, container.accountName, container.containerName),
  };
}

function checkAgainstSource(
  tables: Map<string, Map<string, Record<string, string | null>>>,
  model: { entities: Array<{ name: string; attributes: Array<{ name: string; dataType: string }> }> },
  source: SourceState,
) {
  for (const table of sampleTables) {
    const entity = model.entities.find((candidate) => candidate.name === table.logicalName);
    expect(entity, table.logicalName).toBeDefined();
    expect(
      differences(table, tables.get(table.logicalName) ?? new Map(), source.get(table.logicalName) ?? new Map()),
    ).toEqual([]);
  }
}

describe('lake destination, append-only', () => {
  it('syncs the sample org and applies changes so DataverseToSql and CDMUtil read the source back', async () => {
    const { container, destination, root } = open();
    const source = await initialSync(destination, completedAt);
    const batches = await applyChanges(destination, source);
    const model = JSON.parse((await readBlob(container, 'model.json')) ?? '{}');
    expect(modelProblems(JSON.stringify(model), { containerRoot: root, requireCompleted: true })).toEqual([]);

    checkAgainstSource(await readLikeDataverseToSql(container), model, source);
    const cdmUtil = await readLikeCdmUtil(container, root);
    checkAgainstSource(new Map([...cdmUtil].map(([table, { rows }]) => [table, latestRows(rows)])), model, source);

    // Every change is a record: deletes are IsDelete rows carrying the delete's version, nothing is rewritten.
    const accountRows = cdmUtil.get('account')?.rows ?? [];
    const deletes = batches.account?.deletes ?? [];
    for (const remove of deletes) {
      expect(accountRows).toContainEqual(
        expect.objectContaining({ Id: remove.id, IsDelete: 'True', versionnumber: String(remove.versionNumber) }),
      );
    }
    for (const entity of model.entities) {
      for (const partition of entity.partitions) {
        const text = (await readBlob(container, `${entity.name}/${partition.name}.csv`)) ?? '';
        expect(csvProblems(text, entity.attributes)).toEqual([]);
      }
    }
    // Tables without createdon are unpartitioned: one file named 1.
    expect(
      model.entities
        .find((entity: { name: string }) => entity.name === 'systemuserroles')
        .partitions.map((partition: { name: string }) => partition.name),
    ).toEqual(['1']);

    // The check reads values, not only versions: one field written wrong in a partition file is reported by id and column.
    const accounts = source.get('account') ?? new Map<string, WebApiRow>();
    const [id, row] =
      [...accounts].find(([, candidate]) => typeof candidate.name === 'string' && candidate.name.length > 0) ?? [];
    if (!id || !row) throw new Error('no named account');
    const account = model.entities.find((entity: { name: string }) => entity.name === 'account') as {
      partitions: Array<{ name: string }>;
    };
    for (const partition of account.partitions) {
      const path = `account/${partition.name}.csv`;
      const text = (await readBlob(container, path)) ?? '';
      if (!text.includes(id)) continue;
      const lines = text
        .split('\n')
        .map((line) => (line.includes(id) ? line.replace(`"${String(row.name)}"`, '"written wrong"') : line));
      const body = lines.join('\n');
      await container.getBlockBlobClient(path).upload(body, Buffer.byteLength(body));
    }
    const corrupted = (await readLikeDataverseToSql(container)).get('account') ?? new Map();
    expect(differences(sampleTable('account'), corrupted, accounts)).toEqual([
      `account ${id.toLowerCase()} name: expected ${JSON.stringify(row.name)}, got "written wrong"`,
    ]);
    await destination.close();
  });

  it('never shows a reader part of a record, even mid-write of a large batch', async () => {
    const container = azurite.clients.blobs.getContainerClient(`append-${++containers}`);
    // Each Append Block after the first waits until the reader below has read the file once since the last one,
    // so the reads land between blocks however fast this machine is.
    let appends = 0;
    let readSinceAppend = true;
    const destination = createLakeDestination(
      interceptWrites(container, 'account/2024.csv', async () => {
        while (appends > 0 && !readSinceAppend) await new Promise((resolve) => setTimeout(resolve, 5));
        appends += 1;
        readSinceAppend = false;
      }),
      target,
    );
    const account = sampleTable('account');
    await destination.ensureTables([account], []);
    const counts = sampleCounts(5_000);
    // Long rows so the batch spans several Append Block calls.
    const upserts = Array.from({ length: 1_200 }, (_, index) => {
      const row = toWebApiRow(account, sampleRow('account', index, 3, counts), {
        versionNumber: 10 + index,
        annotations: true,
      });
      row.createdon = '2024-06-01T00:00:00Z';
      row.description = `${'x'.repeat(4_000)} "quoted",\n${index}`;
      return { kind: 'upsert' as const, id: String(row.accountid), versionNumber: 10 + index, row };
    });
    const entity = JSON.parse((await readBlob(container, 'model.json')) ?? '{}').entities[0];
    const writing = destination.applyBatch(account, { upserts, deletes: [] });
    const sizes: number[] = [];
    let done = false;
    void writing.finally(() => (done = true));
    while (!done) {
      const text = await readBlob(container, 'account/2024.csv');
      if (text) {
        // A torn record would leave an unbalanced quote or a short last row.
        expect(csvProblems(text, entity.attributes)).toEqual([]);
        sizes.push(text.length);
        // Only a read that found records counts: one that began before the first block landed saw nothing.
        readSinceAppend = true;
      }
    }
    const result = await writing;
    expect(result).toMatchObject({ upserted: 1_200, deleted: 0, failed: [] });
    const final = (await readBlob(container, 'account/2024.csv')) ?? '';
    expect(rowsOf(final, entity.attributes)).toHaveLength(1_200);
    expect(final.length).toBeGreaterThan(4 * 1024 * 1024);
    // At least one read happened before the last block landed.
    expect(sizes.some((size) => size < final.length)).toBe(true);
    expect(sizes.every((size, index) => index === 0 || size >= (sizes[index - 1] ?? 0))).toBe(true);
    await destination.close();
  });

  it('starts an overflow file when a partition file would pass the append blob block limit', async () => {
    const container = azurite.clients.blobs.getContainerClient(`append-${++containers}`);
    const destination = createLakeDestination(container, target, { maxAppendBlocks: 2 });
    const root = dfsRoot(container.url, container.accountName, container.containerName);
    const role = sampleTable('role');
    await destination.ensureTables([role], []);
    const batch = (index: number) => {
      const row = toWebApiRow(role, sampleRow('role', index, 1, sampleCounts(10)), {
        versionNumber: 100 + index,
        annotations: true,
      });
      row.createdon = '2024-02-03T04:05:06Z';
      return {
        upserts: [{ kind: 'upsert' as const, id: String(row.roleid), versionNumber: 100 + index, row }],
        deletes: [],
      };
    };
    for (let index = 0; index < 5; index++) await destination.applyBatch(role, batch(index));
    // A second instance finds the newest file and its block count in the lake.
    await createLakeDestination(container, target, { maxAppendBlocks: 2 }).applyBatch(role, batch(5));

    const model = JSON.parse((await readBlob(container, 'model.json')) ?? '{}');
    expect(model.entities[0].partitions.map((partition: { name: string }) => partition.name)).toEqual([
      '2024',
      '2024_001',
      '2024_002',
    ]);
    expect(modelProblems(JSON.stringify(model), { containerRoot: root })).toEqual([]);
    const cdmUtil = await readLikeCdmUtil(container, root);
    expect(cdmUtil.get('role')?.rows).toHaveLength(6);
    await destination.close();
  });

  it('appends new columns at the end; older rows stay ragged and still read', async () => {
    const { container, destination, root } = open();
    const role = sampleTable('role');
    await destination.ensureTables([role], []);
    const upsert = (table: TableMetadata, index: number, versionNumber: number) => {
      const row = toWebApiRow(table, sampleRow('role', index, 1, sampleCounts(10)), {
        versionNumber,
        annotations: true,
      });
      return { kind: 'upsert' as const, id: String(row.roleid), versionNumber, row };
    };
    await destination.applyBatch(role, { upserts: [upsert(role, 0, 1)], deletes: [] });
    const widened: TableMetadata = {
      ...role,
      columns: [
        ...role.columns,
        {
          ...(role.columns[1] as TableMetadata['columns'][number]),
          logicalName: 'sample_region',
          schemaName: 'Sample_Region',
          columnNumber: 99,
          isPrimaryName: false,
        },
      ],
    };
    const { actions } = await destination.ensureTables([widened], []);
    expect(actions).toContainEqual({ table: 'role', action: 'addColumn', column: 'sample_region', type: 'string' });
    const second = upsert(widened, 1, 2);
    second.row.sample_region = 'EMEA';
    await destination.applyBatch(widened, { upserts: [second], deletes: [] });

    const model = JSON.parse((await readBlob(container, 'model.json')) ?? '{}');
    const attributes = model.entities[0].attributes.map((attribute: { name: string }) => attribute.name);
    expect(attributes.slice(-2)).toEqual(['IsDelete', 'sample_region']);
    expect(modelProblems(JSON.stringify(model), { containerRoot: root })).toEqual([]);
    const cdmUtil = await readLikeCdmUtil(container, root);
    const rows = cdmUtil.get('role')?.rows ?? [];
    expect(rows.map((row) => row.sample_region)).toEqual([null, 'EMEA']);
    const file = (await readBlob(container, cdmUtil.get('role')?.files[0] ?? '')) ?? '';
    expect(csvProblems(file, model.entities[0].attributes, { ragged: true })).toEqual([]);
    await destination.close();
  });

  it('reports bad ids as failed rows and refuses tables that were never activated', async () => {
    const { destination } = open();
    const role = sampleTable('role');
    await expect(destination.applyBatch(role, { upserts: [], deletes: [] })).rejects.toMatchObject({
      errorClass: 'config',
    });
    await destination.ensureTables([role], []);
    const result = await destination.applyBatch(role, {
      upserts: [],
      deletes: [{ id: 'not-a-guid', versionNumber: 5 }],
    });
    expect(result.failed).toEqual([
      { id: 'not-a-guid', changeType: 'delete', reason: "Id 'not-a-guid' is not a GUID." },
    ]);
    const contact = sampleTable('contact');
    await expect(destination.applyBatch(contact, { upserts: [], deletes: [] })).rejects.toMatchObject({
      errorClass: 'schema',
    });
  });

  it('keeps a partition file another writer created meanwhile in model.json and the table manifest', async () => {
    const raw = azurite.clients.blobs.getContainerClient(`append-${++containers}`);
    const account = sampleTable('account');
    const upsert = (index: number, versionNumber: number, createdon: string) => {
      const row: WebApiRow = toWebApiRow(account, sampleRow('account', index, 7, sampleCounts(20)), {
        versionNumber,
        annotations: true,
      });
      row.createdon = createdon;
      return { kind: 'upsert' as const, id: String(row.accountid), versionNumber, row };
    };
    const first = createLakeDestination(raw, target);
    await first.ensureTables([account], []);
    await first.applyBatch(account, { upserts: [upsert(0, 10, '2022-05-01T00:00:00Z')], deletes: [] });
    // The second writer lists the files, then is held back just before it writes model.json.
    let release = () => undefined as void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached = () => undefined as void;
    const atWrite = new Promise<void>((resolve) => (reached = resolve));
    const second = createLakeDestination(
      interceptWrites(raw, 'model.json', async () => {
        reached();
        await held;
      }),
      target,
    );
    const secondApply = second.applyBatch(account, { upserts: [upsert(1, 11, '2022-06-01T00:00:00Z')], deletes: [] });
    await atWrite;
    // Meanwhile the first writer starts partition 2024.
    await first.applyBatch(account, { upserts: [upsert(2, 12, '2024-06-01T00:00:00Z')], deletes: [] });
    release();
    await secondApply;
    const partitions = async (path: string) =>
      (
        JSON.parse((await readBlob(raw, path)) ?? '{}') as {
          entities: Array<{ name: string; partitions: Array<{ name: string }> }>;
        }
      ).entities
        .find((entity) => entity.name === 'account')
        ?.partitions.map((partition) => partition.name)
        .sort();
    expect(await partitions('model.json')).toEqual(['2022', '2024']);
    expect(await partitions('Microsoft.Athena.TrickleFeedService/account-model.json')).toEqual(['2022', '2024']);
  });
});
