/**
 * SQL Server / Azure SQL: `MERGE … WITH (HOLDLOCK)` over `OPENJSON`. One NVARCHAR(MAX) parameter carries
 * the whole batch, so there is no per-table TVP type to create and re-create on schema drift and no
 * separate bulk-load round trip; HOLDLOCK makes the match-then-insert atomic against concurrent batches.
 */
import type { FixedColumn, FixedTable } from '../../schema/metadata-tables';
import type { ColumnType, DestinationColumn } from '../../schema/table-model';
import type { ApplyTables, InformationSchemaColumn, SqlDialect, TableRef } from './dialect';
import { insertSelect, suppliedColumns } from './dialect';
import { columnTypeSql, parseColumnType, type TypeNames } from './column-types';

const quote = (identifier: string): string => `[${identifier.replace(/]/g, ']]')}]`;
const qualified = (table: TableRef): string => `${quote(table.schema)}.${quote(table.name)}`;
/** A string literal for names only (already validated as [A-Za-z0-9_]); values are always parameters. */
const nameLiteral = (name: string): string => `N'${name.replace(/'/g, "''")}'`;
const NOW_UTC = 'SYSUTCDATETIME()';

const TYPE_NAMES: TypeNames = {
  fixed: {
    guid: ['uniqueidentifier'],
    int: ['int'],
    bigint: ['bigint'],
    bit: ['bit'],
    datetime: ['datetime2', 'datetime'],
  },
  strings: ['nvarchar', 'varchar'],
  unboundedStrings: [],
  decimals: ['decimal', 'numeric'],
  string: (length) => `nvarchar(${length})`,
  decimal: (scale) => `decimal(38,${scale})`,
};
const typeSql = (type: ColumnType): string => columnTypeSql(type, TYPE_NAMES);
const parseType = (column: InformationSchemaColumn): ColumnType | undefined => parseColumnType(column, TYPE_NAMES);

/**
 * OPENJSON column types, independent of the table's current widths: strings unbounded, so an over-long value
 * fails in the MERGE (a data error) instead of being cut; decimals at Dataverse's largest scale (10), so a
 * scale widened by another process is not rounded away by a cached statement. The MERGE converts to the column.
 */
function jsonTypeSql(type: ColumnType): string {
  if (type.kind === 'string') return 'nvarchar(max)';
  return type.kind === 'decimal' ? 'decimal(38,10)' : typeSql(type);
}

const columnDefinition = (column: FixedColumn): string =>
  `${quote(column.name)} ${typeSql(column.type)}${column.identity ? ' IDENTITY(1,1)' : ''}${column.nullable ? ' NULL' : ' NOT NULL'}`;

const openJson = (parameter: string, alias: string, columns: Array<{ name: string; type: ColumnType }>): string =>
  `OPENJSON(${parameter}) WITH (\n    ${columns
    .map((column) => `${quote(column.name)} ${jsonTypeSql(column.type)} '$."${column.name}"'`)
    .join(',\n    ')}\n  ) AS ${quote(alias)}`;

/**
 * Conversion, overflow, truncation, NULL and JSON-shape errors: the values' fault.
 * 8114/8115/220/232/241/242/245/248/8169/9809 conversion and overflow, 2628/8152 truncation, 515 NULL, 13609 bad JSON.
 */
const DATA_ERRORS = new Set([220, 232, 241, 242, 245, 248, 515, 2628, 8114, 8115, 8152, 8169, 9809, 13609]);
/** 207 invalid column name, 208 invalid object name, 4902 cannot find the object for ALTER TABLE. */
const SCHEMA_ERRORS = new Set([207, 208, 4902]);

/** The SQL Server error number, looking through mssql's wrapper (`originalError`). */
function errorNumber(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if ('number' in error && typeof error.number === 'number') return error.number;
  return 'originalError' in error ? errorNumber(error.originalError) : undefined;
}

function classifyError(error: unknown): 'data' | 'schema' | 'transient' {
  const number = errorNumber(error) ?? 0;
  if (DATA_ERRORS.has(number)) return 'data';
  return SCHEMA_ERRORS.has(number) ? 'schema' : 'transient';
}

/** The MERGE source's flag for whether a row not in the table may be inserted; not a name Dataverse can give. */
const INSERTABLE = quote('dvx:insertable');

