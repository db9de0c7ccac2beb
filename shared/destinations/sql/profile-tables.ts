/**
 * Every table the SQL destination keeps for one profile (schema + prefix), so they can be dropped together,
 * as DES's drop script did: the exported tables (M:N intersect tables are exported tables too), the metadata
 * tables, and this product's own tombstone, resync, version-floor and delete-log tables. Staging tables are not listed:
 * they are temporary and end with their transaction (SqlDialect.staging).
 *
 * The exported tables are found where the destination itself records them, its AttributeMetadata and
 * Tombstone tables, so the list needs no Dataverse call and names what this destination really holds.
 */
import { prefixed, validatePrefix, validateSchemaName } from '../../schema/identifiers';
import {
  deleteLogTable,
  metadataTable,
  metadataTableKinds,
  resyncSeenTable,
  tombstoneTable,
} from '../../schema/metadata-tables';
import type { SqlConnection, SqlSession } from './connection';
import type { SqlDialect } from './dialect';
import { versionFloorTable } from './version-floor';

/** The product's own tables of a prefix, whatever was exported: metadata, tombstones, resync ids, version floors, delete log. */
export function helperTableNames(prefix: string): string[] {
  return [
    ...metadataTableKinds.map((kind) => metadataTable(prefix, kind).name),
    tombstoneTable(prefix).name,
    resyncSeenTable(prefix).name,
    versionFloorTable(prefix).name,
    deleteLogTable(prefix).name,
  ];
}

async function tableExists(session: SqlSession, dialect: SqlDialect, schema: string, name: string): Promise<boolean> {
  const { rows } = await session.query(dialect.listColumns(), [schema, name]);
  return rows.length > 0;
}

/** Entity names recorded in one of the destination's own tables (its `EntityName` column), when it exists. */
async function recordedEntities(
  session: SqlSession,
  dialect: SqlDialect,
  schema: string,
  table: string,
): Promise<string[]> {
  if (!(await tableExists(session, dialect, schema, table))) return [];
  const column = dialect.quote('EntityName');
  const { rows } = await session.query(
    `SELECT DISTINCT ${column} AS entity FROM ${dialect.quote(schema)}.${dialect.quote(table)}`,
  );
  return rows.map((row) => String(row.entity));
}

/**
 * The existing tables of the profile writing to `schema` with `prefix`: exported tables first (those the
 * destination recorded, plus `extraEntities` given by logical name), then the product's own.
 */
export async function listProfileTables(
  session: SqlSession,
  dialect: SqlDialect,
  target: { schema: string; prefix: string; extraEntities?: string[] },
): Promise<string[]> {
  const schema = validateSchemaName(target.schema);
  const prefix = validatePrefix(target.prefix);
  const entities = new Set<string>(target.extraEntities ?? []);
  for (const table of [metadataTable(prefix, 'AttributeMetadata').name, tombstoneTable(prefix).name])
    for (const entity of await recordedEntities(session, dialect, schema, table)) entities.add(entity);
  const candidates = [...[...entities].sort().map((entity) => prefixed(prefix, entity)), ...helperTableNames(prefix)];
  const existing: string[] = [];
  for (const name of candidates) if (await tableExists(session, dialect, schema, name)) existing.push(name);
  return existing;
}

/** `DROP TABLE IF EXISTS` per table, quoted as the dialect quotes (both PostgreSQL and SQL Server 2016+ have it). */
export const dropTableStatements = (dialect: SqlDialect, schema: string, tables: string[]): string[] =>
  tables.map((name) => `DROP TABLE IF EXISTS ${dialect.quote(schema)}.${dialect.quote(name)}`);

/**
 * The DROP statements for a profile's tables; run in one transaction when `execute` (DDL is transactional in
 * both PostgreSQL and SQL Server, so a failure drops nothing).
 */
export async function dropProfileTables(
  connection: SqlConnection,
  dialect: SqlDialect,
  target: { schema: string; prefix: string; extraEntities?: string[] },
  execute: boolean,
): Promise<string[]> {
  const statements = dropTableStatements(dialect, target.schema, await listProfileTables(connection, dialect, target));
  if (execute)
    await connection.transaction(async (session) => {
      for (const statement of statements) await session.query(statement);
    });
  return statements;
}
