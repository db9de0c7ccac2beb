/**
 * Synapse Link's CSV dialect (docs/reference/lake-format.md §3): no header, `,`, UTF-8, `\n`, one field per attribute,
 * strings and date-times quoted, everything else bare, nulls empty, `True`/`False`, invariant numbers and
 * the three date-time formats. Quoting and escaping (`""`, line breaks inside quotes) are csv-stringify's.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { ExportError } from '../../errors';
import { plainNumber } from '../../schema/plain-number';
import type { SqlValue } from '../../schema/row-values';
import type { CdmDataType, LakeColumn } from './columns';

const quotedTypes: ReadonlySet<CdmDataType> = new Set(['string', 'dateTime', 'dateTimeOffset']);

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

const isoSeconds = (time: Date): string => `${time.toISOString().slice(0, 19)}`;

/** `M/d/yyyy h:mm:ss tt` in UTC, the form of `SinkCreatedOn`/`SinkModifiedOn` and the sync-time annotation. */
export function usDateTime(time: Date): string {
  const hours = time.getUTCHours();
  return `${time.getUTCMonth() + 1}/${time.getUTCDate()}/${time.getUTCFullYear()} ${hours % 12 || 12}:${pad(time.getUTCMinutes())}:${pad(time.getUTCSeconds())} ${hours < 12 ? 'AM' : 'PM'}`;
}

/** The text of one value in its column's form; null stays null (an empty field). */
export function formatField(column: LakeColumn, value: SqlValue): string | null {
  if (value === null) return null;
  switch (column.dataType) {
    case 'guid':
      return String(value).toLowerCase();
    case 'string':
      return String(value);
    case 'int64':
      if (typeof value === 'number' && Number.isInteger(value)) return plainNumber(value);
      if (typeof value === 'string' && /^-?\d+$/.test(value)) return value;
      throw invalid(value, column);
    case 'decimal':
    case 'double':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(value, column);
      return plainNumber(value);
    case 'boolean':
      if (typeof value === 'boolean') return value ? 'True' : 'False';
      if (value === 0 || value === 1) return value === 1 ? 'True' : 'False';
      throw invalid(value, column);
    case 'dateTime':
      // The Web API's own form is already the lake's: skip the Date round trip for it.
      return typeof value === 'string' && WEB_API_TIME.test(value) ? value : `${isoSeconds(parseTime(value, column))}Z`;
    case 'dateTimeOffset': {
      const time = parseTime(value, column);
      return `${isoSeconds(time)}.${pad(time.getUTCMilliseconds(), 3)}0000+00:00`;
    }
  }
}

/** A field csv-stringify must not quote unless its text needs it (see encodeRecords). */
class BareField {
  constructor(readonly text: string) {}
}

const stringifyOptions = {
  record_delimiter: '\n',
  // Quote-by-type: every `string` value is quoted; bare-typed text travels as a BareField object. Faster than
  // a per-field cast returning quoting options, which csv-stringify re-normalises for every field.
  quoted_string: true,
  cast: { object: (value: object): string => (value instanceof BareField ? value.text : JSON.stringify(value)) },
};

/** Whole CSV records, each ending in `\n`, fields in `columns` order and quoted by type. */
export function encodeRecords(columns: LakeColumn[], records: Array<Array<string | null>>): string {
  const bare = columns.map((column) => !quotedTypes.has(column.dataType));
  const prepared = records.map((record) =>
    record.map((field, index) => (field !== null && bare[index] === true ? new BareField(field) : field)),
  );
  return stringify(prepared, stringifyOptions);
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
