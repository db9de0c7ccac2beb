/**
 * Synapse Link's CSV dialect (docs/reference/lake-format.md §3): no header, `,`, UTF-8, `\n`, one field per attribute,
 * strings and date-times quoted, everything else bare, nulls empty, `True`/`False`, invariant numbers and
 * the three date-time formats, embedded `"` doubled and line breaks kept inside quotes. Written by encodeRecord;
 * read back by csv-parse.
 */
import { parse } from 'csv-parse/sync';
import { ExportError } from '../../errors';
import type { SqlValue } from '../../schema/row-values';
import type { CdmDataType, LakeColumn } from './columns';
import { numberText } from './number-text';
import { isPlainWebApiDate, isPlainWebApiTime } from './web-api-time';

const quotedTypes: ReadonlySet<CdmDataType> = new Set(['string', 'dateTime', 'dateTimeOffset']);

/** A `dateTimeOffset` text's tail for a time with no fraction, in UTC. */
const PLAIN_TIME_OFFSET_SUFFIX = '.0000000+00:00';

const WEB_API_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

function invalid(value: SqlValue, column: LakeColumn): ExportError {
  return new ExportError(
    'data',
    `Value ${JSON.stringify(value)} of column ${column.name} is not a valid ${column.dataType}.`,
    {
      where: column.name,
      fix: 'Correct the value in Dataverse; the row is retried with its next change.',
    },
  );
}

function parseTime(value: SqlValue, column: LakeColumn): Date {
  // Date-only columns arrive as `YYYY-MM-DD`, which JavaScript already reads as UTC midnight.
  const time = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(time.getTime())) throw invalid(value, column);
  return time;
}

/** `M/d/yyyy h:mm:ss tt` in UTC, the form of `SinkCreatedOn`/`SinkModifiedOn` and the sync-time annotation. */
export function usDateTime(time: Date): string {
  const hours = time.getUTCHours();
  return `${time.getUTCMonth() + 1}/${time.getUTCDate()}/${time.getUTCFullYear()} ${hours % 12 || 12}:${pad(time.getUTCMinutes())}:${pad(time.getUTCSeconds())} ${hours < 12 ? 'AM' : 'PM'}`;
}

/** `yyyy-MM-ddTHH:mm:ss` and the milliseconds of a time (years 0–9999 have the 24-character ISO form). */
function isoParts(time: Date): { seconds: string; milliseconds: string } {
  const iso = time.toISOString();
  return {
    seconds: iso.slice(0, 19),
    milliseconds: iso.length === 24 ? iso.slice(20, 23) : pad(time.getUTCMilliseconds(), 3),
  };
}

/** The text of a non-null value in its column's form, one function per CDM type (chosen once per column). */
export type FieldFormatter = (value: string | number | boolean, column: LakeColumn) => string;

const formatters: Record<CdmDataType, FieldFormatter> = {
  guid: (value) => (typeof value === 'string' ? value : String(value)).toLowerCase(),
  string: (value) => (typeof value === 'string' ? value : String(value)),
  int64(value, column) {
    if (typeof value === 'number' && Number.isInteger(value)) return numberText(value);
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return value;
    throw invalid(value, column);
  },
  decimal: finiteNumber,
  double: finiteNumber,
  boolean(value, column) {
    if (typeof value === 'boolean') return value ? 'True' : 'False';
    if (value === 0 || value === 1) return value === 1 ? 'True' : 'False';
    throw invalid(value, column);
  },
  // The Web API's own form is already the lake's, and a plain date is its midnight: skip the Date round trip for them.
  dateTime(value, column) {
    if (typeof value === 'string' && WEB_API_TIME.test(value)) return value;
    if (typeof value === 'string' && isPlainWebApiDate(value)) return `${value}T00:00:00Z`;
    return `${isoParts(parseTime(value, column)).seconds}Z`;
  },
  dateTimeOffset(value, column) {
    // A Web API time `new Date` reads as written has no milliseconds: skip the Date round trip for it too.
    if (typeof value === 'string' && isPlainWebApiTime(value))
      return `${value.slice(0, 19)}${PLAIN_TIME_OFFSET_SUFFIX}`;
    const { seconds, milliseconds } = isoParts(parseTime(value, column));
    return `${seconds}.${milliseconds}0000+00:00`;
  },
};

function finiteNumber(value: string | number | boolean, column: LakeColumn): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(value, column);
  return numberText(value);
}

