/**
 * The lake's hand-written CSV record encoder (shared/destinations/lake/csv.ts): every value shape reads back
 * through csv-parse as written, and its bytes are the ones csv-stringify produced with the options it replaced.
 */
import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CREATED_ON, lakeColumnsOf, type CdmDataType, type LakeColumn } from '../../shared/destinations/lake/columns';
import { encodeRecords, formatField, parsePartition } from '../../shared/destinations/lake/csv';
import { cdmDataTypes } from '../../shared/destinations/lake/model-json';
import { createRecordEncoder } from '../../shared/destinations/lake/records';
import { destinationValues } from '../../shared/schema/row-values';
import type { ColumnSource } from '../../shared/schema/table-model';
import { sampleCounts, sampleRow, sampleTables, toWebApiRow } from '../../local/sample-org';
import { parseCsv } from './lake-checks';

const dataTypes: readonly CdmDataType[] = cdmDataTypes;
/** Synapse Link quotes strings and date-times always, other types only when their text needs it (docs/reference/lake-format.md §3). */
const quotedColumns = (columns: LakeColumn[]): boolean[] =>
  columns.map((column) => ['string', 'dateTime', 'dateTimeOffset'].includes(column.dataType));

/** The encoder before it was hand-written: csv-stringify quoting every string, bare-typed text as objects. */
class BareField {
  constructor(readonly text: string) {}
}
function csvStringifyEncoding(columns: LakeColumn[], records: Array<Array<string | null>>): string {
  const quoted = quotedColumns(columns);
  const prepared = records.map((record) =>
    record.map((field, index) => (field !== null && quoted[index] === false ? new BareField(field) : field)),
  );
  return stringify(prepared, {
    record_delimiter: '\n',
    quoted_string: true,
    cast: { object: (value: object): string => (value instanceof BareField ? value.text : JSON.stringify(value)) },
  });
}

