/**
 * The lake's back-fill of columns a table gained while in delta (the port's `fillColumns`, called by the schema
 * refresh with rows read again from Dataverse: id, version and the new attributes only). A row is filled only if its
 * newest state in the lake is at or below the read's version and not deleted; its version stays, so a newer change
 * still wins. In-place rows are rewritten; an appended table gets a copy of the row's newest record with the columns
 * filled, at the same version and a newer `SinkModifiedOn`, which wins the readers' tie-break (docs/reference/
 * lake-format.md §5). Done under the table's lock, so no change of the row is appended between the read and the copy.
 */
import type { RowUpsert } from '../../dataverse/changes';
import type { TableMetadata } from '../../dataverse/metadata';
import { ExportError } from '../../errors';
import { appendToPartition, folderFiles } from './append';
import { CREATED_ON, IS_DELETE, SINK_MODIFIED_ON } from './columns';
import { parsePartition, usDateTime } from './csv';
import { currentFolder, timeFolders } from './folders';
import { inPlaceTable } from './in-place-table';
import { startEdit, writeEdit } from './in-place';
import { recordFields } from './kept-fields';
import { refreshTableModels } from './manifest';
import { partitionName } from './paths';
import type { Fields } from './records';
import type { LakeState, Layout } from './state';
import { appendBlocks } from './append-blocks';
import { listCsv, readText } from './storage';
import type { TableLock } from './table-lock';
import { readTableState } from './table-state';

type FillState = Pick<
  LakeState,
  | 'container'
  | 'containerName'
  | 'inPlaceTables'
  | 'queues'
  | 'location'
  | 'target'
  | 'clock'
  | 'appendTargets'
  | 'maxAppendBlocks'
>;

/** `current` (a record's fields) with the `indexes` taken from the row; undefined when that changes nothing or a value is not valid. */
function filled(
  layout: Layout,
  current: Fields,
  row: RowUpsert,
  indexes: number[],
  sinkTime: string,
): Fields | undefined {
  let values: Fields;
  try {
    values = layout.records.upsert(row, sinkTime).fields;
  } catch (error) {
    // A value the lake cannot hold fails the row when its next change is applied; the back-fill leaves it.
    if (error instanceof ExportError && error.errorClass === 'data') return undefined;
    throw error;
  }
  const fields = layout.columns.map((_, index) => current[index] ?? null);
  // Nothing new (a null where the record has none): no rewrite, no copy of the row.
  if (indexes.every((index) => (values[index] ?? null) === fields[index])) return undefined;
  for (const index of indexes) fields[index] = values[index] ?? null;
  const modified = layout.columns.findIndex((column) => column.name === SINK_MODIFIED_ON);
  if (modified >= 0) fields[modified] = sinkTime;
  return fields;
}

async function fillInPlace(
  state: FillState,
  table: TableMetadata,
  layout: Layout,
  indexes: number[],
  rows: RowUpsert[],
  lock: TableLock,
): Promise<number> {
  const live = await inPlaceTable(state, table.logicalName, layout);
  const edit = startEdit(live, []);
  const sinkTime = usDateTime(state.clock());
  for (const row of rows) {
    const id = row.id.toLowerCase();
    const partition = edit.where.get(id);
    const contents = partition === undefined ? undefined : live.partitions.get(partition);
    const current = contents?.rows.get(id);
    if (!contents || !current || partition === undefined || current.version > row.versionNumber) continue;
    const fields = filled(layout, recordFields(current.raw), row, indexes, sinkTime);
    if (!fields) continue;
    contents.rows.set(id, { ...current, raw: layout.records.encode(fields) });
    edit.dirty.add(partition);
    edit.upserted += 1;
  }
  lock.check();
  await writeEdit(state, table.logicalName, layout, edit);
  return edit.upserted;
}

/** The newest record per lower-case Id across the table's files (all time folders in incremental mode). */
async function newestRecords(state: FillState, table: string, layout: Layout): Promise<Map<string, Fields>> {
  const folders =
    state.target.mode === 'incremental' ? (await timeFolders(state)).map((folder) => `${folder}/${table}`) : [table];
  const isDelete = layout.columns.findIndex((column) => column.name === IS_DELETE);
  const newest = new Map<string, { version: number; deleted: boolean; fields: Fields }>();
  for (const folder of folders) {
    for (const file of await listCsv(state.container, folder)) {
      for (const { raw } of parsePartition((await readText(state.container, file.path))?.text ?? '', file.path)) {
        const fields = recordFields(raw);
        const id = fields[0]?.toLowerCase();
        if (!id) continue;
        const version = Number(fields[layout.versionIndex]);
        const deleted = fields[isDelete] === 'True';
        const known = newest.get(id);
        // A tie goes to the delete: its version is the watermark of the token that saw the row go.
        if (!known || version > known.version || (version === known.version && (deleted || !known.deleted)))
          newest.set(id, { version, deleted, fields });
      }
    }
  }
  return new Map([...newest].filter(([, record]) => !record.deleted).map(([id, record]) => [id, record.fields]));
}

async function fillAppended(
  state: FillState,
  table: TableMetadata,
  layout: Layout,
  indexes: number[],
  rows: RowUpsert[],
  lock: TableLock,
): Promise<number> {
  const newest = await newestRecords(state, table.logicalName, layout);
  // A delete recorded whose record a failed append has not written yet (append-guard.ts writes tombstones first).
  const { tombstones } = (await readTableState(state.container, table.logicalName)).state;
  const sinkTime = usDateTime(state.clock());
  const createdOn = layout.columns.findIndex((column) => column.name === CREATED_ON);
  const byPartition = new Map<string, string[]>();
  let count = 0;
  for (const row of rows) {
    const id = row.id.toLowerCase();
    const current = newest.get(id);
    const version = Number(current?.[layout.versionIndex]);
    if (!current || version > row.versionNumber || (tombstones[id] ?? -Infinity) >= version) continue;
    const fields = filled(layout, current, row, indexes, sinkTime);
    if (!fields) continue;
    const partition = partitionName(createdOn < 0 ? null : fields[createdOn], layout.granularity);
    const records = byPartition.get(partition);
    if (records) records.push(layout.records.encode(fields));
    else byPartition.set(partition, [layout.records.encode(fields)]);
    count += 1;
  }
  const folder = folderFiles(
    state.container,
    state.target.mode === 'incremental'
      ? `${(await currentFolder(state)).folder}/${table.logicalName}`
      : table.logicalName,
  );
  lock.check();
  const created = await Promise.all(
    [...byPartition].map(([partition, records]) => appendToPartition(state, folder, partition, appendBlocks(records))),
  );
  if (created.includes(true) && state.target.mode !== 'incremental')
    await refreshTableModels(state, table.logicalName, layout);
  return count;
}

/** Writes `columns` of the rows that stand in the lake at or below each row's version; never adds a row. */
export async function fillColumns(
  state: FillState,
  table: TableMetadata,
  layout: Layout,
  columns: string[],
  rows: RowUpsert[],
  lock: TableLock,
): Promise<number> {
  const wanted = new Set(columns.map((name) => name.toLowerCase()));
  const indexes = layout.columns.flatMap((column, index) => (wanted.has(column.name.toLowerCase()) ? [index] : []));
  if (indexes.length === 0 || rows.length === 0) return 0;
  return layout.inPlace
    ? fillInPlace(state, table, layout, indexes, rows, lock)
    : fillAppended(state, table, layout, indexes, rows, lock);
}