export const formatterOf = (column: LakeColumn): FieldFormatter => formatters[column.dataType];

/** The text of one value in its column's form; null stays null (an empty field). */
export function formatField(column: LakeColumn, value: SqlValue): string | null {
  return value === null ? null : formatters[column.dataType](value, column);
}

/** Which fields of a record are quoted whatever their text (`string` and date-time columns). */
export const quotedColumns = (columns: LakeColumn[]): boolean[] =>
  columns.map((column) => quotedTypes.has(column.dataType));

/** Text that must be quoted to stay one field: RFC 4180's `"`, `,` and line breaks (CR too, alone or not). */
const NEEDS_QUOTES = /[",\n\r]/;

const quote = (text: string): string => `"${text.includes('"') ? text.replaceAll('"', '""') : text}"`;

/** One field as `encodeRecord` writes it: empty for null, quoted when its column is or its text needs it. */
export const csvField = (quoted: boolean, text: string | null): string =>
  text === null ? '' : quoted || NEEDS_QUOTES.test(text) ? quote(text) : text;

/** A column's CSV field of a value, exactly as `encodeRecord` writes `formatField`'s text: empty for null. */
export type FieldWriter = (value: SqlValue) => string;

/** Lower-case hex digits and dashes only (a GUID as the Web API sends it): its own guid text, nothing to quote. */
const PLAIN_GUID = /^[\da-f-]+$/;

/** The column's FieldWriter, skipping the checks its type makes needless (chosen once per column, not per row). */
export function fieldWriterOf(column: LakeColumn): FieldWriter {
  const format = formatters[column.dataType];
  switch (column.dataType) {
    case 'string':
      return (value) => (value === null ? '' : quote(typeof value === 'string' ? value : String(value)));
    case 'dateTime':
    case 'dateTimeOffset':
      // Their text is a Web API time or an ISO form: digits and `-:.TZ+`, never a `"` to double.
      return (value) => (value === null ? '' : `"${format(value, column)}"`);
    case 'int64':
    case 'decimal':
    case 'double':
    case 'boolean':
      // Digits, sign and point, or True/False: nothing that needs quotes.
      return (value) => (value === null ? '' : format(value, column));
    case 'guid':
      // One test instead of lower-casing and looking for characters to quote.
      return (value) =>
        typeof value === 'string' && PLAIN_GUID.test(value)
          ? value
          : csvField(false, value === null ? null : format(value, column));
  }
}

/**
 * One CSV record ending in `\n`: a null field is empty, a quoted column's text is always quoted (so an empty
 * string is `""`, not null), other text only when it holds `"`, `,`, LF or CR. This is the output csv-stringify
 * gave with `quoted_string` (test/lake/csv-encoder.test.ts compares them), written by hand because csv-stringify
 * re-checks its options per field and managed under 20,000 rows/s on 50 columns; one deliberate difference:
 * csv-stringify left a bare field with a lone CR unquoted, which csv-parse then read as a record break.
 */
export function encodeRecord(quoted: readonly boolean[], fields: ReadonlyArray<string | null>): string {
  let line = '';
  for (let index = 0; index < fields.length; index++) {
    if (index > 0) line += ',';
    // Columns beyond `quoted` are quoted, as strings are.
    line += csvField(quoted[index] !== false, fields[index] ?? null);
  }
  return `${line}\n`;
}

/** Whole CSV records, each ending in `\n`, fields in `columns` order and quoted by type. */
export function encodeRecords(columns: LakeColumn[], records: ReadonlyArray<ReadonlyArray<string | null>>): string {
  const quoted = quotedColumns(columns);
  let text = '';
  for (const record of records) text += encodeRecord(quoted, record);
  return text;
}

/** A partition file's records, each with its raw text (ragged: older records have fewer fields); a schema error naming the file if it is not CSV. */
export function parsePartition(text: string, path: string): Array<{ record: string[]; raw: string }> {
  try {
    // With `raw`, csv-parse returns { record, raw } pairs; its typings only describe plain records.
    return parse(text, { raw: true, relax_column_count: true }) as unknown as Array<{ record: string[]; raw: string }>;
  } catch (error) {
    throw new ExportError('schema', `${path} is not a readable CSV partition.`, {
      cause: error,
      where: path,
      fix: 'Restore the file from its latest snapshot or resync the table.',
    });
  }
}
