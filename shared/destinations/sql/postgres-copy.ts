/**
 * PostgreSQL's COPY path (PostgreSQL server through pg; PGlite sessions cannot COPY). Parsing COPY text costs the
 * server far less than parsing JSON, which is most of the apply time for wide tables (docs/notes/sql.md). Rows whose
 * id is neither in the table nor tombstoned are copied straight into the table (the initial sync is all such rows);
 * the others, and ids at or below the table's version floor (version-floor.ts), are copied into a temporary staging
 * table and upserted from there with the same guards as the dialect's `upsert`. Only safe under the dialect's `lockTable`, which keeps other batches of the table out meanwhile.
 */
import { setImmediate } from 'node:timers/promises';
import type { RowUpsert } from '../../dataverse/changes';
import type { ValueReader } from '../../schema/row-values';
import type { DestinationColumn } from '../../schema/table-model';
import type { SqlSession } from './connection';
import type { ApplyTables, BulkUpserts, Statement, TableBulkUpserts } from './dialect';

/** The statements of the COPY path (postgres-dialect.ts builds them). */
export interface CopyStatements {
  /**
   * Parameters: ids as an array literal, entity name. Rows: `{ id }` for ids present in the table or tombstoned,
   * and one `{ now, floor }` (the table's version floor, version-floor.ts; NULL when it has none).
   */
  knownIds(tables: ApplyTables): Statement;
  /**
   * `knownIds` without the table: only tombstoned ids, and `{ now, floor }`. For a batch expected to be all new ids,
   * whose COPY straight into the table then fails on the primary key (`isDuplicateId`) if one is not.
   */
  tombstonedIds(tables: ApplyTables): Statement;
  /** Whether a failed COPY straight into the table failed because an id it carried is already there. */
  isDuplicateId(error: unknown): boolean;
  /** COPY straight into the table: the supplied columns, then the two sink timestamps. */
  copyIntoTable(tables: ApplyTables, columns: DestinationColumn[]): Statement;
  /** A transaction-scoped staging table with the supplied columns, loosely typed (no lengths). */
  create(columns: DestinationColumn[]): Statement;
  copy(columns: DestinationColumn[]): Statement;
  /**
   * An encoder of one row as a COPY text-format line, one reader per field, without its newline (the
   * caller appends the sink timestamps where the COPY has them).
   */
  lineEncoder(readers: ValueReader[]): (change: RowUpsert) => string;
  /** Parameters: entity name. */
  upsert(tables: ApplyTables, columns: DestinationColumn[]): Statement;
}

/** The COPY path's statements for one table layout. */
interface TableCopy {
  knownIds: string;
  tombstonedIds: string;
  copyIntoTable: string;
  /** Sink timestamp columns in the COPY straight into the table. */
  sinkColumns: number;
  create: string;
  copy: string;
  upsert: string;
  /** The row's COPY line of the supplied columns, without its newline. */
  line(change: RowUpsert): string;
}

/** Rows encoded between looks at whether the id lookup has answered (about a millisecond of work). */
const ENCODE_SLICE = 64;

/**
 * Encodes the first lines of a batch while the server answers `pending` (the id lookup), so neither side
 * waits for the other; stops at the first slice boundary after it has answered.
 */
async function encodeAhead(
  pending: Promise<unknown>,
  upserts: RowUpsert[],
  line: (change: RowUpsert) => string,
): Promise<string[]> {
  let answered = false;
  const settle = () => {
    answered = true;
  };
  // Also handles a rejection when encoding throws first: the caller's transaction rolls back after it.
  pending.then(settle, settle);
  const lines: string[] = [];
  while (!answered && lines.length < upserts.length) {
    const end = Math.min(lines.length + ENCODE_SLICE, upserts.length);
    for (let index = lines.length; index < end; index++) lines.push(line(upserts[index] as RowUpsert));
    // Lets the connection read the answer: a query's result is only seen between event-loop turns.
    await setImmediate();
  }
  return lines;
}

/**
 * New ids straight into the table, the rest through staging; the rows written. When `optimistic`, only tombstoned
 * ids count as known, and an id already in the table fails the COPY; otherwise `looked` hears, as soon as the lookup
 * answers, whether any id was known.
 */
