/**
 * PostgreSQL's COPY path (PostgreSQL server through pg; PGlite sessions cannot COPY). Parsing COPY text costs the
 * server far less than parsing JSON, which is most of the apply time for wide tables (docs/notes/sql.md). A batch
 * expected to hold new ids (the initial sync's) is copied straight into the table, but for its tombstoned ids and ids
 * at or below the table's version floor (version-floor.ts). A batch of full rows expected to hold ids already there
 * (a delta's) replaces the rows its guards let through (postgres-replace.ts). The rest, and batches whose rows leave
 * columns out, are copied into a temporary staging table and upserted from there with the same guards as the
 * dialect's `upsert`. Only safe under the dialect's `lockTable`, which keeps other batches of the table out meanwhile.
 */
import type { RowUpsert } from '../../dataverse/changes';
import type { ValueReader } from '../../schema/row-values';
import type { DestinationColumn } from '../../schema/table-model';
import type { SqlSession } from './connection';
import type { ApplyTables, BulkUpserts, Statement, TableBulkUpserts } from './dialect';
import { encodeAhead } from './copy-encode-ahead';
import { replaceAndCopy, type ReplaceStatements } from './postgres-replace';

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
  /** The replace path's statement (postgres-replace-sql.ts `replaceKnownRows`). */
  replaceKnownRows(tables: ApplyTables, columns: DestinationColumn[]): Statement;
}

/** The COPY path's statements for one table layout. */
interface TableCopy extends ReplaceStatements {
  tombstonedIds: string;
  create: string;
  copy: string;
  upsert: string;
  /** Whether the layout's rows carry every column of the table, so a row may be replaced whole. */
  fullRows: boolean;
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
  const sinkFields = `\t${String(clock?.now)}`.repeat(statements.sinkCreated.length);
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
  return fresh.length + (await stage(session, statements, entity, lines(guarded, '\n'))).written;
}

/** `lines` (each with its newline) staged and upserted: how many were written, and how many of those were new. */
async function stage(
  session: Required<SqlSession>,
  statements: TableCopy,
  entity: string,
  lines: Iterable<string>,
): Promise<{ written: number; inserted: number }> {
  await session.query(statements.create);
  await session.copyIn(statements.copy, lines);
  return upsertStaged(session, statements, entity);
}

/**
 * A batch of full rows expected to hold ids already in the table: replaced where the guards let them through
 * (postgres-replace.ts), the tombstoned ids and new ids at or below the floor through staging, and all of it through
 * staging where the table has changed under the layout. `learned` hears whether every row was new.
 */
async function replaceRows(
  session: Required<SqlSession>,
  statements: TableCopy,
  entity: string,
  upserts: RowUpsert[],
  learned: (allNew: boolean) => void,
): Promise<number> {
  const replaced = await replaceAndCopy(session, statements, entity, upserts);
  if (!replaced) return stageAll(session, statements, entity, upserts, learned);
  const { guarded, line } = replaced;
  const staged =
    guarded.length === 0
      ? { written: 0, inserted: 0 }
      : await stage(
          session,
          statements,
          entity,
          (function* () {
            for (const index of guarded) yield `${line(index)}\n`;
          })(),
        );
  learned(!replaced.anyPresent && staged.inserted === guarded.length);
  return replaced.written + staged.written;
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
  const { written, inserted } = await stage(
    session,
    statements,
    entity,
    (function* () {
      for (const upsert of upserts) yield `${statements.line(upsert)}\n`;
    })(),
  );
  learned(inserted === upserts.length);
  return written;
}

/**
 * How a batch is written: `new` copies it straight into the table (copyNewIds), `known` replaces full rows
 * (replaceRows), `staged` upserts from staging (stageAll). A COPY that meets an id already in the table rolls the
 * transaction back and the batch goes again the next way: an id there after all (`new`), or a row written by someone
 * outside the lock between the lookup and the COPY (`known`).
 */
type Way = 'new' | 'known' | 'staged';

/**
 * The COPY path of one destination. A batch expected to hold only new ids is copied straight into the table; if an
 * id is there after all, the primary key stops the COPY, the transaction rolls back and the batch is applied again
 * with the lookup, which replaces full rows and stages the others.
 */
export function createCopyUpserts(statements: CopyStatements): BulkUpserts {
  /**
   * Per entity: whether the next batch's ids are expected to be new. The initial sync's are; a delta's are mostly
   * not. Learned from the last batch written with a lookup (were all its rows new?); starts optimistic.
   */
  const expectingNewIds = new Map<string, boolean>();
  const forTable = (
    tables: ApplyTables,
    columns: DestinationColumn[],
    readers: ValueReader[],
    fullRows: boolean,
  ): TableBulkUpserts => {
    const sinkColumns = columns.filter((column) => column.source.kind === 'sinkTime');
    const table: TableCopy = {
      tombstonedIds: statements.tombstonedIds(tables),
      replaceKnownRows: statements.replaceKnownRows(tables, columns),
      copyIntoTable: statements.copyIntoTable(tables, columns),
      sinkCreated: sinkColumns.map((column) => column.source.kind === 'sinkTime' && column.source.on === 'insert'),
      columnCount: columns.length,
      fullRows,
      create: statements.create(columns),
      copy: statements.copy(columns),
      upsert: statements.upsert(tables, columns),
      line: statements.lineEncoder(readers),
    };
    const learn = (entity: string) => (allNew: boolean) => expectingNewIds.set(entity, allNew);
    const writer =
      (way: Way) =>
      async (session: SqlSession, upserts: RowUpsert[], entity: string): Promise<number | undefined> => {
        if (!session.copyIn) return undefined;
        const copying = session as Required<SqlSession>;
        if (way === 'new') return copyNewIds(copying, table, entity, upserts);
        if (way === 'known') return replaceRows(copying, table, entity, upserts, learn(entity));
        return stageAll(copying, table, entity, upserts, learn(entity));
      };
    const known: Way[] = fullRows ? ['known', 'staged'] : ['staged'];
    return {
      async run(entity, transaction) {
        const ways: Way[] = expectingNewIds.get(entity) !== false ? ['new', ...known] : known;
        for (let index = 0; ; index++) {
          const way = ways[index] as Way;
          try {
            return await transaction(writer(way));
          } catch (error) {
            if (index === ways.length - 1 || !statements.isDuplicateId(error)) throw error;
            if (way === 'new') expectingNewIds.set(entity, false);
          }
        }
      },
    };
  };
  return { forTable };
}
