/**
 * Drives a lake destination like the pipeline does: the sample org's initial sync in pages, then a change
 * batch with updates, deletes, creates, a redelivered stale update and a late upsert of a deleted row.
 * Keeps the source's latest state so a reader's result can be compared with it row by row.
 */
import type { RowUpsert, WebApiRow } from '../../shared/dataverse/changes';
import type { TableMetadata } from '../../shared/dataverse/metadata';
import type { ApplyBatch } from '../../shared/destinations/destination';
import type { LakeDestination } from '../../shared/destinations/lake';
import { sampleCounts, sampleRelationships, sampleRow, sampleTables, toWebApiRow } from '../../local/sample-org';
import { etagVersion } from '../../shared/dataverse/client';
import { compareRows } from '../../local/verify';
import type { LakeRow } from './lake-readers';

const SEED = 7;
export const SAMPLE_ACCOUNTS = 20;
const PAGE = 25;

export type SourceState = Map<string, Map<string, WebApiRow>>;

let version = 1_000;

function upsertOf(table: TableMetadata, index: number, changed?: (row: WebApiRow) => void): RowUpsert {
  const versionNumber = ++version;
  const row = toWebApiRow(table, sampleRow(table.logicalName, index, SEED, sampleCounts(SAMPLE_ACCOUNTS)), {
    versionNumber,
    annotations: true,
  });
  changed?.(row);
  return { kind: 'upsert', id: String(row[primaryKey(table)]), versionNumber, row };
}

/** The primary key column (the intersect table's differs from `primaryIdAttribute`'s `<table>id` form). */
const primaryKey = (table: TableMetadata): string =>
  table.columns.find((column) => column.isPrimaryId)?.logicalName ?? table.primaryIdAttribute;

const tableNamed = (name: string): TableMetadata =>
  sampleTables.find((table) => table.logicalName === name) as TableMetadata;

export async function initialSync(destination: LakeDestination, completedAt: Date): Promise<SourceState> {
  await destination.ensureTables(sampleTables, sampleRelationships);
  const counts = sampleCounts(SAMPLE_ACCOUNTS);
  const source: SourceState = new Map();
  for (const table of sampleTables) {
    const rows = new Map<string, WebApiRow>();
    const total = counts[table.logicalName as keyof typeof counts];
    for (let start = 0; start < total; start += PAGE) {
      const upserts: RowUpsert[] = [];
      for (let index = start; index < Math.min(total, start + PAGE); index++) upserts.push(upsertOf(table, index));
      const result = await destination.applyBatch(table, { upserts, deletes: [] });
      if (result.failed.length > 0) throw new Error(`initial sync failed rows: ${JSON.stringify(result.failed)}`);
      for (const upsert of upserts) rows.set(upsert.id, upsert.row);
    }
    source.set(table.logicalName, rows);
  }
  await destination.completeInitialSync(
    sampleTables.map((table) => table.logicalName),
    completedAt,
  );
  return source;
}

/** Updates, deletes and creates on account, contact and the N:N table; returns what the batches were. */
export async function applyChanges(
  destination: LakeDestination,
  source: SourceState,
): Promise<Record<string, ApplyBatch>> {
  const batches: Record<string, ApplyBatch> = {};
  const counts = sampleCounts(SAMPLE_ACCOUNTS);
  for (const name of ['account', 'contact', 'systemuserroles']) {
    const table = tableNamed(name);
    const rows = source.get(name) as Map<string, WebApiRow>;
    const total = counts[name as keyof typeof counts];
    // A redelivery of an update older than everything the lake holds.
    const stale = { ...upsertOf(table, 1), versionNumber: 500 };
    const updated = [1, 2].map((index) =>
      upsertOf(table, index, (row) => {
        if (table.primaryNameAttribute) row[table.primaryNameAttribute] = `Renamed "${index}",\nsecond line`;
      }),
    );
    const deletedIds = [3, 4].map((index) => upsertOf(table, index).id);
    const watermark = ++version;
    const created = [total, total + 1].map((index) => upsertOf(table, index));
    // A late, older delivery of row 3, deleted in this batch: must not bring it back.
    const resurrection = { ...upsertOf(table, 3), versionNumber: watermark - 1 };
    const batch: ApplyBatch = {
      upserts: [...updated, ...created, stale, resurrection],
      deletes: deletedIds.map((id) => ({ id, versionNumber: watermark })),
    };
    const result = await destination.applyBatch(table, batch);
    if (result.failed.length > 0) throw new Error(`change batch failed rows: ${JSON.stringify(result.failed)}`);
    for (const upsert of [...updated, ...created]) rows.set(upsert.id, upsert.row);
    for (const id of deletedIds) rows.delete(id);
    batches[name] = batch;
  }
  return batches;
}

/**
 * Differences between the lake's rows of a table and the source, every column of the table model in its
 * compared form (local/verify.ts, the same check the pipeline and chaos tests use); [] when equal.
 */
export function differences(
  table: TableMetadata,
  lake: Map<string, LakeRow>,
  source: Map<string, WebApiRow>,
): string[] {
  const rows = new Map(
    [...source].map(([id, row]) => [id.toLowerCase(), { version: etagVersion(row['@odata.etag'], id), row }]),
  );
  const difference = compareRows(table, rows, lake, 'lake');
  return [
    ...difference.missingOrStale.map((id) => `${table.logicalName} ${id}: missing or at another version`),
    ...difference.extra.map((id) => `${table.logicalName} ${id}: not in the source`),
    ...difference.wrongValues,
    ...(difference.wrongValueCount > difference.wrongValues.length
      ? [`… ${difference.wrongValueCount} wrong values in all`]
      : []),
  ];
}
