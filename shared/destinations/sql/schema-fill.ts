/**
 * Back-filling columns a table gained while in delta: the rows already copied hold NULL in a new column, and a
 * change the applier mapped before it knew the column advanced the row's version without it. The back-fill reads
 * the new columns of every row from Dataverse and writes only them, guarded by version (dialect.fillColumns).
 */
import type { RowUpsert } from '../../dataverse/changes';
import type { TableMetadata } from '../../dataverse/metadata';
import { toExportError } from '../../errors';
import type { DestinationColumn } from '../../schema/table-model';
import type { SqlContext } from './context';
import type { Layouts } from './layout';

/** Writes `columns` (destination column names) of `rows` into existing rows; returns how many rows were written. */
export async function fillColumns(
  context: SqlContext,
  layouts: Layouts,
  table: TableMetadata,
  columns: string[],
  rows: RowUpsert[],
): Promise<number> {
  if (rows.length === 0 || columns.length === 0) return 0;
  const wanted = new Set(columns.map((name) => name.toLowerCase()));
  try {
    const layout = await layouts.layoutFor(table);
    const isFilled = (column: DestinationColumn): boolean =>
      column.source.kind === 'id' || column.source.kind === 'version' || wanted.has(column.name.toLowerCase());
    const filled = layout.supplied.filter(isFilled);
    if (!filled.some((column) => wanted.has(column.name.toLowerCase()))) return 0;
    const json = JSON.stringify(
      rows.map((row) => {
        const values = layout.values(row);
        return Object.fromEntries(filled.map((column) => [column.name, values[column.name] ?? null]));
      }),
    );
    const sql = context.dialect.fillColumns(layout.ref, filled);
    return await context.connection.transaction(async (session) => {
      // The apply's lock: a batch and a back-fill of the same table never interleave.
      await session.query(layout.lockSql, [`${context.schema}.${layout.ref.name}`]);
      return (await session.query(sql, [json])).rowCount;
    });
  } catch (error) {
    throw toExportError(error, context.dialect.classifyError(error));
  }
}
