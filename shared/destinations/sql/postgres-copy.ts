/**
 * PostgreSQL's COPY path (PostgreSQL server through pg; PGlite sessions cannot COPY). Parsing COPY text costs the
 * server far less than parsing JSON, which is most of the apply time for wide tables (docs/notes/sql.md). A batch
 * expected to hold new ids (the initial sync's) is copied straight into the table, but for its tombstoned ids and ids
 * at or below the table's version floor (version-floor.ts); the rest, and batches expected to hold ids already there
 * (a delta's), are copied into a temporary staging table and upserted from there with the same guards as the
 * dialect's `upsert`. Only safe under the dialect's `lockTable`, which keeps other batches of the table out meanwhile.
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
   * Parameters: ids as an array literal, entity name. Rows: `{ id }` for tombstoned ids, and one `{ now, floor }`
   * (the table's version floor, version-floor.ts; NULL when it has none). For a batch expected to be all new ids,
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
  /**
   * The staged rows upserted with the dialect's guards. Parameters: entity name. One row `{ written, inserted }`:
   * rows written, and how many of them were new.
   */
  upsert(tables: ApplyTables, columns: DestinationColumn[]): Statement;
}

/** The COPY path's statements for one table layout. */
interface TableCopy {
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

/** The rows staged so far upserted into the table: how many were written, and how many of those were new. */
async function upsertStaged(
  session: Required<SqlSession>,
  statements: TableCopy,
  entity: string,
): Promise<{ written: number; inserted: number }> {
  const { rows } = await session.query(statements.upsert, [entity]);
  return { written: Number(rows[0]?.written ?? 0), inserted: Number(rows[0]?.inserted ?? 0) };
}

/**
 * A batch expected to hold only new ids: the tombstoned ids are looked up (and the version floor read) while the
 * first lines are encoded; the others are copied straight into the table, and an id already there fails the COPY
 * (`isDuplicateId`). Tombstoned ids and ids at or below the floor go through staging, whose guards decide.
 */
async function copyNewIds(
  session: Required<SqlSession>,
  statements: TableCopy,
  entity: string,
  upserts: RowUpsert[],
): Promise<number> {
  // Ids are validated GUIDs (see apply.ts), so the array literal needs no quoting; the lookup answers in lower case.
  const ids = upserts.map((change) => change.id.toLowerCase());
  const lookup = session.query(statements.tombstonedIds, [`{${ids.join(',')}}`, entity]);
  const ahead = await encodeAhead(lookup, upserts, statements.line);
  const { rows } = await lookup;
  const known = new Set(rows.map((row) => row.id).filter((id): id is string => typeof id === 'string'));
  const clock = rows.find((row) => row.now !== null);
  const sinkFields = `\t${String(clock?.now)}`.repeat(statements.sinkColumns);
  // At or below the version floor an id may be new only if the resync saw it: the staging upsert's guard decides.
  const floor = clock?.floor === null || clock?.floor === undefined ? -1 : Number(clock.floor);
  const fresh: number[] = [];
  const guarded: number[] = [];
  ids.forEach((id, index) =>
    (known.has(id) || (upserts[index] as RowUpsert).versionNumber <= floor ? guarded : fresh).push(index),
  );
  // The rest are encoded lazily, so the server parses one part of the batch while the next is being encoded.
  const lines = function* (indexes: number[], tail: string) {
    for (const index of indexes) yield `${ahead[index] ?? statements.line(upserts[index] as RowUpsert)}${tail}`;
  };
  if (fresh.length > 0) await session.copyIn(statements.copyIntoTable, lines(fresh, `${sinkFields}\n`));
  if (guarded.length === 0) return fresh.length;
  await session.query(statements.create);
  await session.copyIn(statements.copy, lines(guarded, '\n'));
  return fresh.length + (await upsertStaged(session, statements, entity)).written;
}

/**
 * A batch expected to hold ids already in the table: all of it through staging and one guarded upsert, with no
 * lookup first (PostgreSQL 15 plans a lookup of 5,000 ids as a scan of the whole table, which made an update
 * batch cost more the larger the table grew). `learned` hears whether every row was new.
 */
async function stageAll(
  session: Required<SqlSession>,
  statements: TableCopy,
  entity: string,
  upserts: RowUpsert[],
  learned: (allNew: boolean) => void,
): Promise<number> {
  await session.query(statements.create);
  await session.copyIn(
    statements.copy,
    (function* () {
      for (const upsert of upserts) yield `${statements.line(upsert)}\n`;
    })(),
  );
  const { written, inserted } = await upsertStaged(session, statements, entity);
  learned(inserted === upserts.length);
  return written;
}

/**
 * The COPY path of one destination. A batch expected to hold only new ids is copied straight into the table
 * (copyNewIds); if an id is there after all, the primary key stops the COPY, the transaction rolls back and the
 * batch is applied again through staging (stageAll).
 */
export function createCopyUpserts(statements: CopyStatements): BulkUpserts {
  /**
   * Per entity: whether the next batch's ids are expected to be new. The initial sync's are; a delta's are mostly
   * not. Learned from the last batch written through staging (were all its rows new?); starts optimistic.
   */
  const expectingNewIds = new Map<string, boolean>();
  const forTable = (tables: ApplyTables, columns: DestinationColumn[], readers: ValueReader[]): TableBulkUpserts => {
    const table: TableCopy = {
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
        const copying = session as Required<SqlSession>;
        if (optimistic) return copyNewIds(copying, table, entity, upserts);
        return stageAll(copying, table, entity, upserts, (allNew) => expectingNewIds.set(entity, allNew));
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
