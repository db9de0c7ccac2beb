/**
 * The SQL destination of one export profile: DES-compatible tables and metadata tables, schema drift
 * (schema-sync.ts), idempotent version-guarded batch apply with tombstones, string widening and row isolation
 * (apply.ts), the resync sweep (resync-sweep.ts) and reading back (read-back.ts).
 */
import type { Destination } from '../destination';
import type { SqlConnection } from './connection';
import { createSqlContext, type DestinationTarget } from './context';
import type { DialectName, SqlDialect } from './dialect';
import { applyBatch } from './apply';
import { Layouts } from './layout';
import { countRows, readTable, type DestinationRow } from './read-back';
import { createResyncSweep } from './resync-sweep';
import { ensureTables } from './schema-sync';
import { fillColumns } from './schema-fill';
import { forgetRows } from './forget-rows';
import { prefixed } from '../../schema/identifiers';

export type { DestinationTarget } from './context';
export type { DestinationRow } from './read-back';

/** The SQL destination: the port plus row counting and reading back (verification, tests). */
export interface SqlDestination extends Destination {
  readonly dialect: DialectName;
  /** Rows in the DES table of a Dataverse table. */
  countRows(logicalName: string): Promise<number>;
  /** All rows of the DES table of a Dataverse table, ordered by Id. */
  readRows(logicalName: string): Promise<DestinationRow[]>;
  /** All rows of any table of the profile by destination name (e.g. `crm_DeleteLog`), ordered by its first column. */
  readTable(tableName: string): Promise<DestinationRow[]>;
}

export const isSqlDestination = (destination: Destination): destination is SqlDestination =>
  'dialect' in destination && 'readRows' in destination;

export function createSqlDestination(
  connection: SqlConnection,
  dialect: SqlDialect,
  target: DestinationTarget,
): SqlDestination {
  const context = createSqlContext(connection, dialect, target);
  const layouts = new Layouts(context);
  const sqlDestination: SqlDestination = {
    dialect: dialect.name,
    ensureTables: (tables, relationships) => ensureTables(context, layouts, tables, relationships),
    applyBatch: (table, batch) => applyBatch(context, layouts, table, batch),
    fillColumns: (table, columns, rows) => fillColumns(context, layouts, table, columns, rows),
    countRows: (logicalName) => countRows(context, logicalName),
    forgetRows: (logicalName) => forgetRows(context, logicalName),
    readRows: (logicalName) => sqlDestination.readTable(prefixed(context.prefix, logicalName)),
    readTable: (tableName) => readTable(context, tableName),
    // Through the object, as callers see it: the sweep's deletes are ordinary batches.
    resync: createResyncSweep(context, (table, batch) => sqlDestination.applyBatch(table, batch)),
    close: () => connection.close(),
  };
  return sqlDestination;
}
