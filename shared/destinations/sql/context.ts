/**
 * What every part of one SQL destination shares: its connection, dialect and validated target (schema, prefix,
 * the export's own tables), and the catalog questions they all ask about an existing table.
 */
import { ExportError } from '../../errors';
import type { ExistingColumn } from '../../schema/drift';
import { validatePrefix, validateSchemaName } from '../../schema/identifiers';
import {
  deleteLogTable,
  metadataTable,
  metadataTableKinds,
  resyncSeenTable,
  tombstoneTable,
  type FixedTable,
} from '../../schema/metadata-tables';
import type { SqlConnection } from './connection';
import type { InformationSchemaColumn, SqlDialect, TableRef } from './dialect';
import { versionFloorTable } from './version-floor';

export interface DestinationTarget {
  schema: string;
  prefix: string;
  /** Write DES's `<prefix>_DeleteLog`. */
  writeDeleteLog: boolean;
  /** A value longer than its column widens the column instead of failing the row (off only in tests). */
  widenOverlongStrings: boolean;
}

export interface SqlContext {
  connection: SqlConnection;
  dialect: SqlDialect;
  target: DestinationTarget;
  /** Validated. */
  schema: string;
  /** Validated. */
  prefix: string;
  tombstones: FixedTable;
  deleteLog: FixedTable;
  resyncSeen: FixedTable;
  /** Per table, the watermark of its last resync sweep (version-floor.ts). */
  versionFloor: FixedTable;
  /** The export's own tables that activation creates (the delete log only when the profile writes it). */
  fixedTables: FixedTable[];
}

export function createSqlContext(
  connection: SqlConnection,
  dialect: SqlDialect,
  target: DestinationTarget,
): SqlContext {
  const schema = validateSchemaName(target.schema);
  const prefix = validatePrefix(target.prefix);
  const tombstones = tombstoneTable(prefix);
  const deleteLog = deleteLogTable(prefix);
  const resyncSeen = resyncSeenTable(prefix);
  const versionFloor = versionFloorTable(prefix);
  return {
    connection,
    dialect,
    target,
    schema,
    prefix,
    tombstones,
    deleteLog,
    resyncSeen,
    versionFloor,
    fixedTables: [
      tombstones,
      resyncSeen,
      versionFloor,
      ...(target.writeDeleteLog ? [deleteLog] : []),
      ...metadataTableKinds.map((kind) => metadataTable(prefix, kind)),
    ],
  };
}

export const tableRef = (context: SqlContext, name: string): TableRef => ({ schema: context.schema, name });

const numberOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/** The columns of a table of the profile's schema, typed; none when the table does not exist. */
export async function existingColumns(context: SqlContext, tableName: string): Promise<ExistingColumn[]> {
  const { connection, dialect, schema } = context;
  const { rows } = await connection.query(dialect.listColumns(), [schema, tableName]);
  return (rows as unknown as InformationSchemaColumn[]).map((row) => {
    // Drivers return these sizes as numbers or numeric strings.
    const type = dialect.parseType({
      ...row,
      character_maximum_length: numberOrNull(row.character_maximum_length),
      numeric_scale: numberOrNull(row.numeric_scale),
    });
    if (!type) {
      throw new ExportError(
        'schema',
        `Column ${tableName}.${row.column_name} has type ${row.data_type}, which this product does not write.`,
        {
          where: `${schema}.${tableName}.${row.column_name}`,
          fix: 'Restore the column type the export created, or drop the table so it is recreated and resynced.',
        },
      );
    }
    return { name: row.column_name, type };
  });
}

/**
 * A table that was there before (a DES table, one made by hand) must have its primary key on Id: the apply
 * relies on it to reject a second copy of a row (postgres-copy.ts) and to upsert (`ON CONFLICT` / `MERGE`).
 */
export async function requireIdPrimaryKey(context: SqlContext, tableName: string): Promise<void> {
  const { connection, dialect, schema } = context;
  const { rows } = await connection.query(dialect.primaryKeyColumns(), [schema, tableName]);
  const key = rows.map((row) => String(row.column_name));
  if (key.length === 1 && key[0]?.toLowerCase() === 'id') return;
  throw new ExportError(
    'schema',
    `Table ${schema}.${tableName} has ${key.length === 0 ? 'no primary key' : `its primary key on (${key.join(', ')})`}, not on Id.`,
    {
      where: `${schema}.${tableName}`,
      fix: `Make Id the table's primary key (ALTER TABLE … ADD PRIMARY KEY (Id), after removing duplicate Ids), or drop the table so activation recreates it, and resync the table.`,
    },
  );
}
