/**
 * What an appended table (append-only and incremental modes, in-place tables without `createdon`) must not write.
 * Its records are never rewritten, so readers keep the newest per Id; many order by `SinkModifiedOn` first, or break
 * a `versionnumber` tie with it (docs/reference/lake-format.md §5), so a record written *after* a row's delete wins
 * even at the delete's own version. Decided under the table's lock (`table-lock.ts`) from its state blob:
 * - an upsert at or below the newest delete of its Id (written earlier, or in the same batch) is stale;
 * - an upsert at or below the table's resync floor is stale. Unlike the in-place guard this cannot ask whether the
 *   row exists; it need not: a row that existed at the resync's watermark was copied by it at a version at or
 *   above this one, so the record adds nothing, and written later it would win those readers over the newer copy.
 * Deletes are recorded as tombstones in the state blob before their records are appended, so a batch redelivered
 * after a failed append still finds them.
 */
import type { ApplyBatch } from '../destination';
import type { LakeState } from './state';
import { etagOf, sameEtag, writeText } from './storage';
import type { TableLock } from './table-lock';
import { readTableState, type TableState } from './table-state';
import { tableStatePath } from './paths';

export interface GuardedBatch {
  batch: ApplyBatch;
  /** Upserts left out as stale. */
  stale: number;
}

type GuardState = Pick<LakeState, 'container' | 'tableStates'>;

/** The table's state blob as last read, read again only when its etag moved (another writer, a resync's floor). */
async function currentTableState(
  state: GuardState,
  table: string,
): Promise<{ state: TableState; etag: string | null }> {
  const cached = state.tableStates.get(table);
  if (cached) {
    const etag = await etagOf(state.container, tableStatePath(table));
    // Still no blob (a table with no deletes and no resync yet) is unchanged too: no download that only finds nothing.
    if (cached.etag === null ? etag === null : sameEtag(cached.etag, etag)) return cached;
  }
  const read = await readTableState(state.container, table);
  state.tableStates.set(table, read);
  return read;
}

/** Newest delete version per lower-case Id of the batch. */
function batchTombstones(batch: ApplyBatch): Map<string, number> {
  const newest = new Map<string, number>();
  for (const remove of batch.deletes) {
    const id = remove.id.toLowerCase();
    newest.set(id, Math.max(newest.get(id) ?? remove.versionNumber, remove.versionNumber));
  }
  return newest;
}

/** Under the table's lock: the batch without its stale upserts, after its deletes were recorded as tombstones. */
export async function guardAppendBatch(
  state: GuardState,
  table: string,
  batch: ApplyBatch,
  lock: TableLock,
): Promise<GuardedBatch> {
  const current = await currentTableState(state, table);
  const { tombstones, floor } = current.state;
  const deletes = batchTombstones(batch);
  const upserts = batch.upserts.filter((upsert) => {
    const id = upsert.id.toLowerCase();
    const deletedAt = Math.max(tombstones[id] ?? -Infinity, deletes.get(id) ?? -Infinity);
    return upsert.versionNumber > deletedAt && (floor === undefined || upsert.versionNumber > floor);
  });
  const newer = [...deletes].filter(([id, version]) => (tombstones[id] ?? -Infinity) < version);
  if (newer.length > 0) {
    const next: TableState = { ...current.state, tombstones: { ...tombstones, ...Object.fromEntries(newer) } };
    lock.check();
    try {
      const etag = await writeText(state.container, tableStatePath(table), JSON.stringify(next), current.etag);
      state.tableStates.set(table, { state: next, etag });
    } catch (error) {
      state.tableStates.delete(table);
      throw error;
    }
  }
  lock.check();
  return { batch: { upserts, deletes: batch.deletes }, stale: batch.upserts.length - upserts.length };
}
