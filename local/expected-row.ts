/**
 * What a destination must hold for a source row, column by column, and the one text form both sides are
 * compared in. The expected side starts from the row as the Web API returns it with annotations (what the
 * product reads); which property feeds which column is the table model's (shared/schema/table-model.ts),
 * but the values are taken here on their own, so a mapping or a read that loses a value shows.
 */
import type { WebApiRow } from '../shared/dataverse/changes';
import type { TableMetadata } from '../shared/dataverse/metadata';
import { plainNumber } from '../shared/schema/plain-number';
import { buildTableModel, type ColumnSource, type ColumnType } from '../shared/schema/table-model';

/** A value in its compared form; null for SQL NULL / an empty CSV field. */
export type Cell = string | null;

/** Where a destination is read back: SQL keeps '' apart from NULL; a CSV reader cannot (both are an empty field). */
export type DestinationKind = 'sql' | 'lake';

export interface CheckedColumn {
  name: string;
  type: ColumnType;
  source: ColumnSource;
}

/** Every column of the table model whose value comes from the row (sink timestamps are the destination's own). */
export function checkedColumns(table: TableMetadata): CheckedColumn[] {
  return buildTableModel(table, '').columns.filter((column) => column.source.kind !== 'sinkTime');
}

const absent = (value: unknown): boolean => value === null || value === undefined;

/**
 * The value a column takes from the row, by DES's conventions: a lookup is its id (`_x_value`) and
 * `<lookup>_entitytype` / `owneridtype` its `lookuplogicalname` annotation, null when the lookup is empty.
 */
export function sourceValue(source: ColumnSource, id: string, version: number, row: WebApiRow): unknown {
  switch (source.kind) {
    case 'id':
      return id;
    case 'version':
      return version;
    case 'property':
      return row[source.property];
    case 'lookupTable':
      return absent(row[source.property]) ? null : row[source.annotation];
    case 'sinkTime':
      return undefined;
  }
}

const unreadable = (value: unknown): string => `unreadable ${JSON.stringify(value) ?? String(value)}`;

/**
 * A decimal as plain text with exactly `scale` digits after the point, rounded half away from zero as
 * PostgreSQL and SQL Server round text converted to numeric(p, s).
 */
export function decimalText(value: unknown, scale: number): string {
  const text = typeof value === 'number' ? plainNumber(value) : String(value).trim();
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (match[2] === '' && !match[3])) return unreadable(value);
  const [, sign, whole, fraction = ''] = match;
  let digits = BigInt(`${whole || '0'}${fraction.padEnd(scale, '0').slice(0, scale)}`);
  if ((fraction[scale] ?? '0') >= '5') digits += 1n;
  const padded = digits.toString().padStart(scale + 1, '0');
  const unsigned = scale > 0 ? `${padded.slice(0, -scale)}.${padded.slice(-scale)}` : padded;
  return sign === '-' && digits !== 0n ? `-${unsigned}` : unsigned;
}

function integerText(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? plainNumber(value) : unreadable(value);
  if (typeof value === 'bigint') return value.toString();
  const text = String(value).trim();
  return /^[+-]?\d+$/.test(text) ? BigInt(text).toString() : unreadable(value);
}

function booleanText(value: unknown): string {
  if (value === true || value === 1) return 'true';
  if (value === false || value === 0) return 'false';
  const text = String(value).trim().toLowerCase();
  return text === 'true' || text === '1' ? 'true' : text === 'false' || text === '0' ? 'false' : unreadable(value);
}

/** ISO UTC to the millisecond; a date-time without a zone is UTC (DES stores UTC; PostgreSQL `timestamp` has no zone). */
function dateTimeText(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  const text = String(value).trim().replace(' ', 'T');
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(text) || /^\d{4}-\d{2}-\d{2}$/.test(text) ? text : `${text}Z`;
  // JavaScript keeps milliseconds only; .NET writes 7 fraction digits (the lake's dateTimeOffset).
  const time = Date.parse(zoned.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(time) ? unreadable(value) : new Date(time).toISOString();
}

/** One value in its compared form for a column type. */
export function cell(type: ColumnType, value: unknown, kind: DestinationKind): Cell {
  if (absent(value)) return null;
  switch (type.kind) {
    case 'guid':
      return String(value).toLowerCase();
    case 'int':
    case 'bigint':
      return integerText(value);
    case 'decimal':
      return decimalText(value, type.scale);
    case 'bit':
      return booleanText(value);
    case 'datetime':
      return dateTimeText(value);
    case 'string': {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      return kind === 'lake' && text === '' ? null : text;
    }
  }
}
