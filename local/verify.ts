/** Compares a destination with the emulator's source, row by row (id and version), for `--once` and the tests. */
import type { Emulator } from './emulator/server';
import type { Destination } from '../shared/destinations/destination';
import { isSqlDestination } from '../shared/destinations/sql/destination';

export interface TableDifference {
  table: string;
  sourceRows: number;
  destinationRows: number;
  /** In the source but absent or at another version in the destination. */
  missingOrStale: string[];
  /** In the destination but not in the source (deleted rows that came back, or were never removed). */
  extra: string[];
}

/** id → versionnumber of every live row of a source table. */
export function sourceVersions(emulator: Emulator, table: string): Map<string, number> {
  const versions = new Map<string, number>();
  let after = -1;
  for (;;) {
    const page = emulator.store.page(table, after, 5000);
    for (const row of page.rows) versions.set(row.id, row.version);
    if (!page.more) return versions;
    after = page.rows[page.rows.length - 1]?.slot ?? after;
  }
}

/** id → versionnumber of every row of a destination table. */
export async function destinationVersions(destination: Destination, table: string): Promise<Map<string, number>> {
  if (!isSqlDestination(destination)) throw new Error('Row-by-row comparison reads SQL destinations; read a lake back as its readers do (test/lake/lake-readers.ts).');
  const rows = await destination.readRows(table);
  return new Map(rows.map((row) => [String(row.Id), Number(row.versionnumber)]));
}

export async function compareTable(emulator: Emulator, destination: Destination, table: string): Promise<TableDifference> {
  const source = sourceVersions(emulator, table);
  const destinationRows = await destinationVersions(destination, table);
  return {
    table,
    sourceRows: source.size,
    destinationRows: destinationRows.size,
    missingOrStale: [...source].filter(([id, version]) => destinationRows.get(id) !== version).map(([id]) => id),
    extra: [...destinationRows.keys()].filter((id) => !source.has(id)),
  };
}

export const isEqual = (difference: TableDifference): boolean => difference.missingOrStale.length === 0 && difference.extra.length === 0;
