/**
 * The statements of PostgreSQL's replace path for a batch of full rows (postgres-replace.ts): one lookup of what
 * the guards need to decide on the client, and the delete of the rows being replaced. Built from the dialect's
 * quoting so they stay in step with its other statements.
 */
import type { DestinationColumn } from '../../schema/table-model';
import type { ApplyTables, Statement, TableRef } from './dialect';

/** The dialect's own helpers (postgres-dialect.ts). */
export interface PostgresSqlText {
  quote(identifier: string): string;
  qualified(table: TableRef): string;
  /** SQL for the statement's time in UTC, as the sink timestamps are written. */
  nowUtc: string;
}

/** The lookup's row kinds: a tombstone, a row present in the table, the one row of the statement's facts. */
export const KNOWN_TOMBSTONE = 't';
export const KNOWN_PRESENT = 'p';
export const KNOWN_FACTS = 'f';

/**
 * Parameters: ids as a uuid array literal, entity name. Rows, every one with the same columns:
 * - `{ kind: 't', id }` for each tombstoned id;
 * - `{ kind: 'p', id, location, version, created }` for each id in the table: its ctid, versionnumber and
 *   SinkCreatedOn as text (NULL when the layout has no such column);
 * - one `{ kind: 'f', now, floor, columns, referenced }`: the statement's time, the table's version floor (NULL
 *   when it has none), how many columns the table has now, and whether a foreign key points at it.
 *
 * The table is probed id by id through its primary key: a LATERAL subquery with LIMIT cannot be flattened into a
 * join, so the planner has no choice of a hash join over a scan of the whole table, which it picks for
 * `= ANY(ids)` or a join to `unnest(ids)` (docs/notes/sql-apply-performance.md) and which costs more the larger
 * the table grows.
 */
export function knownRows(sql: PostgresSqlText, tables: ApplyTables, columns: DestinationColumn[]): Statement {
  const { quote, qualified, nowUtc } = sql;
  const created = columns.find((column) => column.source.kind === 'sinkTime' && column.source.on === 'insert');
  const present = quote('present');
  const row = quote('row');
  const createdText = created ? `${row}.${quote(created.name)}::text` : 'NULL::text';
  const target = qualified(tables.target);
  // Names are validated identifiers; doubling quotes keeps the literal a literal whatever they hold.
  const regclass = `'${target.replace(/'/g, "''")}'::regclass`;
  return [
    `SELECT '${KNOWN_TOMBSTONE}' AS ${quote('kind')}, ${quote('RecordId')}::text AS ${quote('id')}, NULL::text AS ${quote('location')},`,
    `  NULL::bigint AS ${quote('version')}, NULL::text AS ${quote('created')}, NULL::text AS ${quote('now')},`,
    `  NULL::bigint AS ${quote('floor')}, NULL::int AS ${quote('columns')}, NULL::boolean AS ${quote('referenced')}`,
    `  FROM ${qualified(tables.tombstones)} WHERE ${quote('EntityName')} = $2::text AND ${quote('RecordId')} = ANY($1::uuid[])`,
    `UNION ALL SELECT '${KNOWN_PRESENT}', ${present}.*, NULL, NULL, NULL, NULL`,
    `  FROM unnest($1::uuid[]) AS ${quote('wanted')}(${quote('id')}) CROSS JOIN LATERAL (`,
    `    SELECT ${row}.${quote('Id')}::text, ${row}.ctid::text, ${row}.${quote('versionnumber')}, ${createdText}`,
    `    FROM ${target} AS ${row} WHERE ${row}.${quote('Id')} = ${quote('wanted')}.${quote('id')} LIMIT 1) AS ${present}`,
    `UNION ALL SELECT '${KNOWN_FACTS}', NULL, NULL, NULL, NULL, ${nowUtc}::text,`,
    `  (SELECT ${quote('VersionNumber')} FROM ${qualified(tables.versionFloor)} WHERE ${quote('EntityName')} = $2::text),`,
    `  (SELECT count(*) FROM pg_catalog.pg_attribute WHERE attrelid = ${regclass} AND attnum > 0 AND NOT attisdropped)::int,`,
    `  EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE confrelid = ${regclass} AND contype = 'f')`,
  ].join('\n');
}

/**
 * Parameters: the rows' locations (ctids) as a tid array literal, their ids as a uuid array literal. Deletes the
 * rows the lookup found, found again by location (a TID scan, whatever the table's size) and checked by id, so a
 * row that moved or changed since is left alone; the driver's row count says how many went.
 */
export const deleteReplaced = (sql: PostgresSqlText, tables: ApplyTables): Statement =>
  `DELETE FROM ${sql.qualified(tables.target)} WHERE ctid = ANY($1::tid[]) AND ${sql.quote('Id')} = ANY($2::uuid[])`;
