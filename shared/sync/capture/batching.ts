/**
 * Turns Dataverse changes into queue batches.
 *
 * - Batch ids come from the content (table, ids, versions): a poll that re-reads the same delta after a
 *   crash sends identical batches with identical ids, which duplicate detection drops, while a batch with
 *   different content can never be mistaken for a duplicate and lost.
 * - Dataverse lists a delta's upserts first and its deletes last, not in the order they happened, and an
 *   upsert shows the row as it is now. So a delete for an id that the same delta also upserts is older than
 *   that upsert (the row was deleted and created again) and is dropped.
 * - Deletes carry the watermark of the delta's new token, which is above every version the deleted row ever
 *   had; older upserts arriving later are then rejected by the tombstone.
 */
import { createHash } from 'node:crypto';
import type { RowUpsert } from '../../dataverse/changes';
import { CHANGE_BATCH_SCHEMA_VERSION, type ChangeBatch } from '../../queue/change-batch';

export const MAX_ROWS_PER_BATCH = 1000;

export interface BatchSource {
  profile: string;
  table: string;
  readAt: Date;
  /** The profile's activation generation (shared/sync/wiring/services.ts), when its checkpoint has one. */
  generation?: string;
}

function batchId(source: BatchSource, kind: 'u' | 'd', keys: string[]): string {
  const hash = createHash('sha256').update(`${source.profile}\n${source.table}\n${kind}\n`);
  // A profile created again under the name reads the same pages again: its batches must not pass for the old one's.
  if (source.generation !== undefined) hash.update(`generation ${source.generation}\n`);
  for (const key of keys) hash.update(`${key}\n`);
  return `${kind}-${hash.digest('hex').slice(0, 40)}`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

/** Keeps the newest version of each row: a page may list a row more than once. */
export function latestById(upserts: readonly RowUpsert[]): RowUpsert[] {
  const latest = new Map<string, RowUpsert>();
  for (const upsert of upserts) {
    const known = latest.get(upsert.id);
    if (!known || upsert.versionNumber >= known.versionNumber) latest.set(upsert.id, upsert);
  }
  return [...latest.values()];
}

export function upsertBatches(
  source: BatchSource,
  upserts: readonly RowUpsert[],
  watermark: number,
  maxRows = MAX_ROWS_PER_BATCH,
): ChangeBatch[] {
  return chunks(latestById(upserts), maxRows).map((chunk) => ({
    schemaVersion: CHANGE_BATCH_SCHEMA_VERSION,
    profile: source.profile,
    table: source.table,
    batchId: batchId(
      source,
      'u',
      chunk.map((upsert) => `${upsert.id}@${upsert.versionNumber}`),
    ),
    watermark,
    upserts: chunk,
    deletes: [],
    attempt: 0,
    readAt: source.readAt.toISOString(),
    ...(source.generation === undefined ? {} : { generation: source.generation }),
  }));
}

/** Delete batches for a finished delta read: `upsertedIds` are the ids the same delta upserted. */
export function deleteBatches(
  source: BatchSource,
  deletedIds: Iterable<string>,
  upsertedIds: ReadonlySet<string>,
  watermark: number,
  maxRows = MAX_ROWS_PER_BATCH,
): ChangeBatch[] {
  const ids = [...new Set(deletedIds)].filter((id) => !upsertedIds.has(id));
  return chunks(ids, maxRows).map((chunk) => ({
    schemaVersion: CHANGE_BATCH_SCHEMA_VERSION,
    profile: source.profile,
    table: source.table,
    batchId: batchId(source, 'd', [`@${watermark}`, ...chunk]),
    watermark,
    upserts: [],
    deletes: chunk.map((id) => ({ id })),
    attempt: 0,
    readAt: source.readAt.toISOString(),
    ...(source.generation === undefined ? {} : { generation: source.generation }),
  }));
}
