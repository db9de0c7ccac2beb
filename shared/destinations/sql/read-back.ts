/**
 * Reading a destination's tables back, normalised so both dialects answer the same: the local host's verification
 * (local/verify.ts) and the tests compare them with the source. Not part of the sync itself.
 */
import { prefixed } from '../../schema/identifiers';
import type { SqlValue } from '../../schema/row-values';
import type { ColumnType } from '../../schema/table-model';
import { ExportError } from '../../errors';
import { existingColumns, tableRef, type SqlContext } from './context';

export type DestinationRow = Record<string, SqlValue>;

const TABLE_NAME = /^[A-Za-z0-9_]+$/;

/** A driver value as text: strings and numbers as they are, buffers decoded, anything else as JSON (never '[object Object]'). */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (Buffer.isBuffer(value)) return value.toString();
  return JSON.stringify(value);
}

/** Normalises driver values so both dialects read back the same thing (lower-case GUIDs, ISO UTC times, numbers). */
function normalise(value: unknown, type: ColumnType | undefined): SqlValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  switch (type?.kind) {
    case 'guid':
      return textOf(value).toLowerCase();
    case 'int':
    case 'bigint':
    case 'decimal':
      return Number(value);
    case 'datetime':
      return new Date(`${textOf(value).replace(' ', 'T')}Z`).toISOString();
    default:
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? value
        : textOf(value);
  }
}

/** Rows in the DES table of a Dataverse table. */
export async function countRows(context: SqlContext, logicalName: string): Promise<number> {
  const { rows } = await context.connection.query(
    context.dialect.countRows(tableRef(context, prefixed(context.prefix, logicalName))),
  );
  return Number(rows[0]?.rows ?? 0);
}

/** All rows of any table of the profile by destination name (e.g. `crm_DeleteLog`), ordered by its first column. */
export async function readTable(context: SqlContext, tableName: string): Promise<DestinationRow[]> {
  const { schema } = context;
  if (!TABLE_NAME.test(tableName)) {
    throw new ExportError('config', `Table name ${JSON.stringify(tableName.slice(0, 60))} is not allowed.`, {
      where: 'tableName',
    });
  }
  const columns = await existingColumns(context, tableName);
  if (columns.length === 0) {
    throw new ExportError('schema', `Destination table ${schema}.${tableName} does not exist.`, {
      where: `${schema}.${tableName}`,
    });
  }
  const types = new Map(columns.map((column) => [column.name, column.type]));
  const { rows } = await context.connection.query(context.dialect.selectAll(tableRef(context, tableName)));
  const result = rows.map((row) =>
    Object.fromEntries(Object.entries(row).map(([name, value]) => [name, normalise(value, types.get(name))])),
  );
  const first = columns[0]?.name ?? '';
  return result.sort((a, b) => String(a[first]).localeCompare(String(b[first]), 'en', { numeric: true }));
}
