/**
 * What differs between SQL Server and PostgreSQL: quoting, type names, placeholders, the set-based
 * apply statements and which errors are the data's fault. Every statement text is built here from
 * validated names; every value travels as a parameter (rows as one JSON document per statement).
 */
import type { ColumnType, DestinationColumn } from '../../schema/table-model';
import type { FixedColumn, FixedTable } from '../../schema/metadata-tables';
import type { RowUpsert } from '../../dataverse/changes';
import type { SqlSession } from './connection';
import type { ValueReader } from '../../schema/row-values';

export type DialectName = 'postgres' | 'mssql';

/** SQL text; its parameters are positional (`$1` / `@p1` is the first). */
export type Statement = string;

export interface TableRef {
  schema: string;
  name: string;
}

export interface ApplyTables {
  target: TableRef;
  tombstones: TableRef;
  /** Present when the profile writes DES's delete log. */
  deleteLog?: TableRef;
  /** The per-table version floors (version-floor.ts). */
  versionFloor: TableRef;
  /** Ids the last resync saw: an id listed there passes the version floor. */
  resyncSeen: TableRef;
}

export interface InformationSchemaColumn {
  column_name: string;
  data_type: string;
  character_maximum_length: number | null;
  numeric_scale: number | null;
}

export interface SqlDialect {
  readonly name: DialectName;
  quote(identifier: string): string;
  typeSql(type: ColumnType): string;
  /** The neutral type of an existing column, or undefined for a type this product never creates. */
  parseType(column: InformationSchemaColumn): ColumnType | undefined;

  createSchema(schema: string): Statement;
  /**
   * `rowsUpdatedInPlace`: a Dataverse table's copy, whose rows every delta rewrites (the export's own tables are
   * small or append-mostly); a dialect may leave room in its pages for the new row versions.
   */
  createTable(schema: string, table: FixedTable, options?: { rowsUpdatedInPlace?: boolean }): Statement;
  addColumn(table: TableRef, column: FixedColumn): Statement;
  alterColumnType(table: TableRef, column: string, type: ColumnType): Statement;
  /** Parameters: schema, table name. Rows: InformationSchemaColumn. */
  listColumns(): Statement;
  /** Parameters: schema, table name. Rows: `{ column_name }` of the table's primary key, in key order. */
  primaryKeyColumns(): Statement;
  /** One row `{ compatibility_level }` of the database written to; NULL where the server has no such level (server-level.ts). */
  compatibilityLevel(): Statement;

  /**
   * Takes a lock on one destination table until the transaction ends (parameter: a lock name), so
   * batches of the same table apply one after another: without it, an older upsert that checked the
   * tombstones before a concurrent delete committed could insert the row again once the delete is done.
   */
  lockTable(): Statement;
  /**
   * Version-guarded upsert of a batch. Parameters: rows as a JSON array keyed by column name, entity
   * name. Inserts new ids, updates only when the incoming version is newer, and skips ids whose
   * tombstone is at or above the incoming version, and new ids at or below the table's version floor that the
   * last resync did not see (version-floor.ts). Writes only `columns`: a column left out keeps its value in an
   * update. The driver's row count is the number of rows written.
   */
  upsert(tables: ApplyTables, columns: DestinationColumn[]): Statement;
  /**
   * A faster way than `upsert` to write a batch's upserts, where the driver has one (PostgreSQL's COPY:
   * postgres-copy.ts). Called once per destination: the result learns from the batches it writes.
   */
  bulkUpserts?(): BulkUpserts;
  /**
   * Deletes of a batch. Parameters: `[{ Id, versionnumber }]` as JSON, entity name. Raises tombstones
   * that are older than the delete, removes rows at or below the delete's version, writes the delete
   * log. Result: one row `{ applied, survived }` (tombstones raised; rows kept because they are newer).
   */
  applyDeletes(tables: ApplyTables): Statement;
  /**
   * Back-fills columns a table gained (schema-fill.ts). Parameter: rows `[{ Id, versionnumber, <columns> }]` as JSON.
   * Updates only `columns` of rows that exist at or below the row's version: never inserts (a deleted row stays
   * deleted) and never writes over a newer version (that one was mapped with the new columns already).
   */
  fillColumns(table: TableRef, columns: DestinationColumn[]): Statement;
  /** Parameters: entity names as a JSON array. */
  deleteMetadataRows(table: TableRef): Statement;
  /** Parameters: rows as a JSON array keyed by column name. */
  insertRows(table: TableRef, columns: FixedColumn[]): Statement;
  selectAll(table: TableRef): Statement;
  /** Ids of `table` that `seen` does not list for entity $1; at most $2 of them. */
  selectUnseen(table: TableRef, seen: TableRef): Statement;
  /** Removes from `seen` the ids of entity $1 that are in `table`, keeping those whose copy failed. */
  forgetSeenPresent(seen: TableRef, table: TableRef): Statement;
  /** Raises the version floor of entity $1 in `floor` to $2, never lowering it. */
  raiseVersionFloor(floor: TableRef): Statement;
  countRows(table: TableRef): Statement;

  /**
   * Whose fault a failed statement is: the values it was given (`data`: bisect finds the rows), the
   * table's shape (`schema`: a dropped table or column; retrying will not help), or anything else
   * (`transient`: connections, deadlocks, timeouts).
   */
  classifyError(error: unknown): 'data' | 'schema' | 'transient';
}

/** A dialect's bulk upsert path for one destination (see SqlDialect.bulkUpserts). */
export interface BulkUpserts {
  /**
   * The path for one table's columns, as the destination's layout of the table has them. `fullRows`: the layout
   * writes every column the table has, so a row it writes may replace the row there whole.
   */
  forTable(
    tables: ApplyTables,
    columns: DestinationColumn[],
    readers: ValueReader[],
    fullRows: boolean,
  ): TableBulkUpserts;
}

/**
 * Writes a batch's upserts through a session: the number of rows written (the version guards skip the others), or
 * undefined, having written nothing, where the session cannot use the path.
 */
export type BulkWrite = (session: SqlSession, upserts: RowUpsert[], entity: string) => Promise<number | undefined>;

export interface TableBulkUpserts {
  /**
   * Runs `transaction` (one transaction of a batch of `entity`) with the path's `write`. May run it a second time
   * after a failure the path caused by a guess of its own (the transaction has rolled back by then).
   */
  run<T>(entity: string, transaction: (write: BulkWrite) => Promise<T>): Promise<T>;
}

/** Neutral columns of a data table as the fixed-table shape DDL takes. */
export const asFixedColumns = (columns: DestinationColumn[]): FixedColumn[] =>
  columns.map((column) => ({ name: column.name, type: column.type, nullable: column.source.kind !== 'id' }));

/** Columns a batch supplies values for, in JSON; sink timestamps are stamped by the statement. */
export const suppliedColumns = (columns: DestinationColumn[]): DestinationColumn[] =>
  columns.filter((column) => column.source.kind !== 'sinkTime');

/** `INSERT … SELECT` of a fixed table's supplied columns (identity columns fill themselves) from a dialect's row source. */
export function insertSelect(
  target: string,
  columns: FixedColumn[],
  quote: (identifier: string) => string,
  rowsOf: (supplied: FixedColumn[]) => string,
): Statement {
  const supplied = columns.filter((column) => !column.identity);
  const names = supplied.map((column) => quote(column.name)).join(', ');
  return `INSERT INTO ${target} (${names})\nSELECT ${names} FROM ${rowsOf(supplied)}`;
}
