/**
 * The statement of PostgreSQL's replace path for a batch of full rows (postgres-replace.ts): one statement that
 * finds the batch's ids in the table, deletes the rows the version guard lets the batch replace, and answers what the
 * client needs to decide the rest. Built from the dialect's quoting so it stays in step with its other statements.
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

/** The answer's row kinds: a tombstoned id, a row deleted to be replaced, a row left in place, the facts row. */
export const KNOWN_TOMBSTONE = 't';
export const KNOWN_REMOVED = 'r';
export const KNOWN_KEPT = 'k';
export const KNOWN_FACTS = 'f';

/**
 * Parameters: ids as a uuid array literal, entity name, the ids' incoming versions as a bigint array literal (same
 * order), the number of columns the layout writes. Deletes every row of the table whose id is in the batch, whose
 * version is older than the incoming one (or NULL) and whose id has no tombstone; but nothing at all when the table
 * has another number of columns (a column the batch does not carry would be lost) or a foreign key points at it (the
 * delete would cascade or fail). Rows, every one with the same columns:
 * - `{ kind: 't', id }` for each tombstoned id (the staging upsert's guards decide those);
 * - `{ kind: 'r', id, created }` for each row deleted, with its SinkCreatedOn as text (NULL without the column);
 * - `{ kind: 'k', id }` for each other id in the table (stale, tombstoned, or not deleted for the reasons above);
 * - one `{ kind: 'f', now, floor, replaceable }`: the statement's time, the table's version floor (NULL when it has
 *   none), and whether rows were deleted at all (false for the reasons above).
 *
 * The table is probed id by id through its primary key: a LATERAL subquery with LIMIT cannot be flattened into a
 * join, so the planner has no choice of a hash join over a scan of the whole table, which it picks for
 * `= ANY(ids)` or a join to `unnest(ids)` (docs/notes/sql-apply-performance.md) and which costs more the larger
 * the table grows. The delete finds the rows again by ctid, read in the same statement's snapshot.
 */
export function replaceKnownRows(sql: PostgresSqlText, tables: ApplyTables, columns: DestinationColumn[]): Statement {
  const { quote, qualified, nowUtc } = sql;
  const created = columns.find((column) => column.source.kind === 'sinkTime' && column.source.on === 'insert');
  const [kind, id, version] = [quote('kind'), quote('id'), quote('version')];
  const [wanted, present, tombstoned, facts, removed] = ['wanted', 'present', 'tombstoned', 'facts', 'removed'].map(
    quote,
  );
  const row = quote('row');
  const target = qualified(tables.target);
  // Names are validated identifiers; doubling quotes keeps the literal a literal whatever they hold.
  const regclass = `'${target.replace(/'/g, "''")}'::regclass`;
  return [
    `WITH ${facts} AS MATERIALIZED (SELECT ${nowUtc}::text AS ${quote('now')},`,
    `  (SELECT ${quote('VersionNumber')} FROM ${qualified(tables.versionFloor)} WHERE ${quote('EntityName')} = $2::text) AS ${quote('floor')},`,
    `  (SELECT count(*) FROM pg_catalog.pg_attribute WHERE attrelid = ${regclass} AND attnum > 0 AND NOT attisdropped) = $4::int`,
    `  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE confrelid = ${regclass} AND contype = 'f') AS ${quote('replaceable')}),`,
    `${tombstoned} AS MATERIALIZED (SELECT ${quote('RecordId')} AS ${id} FROM ${qualified(tables.tombstones)}`,
    `  WHERE ${quote('EntityName')} = $2::text AND ${quote('RecordId')} = ANY($1::uuid[])),`,
    `${present} AS MATERIALIZED (SELECT ${wanted}.${id}, ${row}.ctid AS ${quote('location')},`,
    `  (${row}.${quote('versionnumber')} IS NULL OR ${row}.${quote('versionnumber')} < ${wanted}.${version}) AS ${quote('older')}`,
    `  FROM unnest($1::uuid[], $3::bigint[]) AS ${wanted}(${id}, ${version}) CROSS JOIN LATERAL (`,
    `    SELECT ctid, ${quote('versionnumber')} FROM ${target} WHERE ${quote('Id')} = ${wanted}.${id} LIMIT 1) AS ${row}),`,
    `${removed} AS (DELETE FROM ${target} WHERE ctid = ANY(ARRAY(SELECT ${present}.${quote('location')} FROM ${present}`,
    `    WHERE ${present}.${quote('older')} AND NOT EXISTS (SELECT 1 FROM ${tombstoned} WHERE ${tombstoned}.${id} = ${present}.${id})))`,
    // A ctid is unique only within one physical table: on a partitioned or inherited table the same location can
    // name a row of another partition, so the id must match too.
    `  AND ${quote('Id')} = ANY($1::uuid[]) AND (SELECT ${quote('replaceable')} FROM ${facts})`,
    `  RETURNING ${quote('Id')} AS ${id}, ${created ? `${quote(created.name)}::text` : 'NULL::text'} AS ${quote('created')})`,
    `SELECT '${KNOWN_TOMBSTONE}' AS ${kind}, ${id}::text AS ${id}, NULL::text AS ${quote('created')}, NULL::text AS ${quote('now')},`,
    `  NULL::bigint AS ${quote('floor')}, NULL::boolean AS ${quote('replaceable')} FROM ${tombstoned}`,
    `UNION ALL SELECT '${KNOWN_REMOVED}', ${id}::text, ${quote('created')}, NULL, NULL, NULL FROM ${removed}`,
    `UNION ALL SELECT '${KNOWN_KEPT}', ${id}::text, NULL, NULL, NULL, NULL FROM ${present}`,
    `  WHERE NOT EXISTS (SELECT 1 FROM ${removed} WHERE ${removed}.${id} = ${present}.${id})`,
    `UNION ALL SELECT '${KNOWN_FACTS}', NULL, NULL, ${quote('now')}, ${quote('floor')}, ${quote('replaceable')} FROM ${facts}`,
  ].join('\n');
}
