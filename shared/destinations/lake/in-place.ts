/**
 * In-place writes: partition files hold each row's latest state. A batch is a read-modify-write of the table's
 * partitions and state blob, version-guarded (older rows, rows behind a tombstone and new rows at or below the
 * table's resync floor are stale) and done under the
 * table's lock (`table-lock.ts`), so the read of the live table and the writes are one step across instances.
 */
import type { RowUpsert } from '../../dataverse/changes';
import type { TableMetadata } from '../../dataverse/metadata';
import { ExportError } from '../../errors';
import type { ApplyBatch, ApplyResult, DeleteChange, FailedChange } from '../destination';
import { usDateTime } from './csv';
import { inPlaceTable } from './in-place-table';
import { absentFields, keepFields } from './kept-fields';
import { refreshTableModels } from './manifest';
import { orderedChanges, rowFailure } from './ordered-changes';
import { livePartitionPath, partitionName, tableStatePath } from './paths';
import type { InPlaceTable, LakeState, Layout, LiveRow } from './state';
import { writeText } from './storage';
import type { TableLock } from './table-lock';

/** One batch's changes to the live table, before they are written. */
export interface InPlaceEdit {
  live: InPlaceTable;
  /** The partition each live id is in. */
  where: Map<string, string>;
  /** Partitions to write. */
  dirty: Set<string>;
  stateChanged: boolean;
  upserted: number;
  deleted: number;
  stale: number;
  failed: FailedChange[];
}

export function startEdit(live: InPlaceTable, failed: FailedChange[]): InPlaceEdit {
  const where = new Map<string, string>();
  for (const [partition, contents] of live.partitions) for (const id of contents.rows.keys()) where.set(id, partition);
  return { live, where, dirty: new Set(), stateChanged: false, upserted: 0, deleted: 0, stale: 0, failed };
}

const currentRow = (edit: InPlaceEdit, id: string): { partition?: string; row?: LiveRow } => {
  const partition = edit.where.get(id);
  return { partition, row: partition === undefined ? undefined : edit.live.partitions.get(partition)?.rows.get(id) };
};

function applyUpsert(edit: InPlaceEdit, layout: Layout, upsert: RowUpsert, sinkTime: string): void {
  const id = upsert.id.toLowerCase();
  const tombstone = edit.live.state.tombstones[id];
  const { partition, row: current } = currentRow(edit, id);
  const { floor } = edit.live.state;
  if (
    (tombstone !== undefined && tombstone >= upsert.versionNumber) ||
    (current && current.version >= upsert.versionNumber) ||
    // Only a row the table lacks: an update stays under its own version guard (table-state.ts says why).
    (!current && floor !== undefined && upsert.versionNumber <= floor)
  ) {
    edit.stale += 1;
    return;
  }
  try {
    const encoded = layout.records.upsert(upsert, sinkTime);
    const fields = current
      ? keepFields(encoded.fields, absentFields(layout.columns, upsert), current.raw)
      : encoded.fields;
    if (current?.sinkCreatedOn) fields[1] = current.sinkCreatedOn;
    const target = partitionName(encoded.createdOn, layout.granularity);
    const record = layout.records.encode(fields);
    if (partition !== undefined && partition !== target) {
      edit.live.partitions.get(partition)?.rows.delete(id);
      edit.dirty.add(partition);
    }
    const contents = edit.live.partitions.get(target) ?? { etag: null, rows: new Map<string, LiveRow>() };
    contents.rows.delete(id);
    contents.rows.set(id, { version: upsert.versionNumber, sinkCreatedOn: fields[1] ?? null, raw: record });
    edit.live.partitions.set(target, contents);
    edit.where.set(id, target);
    edit.dirty.add(target);
    edit.upserted += 1;
  } catch (error) {
    if (!(error instanceof ExportError) || error.errorClass !== 'data') throw error;
    edit.failed.push(rowFailure(upsert.id, 'upsert', error));
  }
}

function applyDelete(edit: InPlaceEdit, remove: DeleteChange): void {
  const id = remove.id.toLowerCase();
  const tombstone = edit.live.state.tombstones[id];
  const { partition, row: current } = currentRow(edit, id);
  // A delete wins over the row version it saw go (its version is the delta token's watermark).
  if (current && current.version > remove.versionNumber) {
    edit.stale += 1;
    return;
  }
  if (tombstone === undefined || tombstone < remove.versionNumber) {
    edit.live.state.tombstones[id] = remove.versionNumber;
    edit.stateChanged = true;
  }
  if (current && partition !== undefined) {
    edit.live.partitions.get(partition)?.rows.delete(id);
    edit.where.delete(id);
    edit.dirty.add(partition);
    edit.deleted += 1;
  } else {
    edit.stale += 1;
  }
}

/** Writes the edit: tombstones first, so if a partition write fails a redelivered delete still finds its row and removes it. */
export async function writeEdit(
  state: Pick<LakeState, 'container' | 'inPlaceTables' | 'queues' | 'location' | 'target'>,
  name: string,
  layout: Layout,
  edit: InPlaceEdit,
): Promise<void> {
  const { live } = edit;
  try {
    if (edit.stateChanged)
      live.stateEtag = await writeText(
        state.container,
        tableStatePath(name),
        JSON.stringify(live.state),
        live.stateEtag,
      );
    let created = false;
    for (const partition of edit.dirty) {
      const contents = live.partitions.get(partition);
      if (!contents) continue;
      const text = [...contents.rows.values()].map((row) => row.raw).join('');
      created ||= contents.etag === null;
      contents.etag = await writeText(state.container, livePartitionPath(name, partition), text, contents.etag);
    }
    if (created) await refreshTableModels(state, name, layout);
  } catch (error) {
    // Our view of the table may now be behind another writer's; read it again on the retry.
    state.inPlaceTables.delete(name);
    throw error;
  }
}

/** Under the table's lock (`lock`): reads the live table, decides every change against it, then writes. */
export async function applyInPlace(
  state: Pick<LakeState, 'container' | 'inPlaceTables' | 'queues' | 'location' | 'target' | 'clock'>,
  table: TableMetadata,
  layout: Layout,
  batch: ApplyBatch,
  lock: TableLock,
): Promise<ApplyResult> {
  const name = table.logicalName;
  const failed: FailedChange[] = [];
  const live = await inPlaceTable(state, name, layout);
  const sinkTime = usDateTime(state.clock());
  const changes = orderedChanges(batch, failed);
  const edit = startEdit(live, failed);
  for (const change of changes) {
    if (change.kind === 'upsert') applyUpsert(edit, layout, change, sinkTime);
    else applyDelete(edit, change);
  }
  lock.check();
  await writeEdit(state, name, layout, edit);
  return { upserted: edit.upserted, deleted: edit.deleted, skippedAsStale: edit.stale, failed, widened: [] };
}
