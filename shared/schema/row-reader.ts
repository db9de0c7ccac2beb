/**
 * Every column's value of a row read in one call, for encoders that map many rows of one table. The closures of
 * `valueReader` read `row[property]` with a different property at one site: V8 then does a megamorphic keyed load
 * per column (a fifth of the lake encoder's CPU). Generated code has one site per property, each a named load V8
 * caches for the few shapes a table's rows have (3× faster on the sample account rows).
 *
 * Property names come from Dataverse metadata and may hold any character: they enter the generated code only as
 * `JSON.stringify`'d string literals (always a valid JavaScript string literal), never as identifiers or comments
 * (test/lake/row-reader.test.ts reads hostile names).
 */
import type { RowUpsert } from '../dataverse/changes';
import { isAbsent, scalar, type SqlValue } from './row-values';
import type { ColumnSource } from './table-model';

/** Writes `destinationValue(column, change)` of each column into `values[index]`, undefined for sink timestamps. */
export type RowReader = (change: RowUpsert, values: Array<SqlValue | undefined>) => void;

const literal = (text: string): string => JSON.stringify(text);

function statement(source: ColumnSource, index: number): string {
  switch (source.kind) {
    case 'id':
      return `values[${index}] = change.id;`;
    case 'version':
      return `values[${index}] = change.versionNumber;`;
    case 'property':
      return `values[${index}] = scalar(row[${literal(source.property)}]);`;
    case 'lookupTable':
      return `values[${index}] = isAbsent(row[${literal(source.property)}]) ? null : scalar(row[${literal(source.annotation)}]);`;
    case 'sinkTime':
      return `values[${index}] = undefined;`;
  }
}

/** The reader of `sources` (one per column, in order), generated once per table layout. */
export function rowReader(sources: readonly ColumnSource[]): RowReader {
  const body = ['"use strict";', 'const row = change.row;', ...sources.map(statement)].join('\n');
  // The only code built from text: see the module comment for why names cannot escape their string literals.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function('scalar', 'isAbsent', `return function readRow(change, values) {\n${body}\n};`) as (
    toScalar: typeof scalar,
    absent: typeof isAbsent,
  ) => RowReader;
  return make(scalar, isAbsent);
}
