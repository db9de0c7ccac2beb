/**
 * One change → one CSV record of a table's lake columns: an upsert's values from its Web API row (via the
 * shared row-values readers, chosen once per column), a delete as `Id`, sink times, `versionnumber` and `IsDelete=True`.
 */
import type { RowUpsert } from '../../dataverse/changes';
import { ExportError } from '../../errors';
import { rowReader } from '../../schema/row-reader';
import { valueReader, type SqlValue, type ValueReader } from '../../schema/row-values';
import type { ColumnSource } from '../../schema/table-model';
import { CREATED_ON, type LakeColumn } from './columns';
import { csvField, encodeRecord, fieldWriterOf, formatterOf, quotedColumns } from './csv';
import { MAX_APPEND_BYTES } from './storage';

export type Fields = Array<string | null>;

export interface RecordEncoder {
  /** Fields of an upsert (`sinkTime` in the Sink* form) and its `createdon`, which picks the partition. */
  upsert(upsert: RowUpsert, sinkTime: string): { fields: Fields; createdOn: string | null };
  remove(id: string, versionNumber: number, sinkTime: string): Fields;
  /** The CSV record of the fields; a data error when it cannot fit one Append Block. */
  encode(fields: Fields): string;
  /** `encode(upsert(…).fields)` in one pass, without the fields: the append path's per-row work. */
  upsertRecord(upsert: RowUpsert, sinkTime: string): { record: string; createdOn: string | null };
}

/** How one column's field of an upsert is made, decided once per table rather than per row. */
type FieldOf = (upsert: RowUpsert, sinkTime: string) => string | null;

function fieldOf(column: LakeColumn): FieldOf {
  const source = column.source;
  if (source === null || source.kind === 'isDelete') return () => null;
  if (source.kind === 'sinkTime') return (_upsert, sinkTime) => sinkTime;
  const format = formatterOf(column);
  // The row's id is written lower-case whatever the column's type.
  if (source.kind === 'id') return (upsert) => format(upsert.id.toLowerCase(), column);
  const read = valueReader({ source }) as ValueReader;
  return (upsert) => {
    const value = read(upsert);
    return value === null ? null : format(value, column);
  };
}

/** How one column's CSV field is made from its value (as `rowReader` read it), quoted and all: `encodeRecord`'s field of `fieldOf`'s text. */
type CsvFieldOf = (value: SqlValue | undefined, sinkTime: string) => string;

function csvFieldOf(column: LakeColumn, quoted: boolean): CsvFieldOf {
  const source = column.source;
  if (source === null || source.kind === 'isDelete') return () => '';
  // One batch has one sink time: quote it once, not per row.
  let lastSinkTime = '';
  let lastSinkField = '';
  if (source.kind === 'sinkTime')
    return (_value, sinkTime) =>
      sinkTime === lastSinkTime
        ? lastSinkField
        : ((lastSinkTime = sinkTime), (lastSinkField = csvField(quoted, sinkTime)));
  const write = fieldWriterOf(column);
  // The row's id is written lower-case whatever the column's type (a guid column lower-cases it anyway).
  if (source.kind === 'id' && column.dataType !== 'guid') return (id) => write((id as string).toLowerCase());
  return (value) => write(value as SqlValue);
}

/** A data error when the record cannot fit one Append Block. */
function fitsOneBlock(record: string): string {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: only long records need counting.
  if (record.length * 3 > MAX_APPEND_BYTES && Buffer.byteLength(record, 'utf8') > MAX_APPEND_BYTES) {
    throw new ExportError('data', `The row's CSV record is larger than ${MAX_APPEND_BYTES} bytes.`, {
      fix: 'Shorten the row’s long text columns in Dataverse.',
    });
  }
  return record;
}

export function createRecordEncoder(columns: LakeColumn[]): RecordEncoder {
  const fieldMakers = columns.map(fieldOf);
  const createdOnSource = columns.find((column) => column.name === CREATED_ON)?.source;
  const readCreatedOn =
    createdOnSource && createdOnSource.kind !== 'isDelete' ? valueReader({ source: createdOnSource }) : undefined;
  const quoted = quotedColumns(columns);
  const csvFields = columns.map((column, index) => csvFieldOf(column, quoted[index] !== false));
  // Columns with no value of their own (gone, IsDelete) read as a sink time does (undefined): their field ignores it.
  const readRow = rowReader(
    columns.map((column): ColumnSource =>
      column.source === null || column.source.kind === 'isDelete' ? { kind: 'sinkTime', on: 'write' } : column.source,
    ),
  );
  const createdOnIndex = columns.findIndex((column) => column.name === CREATED_ON);
  const values = new Array<SqlValue | undefined>(columns.length).fill(undefined);
  const fields = new Array<string>(columns.length).fill('');
  return {
    upsert(upsert, sinkTime) {
      const fields = fieldMakers.map((make) => make(upsert, sinkTime));
      const createdOn = readCreatedOn?.(upsert) ?? null;
      return { fields, createdOn: typeof createdOn === 'string' ? createdOn : null };
    },
    remove(id, versionNumber, sinkTime) {
      return columns.map((column) => {
        switch (column.source?.kind) {
          case 'id':
            return id.toLowerCase();
          case 'version':
            return String(versionNumber);
          case 'isDelete':
            return 'True';
          case 'sinkTime':
            return sinkTime;
          default:
            return null;
        }
      });
    },
    encode: (fields) => fitsOneBlock(encodeRecord(quoted, fields)),
    upsertRecord(upsert, sinkTime) {
      readRow(upsert, values);
      const last = csvFields.length - 1;
      if (last < 0) return { record: '\n', createdOn: null };
      for (let index = 0; index < last; index++) fields[index] = csvFields[index]!(values[index], sinkTime);
      // The line break joins the last field, a short string, rather than the long record (one flat string to encode).
      fields[last] = `${csvFields[last]?.(values[last], sinkTime) ?? ''}\n`;
      const createdOn = createdOnIndex >= 0 ? values[createdOnIndex] : null;
      return { record: fitsOneBlock(fields.join(',')), createdOn: typeof createdOn === 'string' ? createdOn : null };
    },
  };
}
