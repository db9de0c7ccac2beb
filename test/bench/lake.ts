/**
 * Lake export throughput: `--rows` (default 200,000) sample `account` rows as Web API rows, written through
 * the append-only lake destination into an in-memory Azurite in `--batch`-sized batches (default 5,000, the
 * initial-sync page size), next to a raw upload of the very same bytes (read back from the lake, untimed)
 * into fresh append blobs in 4 MiB blocks. The ratio shows what mapping, CSV encoding and bookkeeping cost
 * on top of moving the bytes: `lakeShareOfRawSpeed` is lake rows/s over raw-upload rows/s (issue 17's figure, target
 * ≥ 0.20) and `lakeToRawRatio` its inverse, the time ratio earlier runs recorded; `encodeOnlyRowsPerSecond` is the
 * mapping and encoding alone, up to the UTF-8 block bodies, without storage (target ≥ 100,000).
 */
import type { ContainerClient } from '@azure/storage-blob';
import type { WebApiRow } from '../../shared/dataverse/changes';
import { AppendBlocks } from '../../shared/destinations/lake/append-blocks';
import { lakeColumnsOf } from '../../shared/destinations/lake/columns';
import { usDateTime } from '../../shared/destinations/lake/csv';
import { createLakeDestination } from '../../shared/destinations/lake/destination';
import { partitionName } from '../../shared/destinations/lake/paths';
import { createRecordEncoder } from '../../shared/destinations/lake/records';
import { MAX_APPEND_BYTES } from '../../shared/destinations/lake/storage';
import { createStorageClients } from '../../shared/storage/clients';
import { startAzurite } from '../../local/azurite/azurite';
import { sampleTable } from '../../local/sample-org';
import { accountUpserts, option, seconds } from './sample-upserts';

async function download(container: ContainerClient, name: string): Promise<Buffer> {
  return container.getBlobClient(name).downloadToBuffer();
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const rows = option(args, 'rows', 200_000);
  const batchSize = option(args, 'batch', 5_000);
  const account = sampleTable('account');
  // Rows as the destination gets them: parsed from JSON (a Web API page, a queue message). Objects built key by key,
  // as the sample generator builds them, are dictionary-mode in V8 and slower to read than any row in production.
  const upserts = accountUpserts(rows).map((upsert) => ({
    ...upsert,
    row: JSON.parse(JSON.stringify(upsert.row)) as WebApiRow,
  }));

  // Mapping and CSV encoding alone, with the destination's own encoder: the CPU share of the lake path.
  const columns = lakeColumnsOf(account);
  const encoder = createRecordEncoder(columns);
  const encodeStarted = process.hrtime.bigint();
  const sinkTime = usDateTime(new Date());
  // The append path's per-row work (append.ts) up to the UTF-8 block bodies, storage left out.
  const blocks = new AppendBlocks();
  for (const upsert of upserts) {
    const { record, createdOn } = encoder.upsertRecord(upsert, sinkTime);
    if (partitionName(createdOn, 'Year')) blocks.add(record);
  }
  const encodeSeconds = seconds(encodeStarted);

  const azurite = await startAzurite({ inMemory: true });
  try {
    const { blobs } = createStorageClients({ kind: 'connectionString', connectionString: azurite.connectionString });
    const lake = blobs.getContainerClient('bench-lake');
    const destination = createLakeDestination(lake, {
      mode: 'appendOnly',
      granularity: 'Year',
      incrementalIntervalMinutes: 60,
      snapshotIntervalMinutes: 60,
    });
    await destination.ensureTables([account], []);
    const started = process.hrtime.bigint();
    for (let start = 0; start < upserts.length; start += batchSize) {
      const result = await destination.applyBatch(account, {
        upserts: upserts.slice(start, start + batchSize),
        deletes: [],
      });
      if (result.failed.length > 0) throw new Error(`${result.failed.length} rows failed: ${result.failed[0]?.reason}`);
    }
    const lakeSeconds = seconds(started);

    const files: Array<{ name: string; bytes: Buffer }> = [];
    for await (const item of lake.listBlobsFlat({ prefix: 'account/' }))
      files.push({ name: item.name, bytes: await download(lake, item.name) });
    const totalBytes = files.reduce((sum, file) => sum + file.bytes.length, 0);

    const raw = blobs.getContainerClient('bench-raw');
    await raw.create();
    const rawStarted = process.hrtime.bigint();
    for (const file of files) {
      const blob = raw.getAppendBlobClient(file.name);
      await blob.create();
      for (let offset = 0; offset < file.bytes.length; offset += MAX_APPEND_BYTES) {
        const block = file.bytes.subarray(offset, offset + MAX_APPEND_BYTES);
        await blob.appendBlock(block, block.length);
      }
    }
    const rawSeconds = seconds(rawStarted);
    await destination.close();
    return {
      rows,
      batchSize,
      partitionFiles: files.length,
      megabytes: Math.round((totalBytes / 2 ** 20) * 10) / 10,
      lakeSeconds: Math.round(lakeSeconds * 100) / 100,
      lakeRowsPerSecond: Math.round(rows / lakeSeconds),
      rawUploadSeconds: Math.round(rawSeconds * 100) / 100,
      rawUploadRowsPerSecond: Math.round(rows / rawSeconds),
      lakeToRawRatio: Math.round((lakeSeconds / rawSeconds) * 100) / 100,
      lakeShareOfRawSpeed: Math.round((rawSeconds / lakeSeconds) * 100) / 100,
      encodeOnlyRowsPerSecond: Math.round(rows / encodeSeconds),
    };
  } finally {
    await azurite.stop();
  }
}
