/**
 * Compares a destination with the emulator's source for `--once` and the tests: every row (id and version)
 * and, for rows at the source's version, every column of the table model, each value in the compared form
 * of its type (local/expected-row.ts). The source row is the one the Web API returns with annotations.
 */
import type { Emulator } from './emulator/server';
import type { WebApiRow } from '../shared/dataverse/changes';
import type { TableMetadata } from '../shared/dataverse/metadata';
import type { Destination } from '../shared/destinations/destination';
import { isSqlDestination } from '../shared/destinations/sql/destination';
import { toWebApiRow, type SampleRow } from './sample-org';
import { cell, checkedColumns, sourceValue, type DestinationKind } from './expected-row';

/** How many wrong values a difference spells out (the count covers all). */
export const SHOWN_WRONG_VALUES = 20;

export interface TableDifference {
  table: string;
  sourceRows: number;
  destinationRows: number;
  /** In the source but absent or at another version in the destination. */
  missingOrStale: string[];
  /** In the destination but not in the source (deleted rows that came back, or were never removed). */
  extra: string[];
  /** Columns of rows at the source's version holding another value: `table id column: expected X, got Y`, the first few. */
  wrongValues: string[];
  /** Every wrong column value, shown or not. */
  wrongValueCount: number;
}

/** A live source row as the Web API returns it (lookup annotations included), keyed by lower-case id. */
export interface SourceRow {
  version: number;
  row: WebApiRow;
}

/** A destination row read back: column name → value as its reader returns it. */
export type ReadRow = Record<string, unknown>;

/** A source table's metadata (the emulator serves it as Dataverse's metadata API does). */
export function sourceTable(emulator: Emulator, table: string): TableMetadata {
  const metadata = emulator.store.metadata().find((candidate) => candidate.logicalName === table);
  if (!metadata) throw new Error(`The emulator has no table '${table}'`);
  return metadata;
}

function forEachSourceRow(
  emulator: Emulator,
  table: string,
  visit: (id: string, version: number, row: SampleRow) => void,
): void {
  let after = -1;
  for (;;) {
    const page = emulator.store.page(table, after, 5000);
    for (const stored of page.rows) visit(stored.id.toLowerCase(), stored.version, stored.row);
    if (!page.more) return;
    after = page.rows[page.rows.length - 1]?.slot ?? after;
  }
}

/** id → versionnumber of every live row of a source table. */
export function sourceVersions(emulator: Emulator, table: string): Map<string, number> {
  const versions = new Map<string, number>();
  forEachSourceRow(emulator, table, (id, version) => versions.set(id, version));
  return versions;
}

/** Every live row of a source table as a client asking for annotations reads it (`Prefer: odata.include-annotations="*"`). */
export function sourceRows(emulator: Emulator, table: string): Map<string, SourceRow> {
  const metadata = sourceTable(emulator, table);
  const rows = new Map<string, SourceRow>();
  forEachSourceRow(emulator, table, (id, version, row) => {
    rows.set(id, { version, row: toWebApiRow(metadata, row, { versionNumber: version, annotations: true }) });
  });
  return rows;
}

/** id → versionnumber of every row of a destination table. */
export async function destinationVersions(destination: Destination, table: string): Promise<Map<string, number>> {
  const rows = await destinationRows(destination, table);
  return new Map([...rows].map(([id, row]) => [id, Number(row.versionnumber)]));
}

/** lower-case id → row of a SQL destination table. */
export async function destinationRows(destination: Destination, table: string): Promise<Map<string, ReadRow>> {
  if (!isSqlDestination(destination))
    throw new Error(
      'Row-by-row comparison reads SQL destinations; read a lake back as its readers do (test/lake/lake-readers.ts).',
    );
  const rows = await destination.readRows(table);
  return new Map(rows.map((row) => [String(row.Id).toLowerCase(), row]));
}

const shown = (value: string | null | undefined): string =>
  value === undefined ? 'no such column' : value === null ? 'NULL' : JSON.stringify(value);

/**
 * Holds a destination's rows against the source's. Values are compared only for rows at the source's
 * version (a stale row is already reported as such); `skipValues` names ids whose destination row is
 * rightly older than the source (rows the destination was made to reject).
 */
export function compareRows(
  metadata: TableMetadata,
  source: Map<string, SourceRow>,
  destination: Map<string, ReadRow>,
  kind: DestinationKind,
  options: { expectedVersions?: Map<string, number>; skipValues?: ReadonlySet<string> } = {},
): TableDifference {
  const table = metadata.logicalName;
  const columns = checkedColumns(metadata);
  const difference: TableDifference = {
    table,
    sourceRows: source.size,
    destinationRows: destination.size,
    missingOrStale: [],
    extra: [],
    wrongValues: [],
    wrongValueCount: 0,
  };
  for (const [id, { version, row }] of source) {
    const held = destination.get(id);
    const expectedVersion = options.expectedVersions?.get(id) ?? version;
    if (!held || Number(held.versionnumber) !== expectedVersion) {
      difference.missingOrStale.push(id);
      continue;
    }
    if (options.skipValues?.has(id)) continue;
    for (const column of columns) {
      const raw = sourceValue(column.source, id, version, row);
      // The same value as read needs no normalising (most SQL columns): a cheap exit for big tables.
      if (raw !== null && raw !== undefined && raw === held[column.name]) continue;
      const expected = cell(column.type, raw, kind);
      const got = column.name in held ? cell(column.type, held[column.name], kind) : undefined;
      if (got === expected) continue;
      difference.wrongValueCount++;
      if (difference.wrongValues.length < SHOWN_WRONG_VALUES)
        difference.wrongValues.push(`${table} ${id} ${column.name}: expected ${shown(expected)}, got ${shown(got)}`);
    }
  }
  for (const id of destination.keys()) if (!source.has(id)) difference.extra.push(id);
  return difference;
}

export async function compareTable(
  emulator: Emulator,
  destination: Destination,
  table: string,
): Promise<TableDifference> {
  return compareRows(
    sourceTable(emulator, table),
    sourceRows(emulator, table),
    await destinationRows(destination, table),
    'sql',
  );
}

/** Same rows at the same versions (values aside): what a wait for a destination to catch up waits for. */
export const versionsEqual = (difference: TableDifference): boolean =>
  difference.missingOrStale.length === 0 && difference.extra.length === 0;

export const isEqual = (difference: TableDifference): boolean =>
  versionsEqual(difference) && difference.wrongValueCount === 0;

/** One line for a difference: counts, then the first wrong values. */
export function describeDifference(difference: TableDifference): string {
  const counts = `${difference.missingOrStale.length} missing or stale, ${difference.extra.length} extra, ${difference.wrongValueCount} wrong values (source ${difference.sourceRows}, destination ${difference.destinationRows})`;
  return difference.wrongValues.length > 0
    ? `${difference.table}: ${counts}; ${difference.wrongValues.join('; ')}`
    : `${difference.table}: ${counts}`;
}
