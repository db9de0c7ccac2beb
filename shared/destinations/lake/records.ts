/**
 * One change → one CSV record of a table's lake columns: an upsert's values from its Web API row (via the
 * shared row-values mapping), a delete as `Id`, sink times, `versionnumber` and `IsDelete=True`.
 */
import type { RowUpsert } from '../../dataverse/changes';
import { ExportError } from '../../errors';
import { destinationValues } from '../../schema/row-values';
import type { ColumnSource } from '../../schema/table-model';
import { CREATED_ON, type LakeColumn } from './columns';
import { encodeRecords, formatField } from './csv';
import { MAX_APPEND_BYTES } from './storage';

export type Fields = Array<string | null>;

export interface RecordEncoder {
  /** Fields of an upsert (`sinkTime` in the Sink* form) and its `createdon`, which picks the partition. */
  upsert(upsert: RowUpsert, sinkTime: string): { fields: Fields; createdOn: string | null };
  remove(id: string, versionNumber: number, sinkTime: string): Fields;
  /** The CSV record of the fields; a data error when it cannot fit one Append Block. */
  encode(fields: Fields): string;
}

export function createRecordEncoder(columns: LakeColumn[]): RecordEncoder {
  const supplied = columns.flatMap((column): Array<{ name: string; source: ColumnSource }> =>
    column.source && column.source.kind !== 'isDelete' && column.source.kind !== 'sinkTime'
      ? [{ name: column.name, source: column.source }]
      : [],
  );
  return {
    upsert(upsert, sinkTime) {
      const values = destinationValues(supplied, { ...upsert, id: upsert.id.toLowerCase() });
      const fields = columns.map((column) => {
        if (column.source === null || column.source.kind === 'isDelete') return null;
        if (column.source.kind === 'sinkTime') return sinkTime;
        return formatField(column, values[column.name] ?? null);
      });
      const createdOn = values[CREATED_ON];
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
    encode(fields) {
      const record = encodeRecords(columns, [fields]);
      if (Buffer.byteLength(record, 'utf8') > MAX_APPEND_BYTES) {
        throw new ExportError('data', `The row's CSV record is larger than ${MAX_APPEND_BYTES} bytes.`, {
          fix: 'Shorten the row’s long text columns in Dataverse.',
        });
      }
      return record;
    },
  };
}
