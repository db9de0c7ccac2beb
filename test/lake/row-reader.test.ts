/**
 * The generated row reader (shared/schema/row-reader.ts) against `destinationValue`, the plain reading it replaces
 * on the lake's append path: the same value for every column source, value shape and property name, hostile ones
 * (quotes, backslashes, comment ends, line breaks, `__proto__`, code) included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RowUpsert } from '../../shared/dataverse/changes';
import { rowReader } from '../../shared/schema/row-reader';
import { destinationValue, type SqlValue } from '../../shared/schema/row-values';
import type { ColumnSource } from '../../shared/schema/table-model';

const hostileNames = [
  'name',
  'a"b',
  "a'b",
  'a`b${x}',
  'back\\slash',
  '\\',
  '*/',
  '/*',
  '//',
  'line\nbreak',
  'cr\rlf',
  '\u2028\u2029',
  '\ud800',
  '__proto__',
  'constructor',
  'toString',
  'row',
  'values',
  'change',
  'scalar',
  '',
  ' ',
  '0',
  '"]; globalThis.rowReaderInjected = true; //',
  "'); globalThis.rowReaderInjected = true; //",
  '_x_value@Microsoft.Dynamics.CRM.lookuplogicalname',
];

const name = fc.oneof(fc.constantFrom(...hostileNames), fc.string({ maxLength: 6 }), fc.string({ unit: 'binary' }));
const source: fc.Arbitrary<ColumnSource> = fc.oneof(
  fc.constant<ColumnSource>({ kind: 'id' }),
  fc.constant<ColumnSource>({ kind: 'version' }),
  fc.constant<ColumnSource>({ kind: 'sinkTime', on: 'write' }),
  name.map((property): ColumnSource => ({ kind: 'property', property })),
  fc.tuple(name, name).map(([property, annotation]): ColumnSource => ({ kind: 'lookupTable', property, annotation })),
);
const value = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 5 }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant({ nested: [1, 'two'] }),
  fc.constant([]),
);

/** A row as the Web API's JSON gives it: every key an own property, `__proto__` too. */
const parsedRow = (entries: Array<[string, unknown]>): Record<string, unknown> => {
  const json = `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${JSON.stringify(entry)}`).join(',')}}`;
  return JSON.parse(json) as Record<string, unknown>;
};

const plainValues = (sources: ColumnSource[], change: RowUpsert): Array<SqlValue | undefined> =>
  sources.map((columnSource) => destinationValue({ source: columnSource }, change));

describe('generated row reader', () => {
  it('reads every column as destinationValue does, for any property names and values', () => {
    fc.assert(
      fc.property(
        fc.array(source, { maxLength: 12 }),
        fc.array(fc.tuple(name, value), { maxLength: 12 }),
        fc.array(fc.tuple(fc.constantFrom(...hostileNames), value), { maxLength: 6 }),
        (sources, entries, hostileEntries) => {
          const read = rowReader(sources);
          const change: RowUpsert = {
            kind: 'upsert',
            id: 'ABCDEF01-0000-0000-0000-00000000000A',
            versionNumber: 42,
            row: parsedRow([...entries, ...hostileEntries]),
          };
          const values = new Array<SqlValue | undefined>(sources.length).fill(null);
          read(change, values);
          expect(values).toEqual(plainValues(sources, change));
        },
      ),
      { numRuns: 1000 },
    );
    expect((globalThis as Record<string, unknown>).rowReaderInjected).toBeUndefined();
  });

  it('reads hostile property names as plain keys, present or absent, and runs none of them as code', () => {
    const sources = hostileNames.flatMap((property): ColumnSource[] => [
      { kind: 'property', property },
      { kind: 'lookupTable', property, annotation: `${property}@annotation` },
    ]);
    const read = rowReader(sources);
    const present = parsedRow(
      hostileNames.flatMap((key, index) => [
        [key, `v${index}`],
        [`${key}@annotation`, `t${index}`],
      ]),
    );
    const values = new Array<SqlValue | undefined>(sources.length);
    const change: RowUpsert = { kind: 'upsert', id: 'x', versionNumber: 1, row: present };
    read(change, values);
    expect(values).toEqual(hostileNames.flatMap((_key, index) => [`v${index}`, `t${index}`]));
    expect(values).toEqual(plainValues(sources, change));
    // Absent: null, as destinationValue reads them (`__proto__` then reads the prototype, for both).
    const absent: RowUpsert = { kind: 'upsert', id: 'x', versionNumber: 1, row: {} };
    read(absent, values);
    expect(values).toEqual(plainValues(sources, absent));
    expect((globalThis as Record<string, unknown>).rowReaderInjected).toBeUndefined();
  });
});