async function copyUpserts(
  session: Required<SqlSession>,
  statements: TableCopy,
  entity: string,
  upserts: RowUpsert[],
  optimistic: boolean,
  looked: (anyKnown: boolean) => void,
): Promise<number> {
  // Ids are validated GUIDs (see apply.ts), so the array literal needs no quoting; the lookup answers in lower case.
  const ids = upserts.map((change) => change.id.toLowerCase());
  const lookup = session.query(optimistic ? statements.tombstonedIds : statements.knownIds, [
    `{${ids.join(',')}}`,
    entity,
  ]);
  const ahead = await encodeAhead(lookup, upserts, statements.line);
  const { rows } = await lookup;
  const known = new Set(rows.map((row) => row.id).filter((id): id is string => typeof id === 'string'));
  if (!optimistic) looked(known.size > 0);
  const clock = rows.find((row) => row.now !== null);
  const sinkFields = `\t${String(clock?.now)}`.repeat(statements.sinkColumns);
  // At or below the version floor an id may be new only if the resync saw it: the staging upsert's guard decides.
  const floor = clock?.floor === null || clock?.floor === undefined ? -1 : Number(clock.floor);
  const fresh: number[] = [];
  const existing: number[] = [];
  ids.forEach((id, index) =>
    (known.has(id) || (upserts[index] as RowUpsert).versionNumber <= floor ? existing : fresh).push(index),
  );
  // The rest are encoded lazily, so the server parses one part of the batch while the next is being encoded.
  const lines = function* (indexes: number[], tail: string) {
    for (const index of indexes) yield `${ahead[index] ?? statements.line(upserts[index] as RowUpsert)}${tail}`;
  };
  if (fresh.length > 0) await session.copyIn(statements.copyIntoTable, lines(fresh, `${sinkFields}\n`));
  if (existing.length === 0) return fresh.length;
  await session.query(statements.create);
  await session.copyIn(statements.copy, lines(existing, '\n'));
  return fresh.length + (await session.query(statements.upsert, [entity])).rowCount;
}

/**
 * The COPY path of one destination. A batch expected to hold only new ids skips the lookup of existing ids
 * (PostgreSQL 15 plans 5,000 ids as a scan of the whole table: a quarter of an initial sync's apply) and copies
 * straight into the table; if an id is there after all, the primary key stops the COPY, the transaction rolls
 * back and the batch is applied again with the lookup.
 */
export function createCopyUpserts(statements: CopyStatements): BulkUpserts {
  /**
   * Per entity: whether the next batch's ids are expected to be new. The initial sync's are; a delta's are mostly
   * not. Learned from the last batch that looked its ids up; starts optimistic.
   */
  const expectingNewIds = new Map<string, boolean>();
  const forTable = (tables: ApplyTables, columns: DestinationColumn[], readers: ValueReader[]): TableBulkUpserts => {
    const table: TableCopy = {
      knownIds: statements.knownIds(tables),
      tombstonedIds: statements.tombstonedIds(tables),
      copyIntoTable: statements.copyIntoTable(tables, columns),
      sinkColumns: columns.filter((column) => column.source.kind === 'sinkTime').length,
      create: statements.create(columns),
      copy: statements.copy(columns),
      upsert: statements.upsert(tables, columns),
      line: statements.lineEncoder(readers),
    };
    const writer =
      (optimistic: boolean) =>
      async (session: SqlSession, upserts: RowUpsert[], entity: string): Promise<number | undefined> => {
        if (!session.copyIn) return undefined;
        return copyUpserts(session as Required<SqlSession>, table, entity, upserts, optimistic, (anyKnown) =>
          expectingNewIds.set(entity, !anyKnown),
        );
      };
    return {
      async run(entity, transaction) {
        const optimistic = expectingNewIds.get(entity) !== false;
        try {
          return await transaction(writer(optimistic));
        } catch (error) {
          if (!optimistic || !statements.isDuplicateId(error)) throw error;
          expectingNewIds.set(entity, false);
          return transaction(writer(false));
        }
      },
    };
  };
  return { forTable };
}