/**
 * The version floor's guard (version-floor.ts) on the OPENJSON rows aliased "incoming", as the INSERTABLE flag:
 * above the floor, or an id the last resync saw. Only the MERGE's insert reads it: a row in the table is an update,
 * which the floor leaves alone, so no row costs a lookup of the table. Entity name is @p2.
 */
function insertableFlag(tables: ApplyTables): string {
  const incoming = quote('incoming');
  const entity = quote('EntityName');
  return [
    `CASE WHEN ${incoming}.${quote('versionnumber')} > ISNULL((SELECT ${quote('floor')}.${quote('VersionNumber')} FROM ${qualified(tables.versionFloor)} AS ${quote('floor')} WHERE ${quote('floor')}.${entity} = @p2), -1)`,
    `    OR EXISTS (SELECT 1 FROM ${qualified(tables.resyncSeen)} AS ${quote('seen')} WHERE ${quote('seen')}.${entity} = @p2 AND ${quote('seen')}.${quote('RecordId')} = ${incoming}.${quote('Id')})`,
    `    THEN 1 ELSE 0 END AS ${INSERTABLE}`,
  ].join('\n');
}

export const mssqlDialect: SqlDialect = {
  name: 'mssql',
  quote,
  typeSql,
  parseType,

  createSchema: (schema) =>
    `IF SCHEMA_ID(${nameLiteral(schema)}) IS NULL EXEC(N'CREATE SCHEMA ${quote(schema).replace(/'/g, "''")}')`,

  /**
   * No FILLFACTOR for a Dataverse table's copy (`rowsUpdatedInPlace`), unlike PostgreSQL: SQL Server uses a fill
   * factor only when an index is created or rebuilt, not for pages filled later
   * (https://learn.microsoft.com/sql/relational-databases/indexes/specify-fill-factor-for-an-index), and this table
   * is created empty. It also updates a row in place on its clustered-key page rather than writing a second
   * version there, so the upsert's MERGE was left as it is: one join of OPENJSON to the clustered primary key, and
   * `WHEN MATCHED AND <version guard>` writes nothing for a stale row (docs/notes/sql-apply-performance.md).
   */
  createTable: (schema, table: FixedTable) => {
    const definitions = table.columns.map(columnDefinition);
    if (table.primaryKey.length > 0) {
      definitions.push(
        `CONSTRAINT ${quote(`PK_${table.name}`)} PRIMARY KEY (${table.primaryKey.map(quote).join(', ')})`,
      );
    }
    const name = qualified({ schema, name: table.name });
    return `IF OBJECT_ID(${nameLiteral(name)}, N'U') IS NULL\nCREATE TABLE ${name} (\n  ${definitions.join(',\n  ')}\n)`;
  },

  addColumn: (table, column) => `ALTER TABLE ${qualified(table)} ADD ${columnDefinition(column)}`,

  alterColumnType: (table, column, type) =>
    `ALTER TABLE ${qualified(table)} ALTER COLUMN ${quote(column)} ${typeSql(type)} NULL`,

  listColumns: () =>
    `SELECT COLUMN_NAME AS column_name, DATA_TYPE AS data_type, CHARACTER_MAXIMUM_LENGTH AS character_maximum_length, ` +
    `NUMERIC_SCALE AS numeric_scale FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = @p1 AND TABLE_NAME = @p2 ORDER BY ORDINAL_POSITION`,

  compatibilityLevel: () =>
    `SELECT ${quote('compatibility_level')} FROM sys.databases WHERE ${quote('name')} = DB_NAME()`,

  primaryKeyColumns: () =>
    `SELECT k.COLUMN_NAME AS column_name FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS AS c JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE AS k ` +
    `ON k.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND k.CONSTRAINT_NAME = c.CONSTRAINT_NAME AND k.TABLE_NAME = c.TABLE_NAME ` +
    `WHERE c.CONSTRAINT_TYPE = 'PRIMARY KEY' AND c.TABLE_SCHEMA = @p1 AND c.TABLE_NAME = @p2 ORDER BY k.ORDINAL_POSITION`,

  // A negative result (-3: chosen as deadlock victim, -999: parameter or call error) does not raise an error by
  // itself: without the THROW the batch would go on unlocked. 51000 is a user error, classified transient: retried.
  lockTable: () =>
    [
      `DECLARE @granted int;`,
      `EXEC @granted = sp_getapplock @Resource = @p1, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = -1;`,
      `IF @granted < 0 THROW 51000, N'The table lock was not granted (sp_getapplock returned a negative code); the batch is retried.', 1;`,
    ].join('\n'),

  upsert: (tables: ApplyTables, columns: DestinationColumn[]) => {
    const source = quote('source');
    const target = quote('target');
    const version = quote('versionnumber');
    const tombstone = quote('tombstone');
    const valueOf = (column: DestinationColumn): string =>
      column.source.kind === 'sinkTime' ? NOW_UTC : `${source}.${quote(column.name)}`;
    const updates = columns
      .filter(
        (column) =>
          column.source.kind !== 'id' && !(column.source.kind === 'sinkTime' && column.source.on === 'insert'),
      )
      .map((column) => `${quote(column.name)} = ${valueOf(column)}`);
    return [
      `MERGE ${qualified(tables.target)} WITH (HOLDLOCK) AS ${target}`,
      `USING (`,
      `  SELECT ${quote('incoming')}.*, ${insertableFlag(tables)}`,
      `  FROM ${openJson('@p1', 'incoming', suppliedColumns(columns))}`,
      `  WHERE NOT EXISTS (SELECT 1 FROM ${qualified(tables.tombstones)} AS ${tombstone}`,
      `    WHERE ${tombstone}.${quote('EntityName')} = @p2 AND ${tombstone}.${quote('RecordId')} = ${quote('incoming')}.${quote('Id')}`,
      `    AND ${tombstone}.${quote('VersionNumber')} >= ${quote('incoming')}.${version})`,
      `) AS ${source}`,
      `ON ${target}.${quote('Id')} = ${source}.${quote('Id')}`,
      `WHEN MATCHED AND (${target}.${version} IS NULL OR ${target}.${version} < ${source}.${version}) THEN`,
      `  UPDATE SET ${updates.join(', ')}`,
      `WHEN NOT MATCHED BY TARGET AND ${source}.${INSERTABLE} = 1 THEN`,
      `  INSERT (${columns.map((column) => quote(column.name)).join(', ')})`,
      `  VALUES (${columns.map(valueOf).join(', ')});`,
    ].join('\n');
  },

  fillColumns: (table, columns) => {
    const version = quote('versionnumber');
    const filled = columns.filter((column) => column.source.kind !== 'id' && column.source.kind !== 'version');
    return [
      `UPDATE ${quote('target')}`,
      `SET ${filled.map((column) => `${quote('target')}.${quote(column.name)} = ${quote('incoming')}.${quote(column.name)}`).join(', ')}`,
      `FROM ${qualified(table)} AS ${quote('target')} WITH (UPDLOCK)`,
      `JOIN ${openJson('@p1', 'incoming', columns)} ON ${quote('target')}.${quote('Id')} = ${quote('incoming')}.${quote('Id')}`,
      `WHERE ${quote('target')}.${version} IS NULL OR ${quote('target')}.${version} <= ${quote('incoming')}.${version};`,
    ].join('\n');
  },
  applyDeletes: (tables: ApplyTables) => {
    const tombstone = quote('tombstone');
    const incoming = quote('incoming');
    const target = quote('target');
    const done = quote('done');
    const joinDone = `INNER JOIN @tombstoned AS ${done} ON ${target}.${quote('Id')} = ${done}.${quote('RecordId')}`;
    return [
      `DECLARE @tombstoned TABLE (${quote('RecordId')} uniqueidentifier PRIMARY KEY, ${quote('VersionNumber')} bigint NOT NULL);`,
      `MERGE ${qualified(tables.tombstones)} WITH (HOLDLOCK) AS ${tombstone}`,
      `USING (SELECT * FROM ${openJson('@p1', 'incoming', [
        { name: 'Id', type: { kind: 'guid' } },
        { name: 'versionnumber', type: { kind: 'bigint' } },
      ])}) AS ${incoming}`,
      `ON ${tombstone}.${quote('EntityName')} = @p2 AND ${tombstone}.${quote('RecordId')} = ${incoming}.${quote('Id')}`,
      `WHEN MATCHED AND ${tombstone}.${quote('VersionNumber')} < ${incoming}.${quote('versionnumber')} THEN`,
      `  UPDATE SET ${quote('VersionNumber')} = ${incoming}.${quote('versionnumber')}, ${quote('TombstonedOn')} = ${NOW_UTC}`,
      `WHEN NOT MATCHED BY TARGET THEN`,
      `  INSERT (${['EntityName', 'RecordId', 'VersionNumber', 'TombstonedOn'].map(quote).join(', ')})`,
      `  VALUES (@p2, ${incoming}.${quote('Id')}, ${incoming}.${quote('versionnumber')}, ${NOW_UTC})`,
      `OUTPUT inserted.${quote('RecordId')}, inserted.${quote('VersionNumber')} INTO @tombstoned;`,
      `DECLARE @survived int = (SELECT COUNT(*) FROM ${qualified(tables.target)} AS ${target} ${joinDone}`,
      `  WHERE ${target}.${quote('versionnumber')} > ${done}.${quote('VersionNumber')});`,
      `DELETE ${target} FROM ${qualified(tables.target)} AS ${target} ${joinDone}`,
      // A row without a version (a table that was there before) counts as older, as in the MERGE's guard.
      `  WHERE ${target}.${quote('versionnumber')} IS NULL OR ${target}.${quote('versionnumber')} <= ${done}.${quote('VersionNumber')};`,
      ...(tables.deleteLog
        ? [
            `INSERT INTO ${qualified(tables.deleteLog)} (${['EntityName', 'RecordId', 'SinkDeleteTime', 'VersionNumber'].map(quote).join(', ')})`,
            `  SELECT @p2, LOWER(CONVERT(nvarchar(64), ${quote('RecordId')})), ${NOW_UTC}, ${quote('VersionNumber')} FROM @tombstoned;`,
          ]
        : []),
      `SELECT COUNT(*) AS ${quote('applied')}, @survived AS ${quote('survived')} FROM @tombstoned;`,
    ].join('\n');
  },

  deleteMetadataRows: (table) =>
    `DELETE FROM ${qualified(table)} WHERE ${quote('EntityName')} IN (SELECT [value] FROM OPENJSON(@p1))`,

  insertRows: (table, columns) =>
    insertSelect(qualified(table), columns, quote, (supplied) => openJson('@p1', 'incoming', supplied)),

  selectAll: (table) => `SELECT * FROM ${qualified(table)}`,
  selectUnseen: (table, seen) =>
    [
      `SELECT TOP (@p2) t.${quote('Id')} AS ${quote('Id')} FROM ${qualified(table)} AS t`,
      `WHERE NOT EXISTS (SELECT 1 FROM ${qualified(seen)} AS s WHERE s.${quote('EntityName')} = @p1 AND s.${quote('RecordId')} = t.${quote('Id')})`,
      `ORDER BY t.${quote('Id')}`,
    ].join('\n'),
  forgetSeenPresent: (seen, table) =>
    [
      `DELETE s FROM ${qualified(seen)} AS s WHERE s.${quote('EntityName')} = @p1`,
      `AND EXISTS (SELECT 1 FROM ${qualified(table)} AS t WHERE t.${quote('Id')} = s.${quote('RecordId')});`,
    ].join('\n'),
  raiseVersionFloor: (floor) =>
    [
      `MERGE ${qualified(floor)} WITH (HOLDLOCK) AS ${quote('floor')}`,
      `USING (SELECT CAST(@p1 AS nvarchar(128)) AS ${quote('EntityName')}, CAST(@p2 AS bigint) AS ${quote('VersionNumber')}) AS ${quote('incoming')}`,
      `ON ${quote('floor')}.${quote('EntityName')} = ${quote('incoming')}.${quote('EntityName')}`,
      `WHEN MATCHED AND ${quote('floor')}.${quote('VersionNumber')} < ${quote('incoming')}.${quote('VersionNumber')} THEN`,
      `  UPDATE SET ${quote('VersionNumber')} = ${quote('incoming')}.${quote('VersionNumber')}`,
      `WHEN NOT MATCHED BY TARGET THEN`,
      `  INSERT (${quote('EntityName')}, ${quote('VersionNumber')}) VALUES (${quote('incoming')}.${quote('EntityName')}, ${quote('incoming')}.${quote('VersionNumber')});`,
    ].join('\n'),
  countRows: (table) => `SELECT COUNT_BIG(*) AS ${quote('rows')} FROM ${qualified(table)}`,

  classifyError,
};