/** Text made of the characters CSV treats specially, mixed with plain, accented, astral and separator ones. */
const awkwardText = fc.oneof(
  fc.string({
    unit: fc.constantFrom(
      '"',
      ',',
      '\n',
      '\r',
      '\r\n',
      'a',
      'Z',
      '0',
      ' ',
      '\t',
      'é',
      'ß',
      '日',
      '😀',
      '\u2028',
      '\u00a0',
    ),
    maxLength: 12,
  }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', '"', '""', ',', '\n', '\r', '\r\n', ' ', 'null', 'NULL'),
);
const field = fc.option(awkwardText, { nil: null, freq: 4 });

/** A table of 1–8 columns of any type and 1–5 records of fields for it. */
const table = fc.array(fc.constantFrom(...dataTypes), { minLength: 1, maxLength: 8 }).chain((types) =>
  fc.record({
    columns: fc.constant(
      types.map((dataType, index): LakeColumn => ({ name: `c${index}`, dataType, maxLength: -1, source: null })),
    ),
    records: fc.array(fc.array(field, { minLength: types.length, maxLength: types.length }), {
      minLength: 1,
      maxLength: 5,
    }),
  }),
);

const hasLoneCarriageReturnInBareField = (columns: LakeColumn[], records: Array<Array<string | null>>): boolean => {
  const quoted = quotedColumns(columns);
  return records.some((record) =>
    record.some(
      (value, index) => quoted[index] === false && value !== null && /\r/.test(value) && !/[\n",]/.test(value),
    ),
  );
};

describe('lake CSV encoder', () => {
  it('reads back through csv-parse as written: quotes, commas, CR, LF, unicode, empty string vs null', () => {
    fc.assert(
      fc.property(table, ({ columns, records }) => {
        const text = encodeRecords(columns, records);
        const quoted = quotedColumns(columns);
        const expected = records.map((record) =>
          record.map((value, index) =>
            value === null
              ? { value: '', quoted: false }
              : // A bare column's empty text is an empty field, as a null is (a bare type has no empty value).
                { value, quoted: quoted[index] === true || /[",\n\r]/.test(value) },
          ),
        );
        expect(parseCsv(text)).toEqual(expected);
        // The lake's own reader (in-place and resync) gets the same fields and each record's exact text.
        const read = parsePartition(text, 'test.csv');
        expect(read.map((entry) => entry.record)).toEqual(records.map((record) => record.map((value) => value ?? '')));
        expect(read.map((entry) => entry.raw).join('')).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('writes the bytes csv-stringify wrote for the Synapse dialect', () => {
    fc.assert(
      fc.property(
        table.filter(({ columns, records }) => !hasLoneCarriageReturnInBareField(columns, records)),
        ({ columns, records }) => {
          expect(encodeRecords(columns, records)).toBe(csvStringifyEncoding(columns, records));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('quotes a bare field holding a lone CR, which csv-stringify left bare and readers split into two records', () => {
    const columns: LakeColumn[] = [
      { name: 'Id', dataType: 'guid', maxLength: -1, source: null },
      { name: 'name', dataType: 'string', maxLength: -1, source: null },
    ];
    const text = encodeRecords(columns, [['a\rb', 'x']]);
    expect(text).toBe('"a\rb","x"\n');
    expect(parseCsv(text)).toEqual([
      [
        { value: 'a\rb', quoted: true },
        { value: 'x', quoted: true },
      ],
    ]);
  });

  it('writes nothing for no records and a bare line for an empty one', () => {
    const columns: LakeColumn[] = [{ name: 'name', dataType: 'string', maxLength: -1, source: null }];
    expect(encodeRecords(columns, [])).toBe('');
    expect(encodeRecords(columns, [[]])).toBe(csvStringifyEncoding(columns, [[]]));
    expect(encodeRecords(columns, [[null], ['']])).toBe('\n""\n');
  });

  it("encodes each sample table's Web API rows as the row-values mapping and csv-stringify did", () => {
    const counts = sampleCounts(40);
    const sinkTime = '6/28/2021 4:34:35 PM';
    for (const table of sampleTables) {
      const columns = lakeColumnsOf(table);
      const encoder = createRecordEncoder(columns);
      const supplied = columns.flatMap((column): Array<{ name: string; source: ColumnSource }> =>
        column.source && column.source.kind !== 'isDelete' && column.source.kind !== 'sinkTime'
          ? [{ name: column.name, source: column.source }]
          : [],
      );
      for (let index = 0; index < 40; index++) {
        const row = toWebApiRow(table, sampleRow(table.logicalName, index, 1, counts), {
          versionNumber: 1_000 + index,
          annotations: true,
        });
        const upsert = {
          kind: 'upsert' as const,
          id: String(row[table.primaryIdAttribute]).toUpperCase(),
          versionNumber: 1_000 + index,
          row,
        };
        const values = destinationValues(supplied, { ...upsert, id: upsert.id.toLowerCase() });
        const expectedFields = columns.map((column) =>
          column.source === null || column.source.kind === 'isDelete'
            ? null
            : column.source.kind === 'sinkTime'
              ? sinkTime
              : formatField(column, values[column.name] ?? null),
        );
        const { fields, createdOn } = encoder.upsert(upsert, sinkTime);
        expect(fields).toEqual(expectedFields);
        expect(createdOn).toBe(typeof values[CREATED_ON] === 'string' ? values[CREATED_ON] : null);
        expect(encoder.encode(fields)).toBe(csvStringifyEncoding(columns, [expectedFields]));
        // The append path's one-pass record, byte for byte.
        expect(encoder.upsertRecord(upsert, sinkTime)).toEqual({
          record: csvStringifyEncoding(columns, [expectedFields]),
          createdOn: typeof values[CREATED_ON] === 'string' ? values[CREATED_ON] : null,
        });
      }
    }
  });
});
