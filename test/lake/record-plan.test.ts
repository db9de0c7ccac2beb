/**
 * The append path's fast forms against the plain ones they replace: a row's one-pass CSV record
 * (`upsertRecord`) against `encode(upsert(…).fields)`, the Date-free reading of plain Web API times against `Date`,
 * and records written straight into UTF-8 Append Block bodies against whole-record grouping of their text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RowUpsert } from '../../shared/dataverse/changes';
import { appendBlocks } from '../../shared/destinations/lake/append-blocks';
import type { CdmDataType, LakeColumn } from '../../shared/destinations/lake/columns';
import { formatField } from '../../shared/destinations/lake/csv';
import { cdmDataTypes } from '../../shared/destinations/lake/model-json';
import { partitionName } from '../../shared/destinations/lake/paths';
import { createRecordEncoder } from '../../shared/destinations/lake/records';
import { MAX_APPEND_BYTES } from '../../shared/destinations/lake/storage';

const digits = (width: number, max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(width, '0'));

/** `yyyy-MM-ddTHH:mm:ssZ` with parts just past their ranges too (day 31 of February, hour 24), which Date rolls over. */
const webApiTime = fc
  .tuple(digits(4, 9999), digits(2, 13), digits(2, 32), digits(2, 24), digits(2, 60), digits(2, 60))
  .map(([year, month, day, hour, minute, second]) => `${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
const webApiDate = fc
  .tuple(digits(4, 9999), digits(2, 13), digits(2, 32))
  .map(([year, month, day]) => `${year}-${month}-${day}`);

/** What each form was before it skipped Date: parse, then print. */
const viaDate = {
  dateTime: (value: string) => `${new Date(value).toISOString().slice(0, 19)}Z`,
  dateTimeOffset: (value: string) => `${new Date(value).toISOString().slice(0, 23)}0000+00:00`,
  partition(value: string, granularity: 'Year' | 'Month') {
    const time = new Date(value);
    const year = Number.isNaN(time.getTime()) ? 1900 : time.getUTCFullYear();
    const month = Number.isNaN(time.getTime()) ? 1 : time.getUTCMonth() + 1;
    return granularity === 'Year' ? String(year) : `${year}-${String(month).padStart(2, '0')}`;
  },
};

const column = (name: string, dataType: CdmDataType): LakeColumn => ({
  name,
  dataType,
  maxLength: -1,
  source: { kind: 'property', property: name },
});

const outcome = (action: () => unknown): unknown => {
  try {
    return { value: action() };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
};

describe('lake record plan', () => {
  it('reads plain Web API times and dates as Date does, rolled-over ones included', () => {
    fc.assert(
      fc.property(webApiTime, webApiDate, (time, date) => {
        if (!Number.isNaN(new Date(time).getTime())) {
          expect(formatField(column('t', 'dateTimeOffset'), time)).toBe(viaDate.dateTimeOffset(time));
          expect(partitionName(time, 'Year')).toBe(viaDate.partition(time, 'Year'));
          expect(partitionName(time, 'Month')).toBe(viaDate.partition(time, 'Month'));
        }
        if (!Number.isNaN(new Date(date).getTime()))
          expect(formatField(column('t', 'dateTime'), date)).toBe(viaDate.dateTime(date));
      }),
      { numRuns: 2000 },
    );
    expect(formatField(column('t', 'dateTime'), '2021-02-30')).toBe('2021-03-02T00:00:00Z');
    expect(formatField(column('t', 'dateTimeOffset'), '2021-12-31T24:00:00Z')).toBe(
      '2022-01-01T00:00:00.0000000+00:00',
    );
    expect(partitionName('2021-12-31T24:00:00Z', 'Year')).toBe('2022');
    expect(partitionName('0099-05-06T07:08:09Z', 'Month')).toBe('99-05');
  });

  it("writes each row's record in one pass exactly as encode(upsert(…).fields) does, or fails it the same way", () => {
    const value = fc.oneof(
      fc.constant(null),
      fc.constant(undefined),
      fc.string({ unit: fc.constantFrom('"', ',', '\n', '\r', 'a', 'É', '日', '😀', '1', '-', ' '), maxLength: 8 }),
      fc.double(),
      fc.integer(),
      fc.boolean(),
      webApiTime,
      webApiDate,
      fc.constantFrom('0', '-12', '1e5', '2021-06-25T16:21:12.5Z', 'ABCDEF01-0000-0000-0000-00000000000A'),
      fc.constant({ nested: true }),
    );
    const table = fc.array(fc.constantFrom(...cdmDataTypes), { minLength: 1, maxLength: 10 }).chain((types) =>
      fc.record({
        columns: fc.constant(types.map((dataType, index) => column(`c${index}`, dataType))),
        rows: fc.array(fc.array(value, { minLength: types.length, maxLength: types.length }), { maxLength: 5 }),
      }),
    );
    fc.assert(
      fc.property(table, ({ columns, rows }) => {
        const all: LakeColumn[] = [
          { name: 'Id', dataType: 'guid', maxLength: -1, source: { kind: 'id' } },
          { name: 'SinkModifiedOn', dataType: 'dateTime', maxLength: -1, source: { kind: 'sinkTime', on: 'write' } },
          ...columns,
          {
            name: 'createdon',
            dataType: 'dateTimeOffset',
            maxLength: -1,
            source: { kind: 'property', property: 'c0' },
          },
          { name: 'gone', dataType: 'string', maxLength: -1, source: null },
          { name: 'IsDelete', dataType: 'boolean', maxLength: -1, source: { kind: 'isDelete' } },
        ];
        const encoder = createRecordEncoder(all);
        for (const values of rows) {
          const upsert: RowUpsert = {
            kind: 'upsert',
            id: '0000000A-0000-0000-0000-00000000000B',
            versionNumber: 7,
            row: Object.fromEntries(values.map((entry, index) => [`c${index}`, entry])),
          };
          const plain = outcome(() => {
            const { fields, createdOn } = encoder.upsert(upsert, '6/28/2021 4:34:35 PM');
            return { record: encoder.encode(fields), createdOn };
          });
          expect(outcome(() => encoder.upsertRecord(upsert, '6/28/2021 4:34:35 PM'))).toEqual(plain);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('groups records into UTF-8 Append Block bodies of whole records, each within the limit', () => {
    const text = (length: number, unit: string) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
    // Sizes around the 4 MiB limit in one-, two-, three- and four-byte characters.
    const records = [
      `${text(MAX_APPEND_BYTES / 2 - 10, 'a')}\n`,
      `${text(MAX_APPEND_BYTES / 4, 'é')}\n`,
      `${text(MAX_APPEND_BYTES / 6, '日')}\n`,
      `${text(2, '😀')}\n`,
      `${text(MAX_APPEND_BYTES - 1, 'b')}\n`,
      'x\n',
      `${text(MAX_APPEND_BYTES / 3 - 1, '日')}\n`,
    ];
    const blocks = appendBlocks(records);
    // Whole records greedily, as the text-grouping did: a block closes only when the next record would not fit.
    const expected: string[][] = [
      [records[0]!, records[1]!],
      [records[2]!, records[3]!],
      [records[4]!],
      [records[5]!, records[6]!],
    ];
    expect(blocks.map((block) => block.toString('utf8'))).toEqual(expected.map((group) => group.join('')));
    for (const block of blocks) expect(block.length).toBeLessThanOrEqual(MAX_APPEND_BYTES);
    expect(Buffer.concat(blocks).equals(Buffer.from(records.join(''), 'utf8'))).toBe(true);
    expect(appendBlocks([])).toEqual([]);
  });
});
