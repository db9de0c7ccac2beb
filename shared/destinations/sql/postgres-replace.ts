/**
 * PostgreSQL's replace path for a batch of full rows expected to hold ids already in the table (a delta's): the
 * guards decide on the client from one lookup, the rows being replaced are deleted, and their new versions are
 * copied straight into the table with the new ids. Staging every row and upserting from there cost two COPYs' worth
 * per update batch (docs/notes/sql-apply-performance.md, fourth session); this costs a COPY and a delete. Readers
 * downstream see a DELETE and an INSERT instead of an UPDATE (README, destination behaviour).
 *
 * Only for rows that carry every column of the table: a column the batch leaves out would be lost with the old row.
 * Only safe under the dialect's `lockTable`: no other batch of the table changes it between lookup and COPY.
 */
import type { RowUpsert } from '../../dataverse/changes';
import type { SqlSession } from './connection';
import { encodeAhead } from './copy-encode-ahead';
import { KNOWN_FACTS, KNOWN_KEPT, KNOWN_REMOVED, KNOWN_TOMBSTONE } from './postgres-replace-sql';

/** The statements of the replace path for one table layout (postgres-copy.ts builds them). */
export interface ReplaceStatements {
  /** postgres-replace-sql.ts `replaceKnownRows`. */
  replaceKnownRows: string;
  copyIntoTable: string;
  /** Per sink timestamp column of `copyIntoTable`, in order: whether it is the row's creation time (kept). */
  sinkCreated: boolean[];
  /** How many columns the layout writes; the path applies only while the table has exactly these. */
  columnCount: number;
  /** The row's COPY line of the supplied columns, without its newline. */
  line(change: RowUpsert): string;
}

/** What the statement answered. */
interface Known {
  tombstoned: Set<string>;
  /** Rows deleted to be replaced: their SinkCreatedOn as the server writes it as text, or null. */
  removed: Map<string, string | null>;
  /** Ids in the table left in place. */
  kept: Set<string>;
  now: string;
  /** -1 when the table has no version floor. */
  floor: number;
  replaceable: boolean;
}

/** What the replace path did, and the rows it left to the staging upsert. */
export interface Replaced {
  /** Rows copied into the table (new ids and replaced rows). */
  written: number;
  /** Whether any id of the batch was in the table (a batch of only new ids lets the path expect new ids again). */
  anyPresent: boolean;
  /** Indexes of the rows whose guards need the staging upsert: tombstoned ids, new ids at or below the floor. */
  guarded: number[];
  /** The COPY line of a row (without its newline), encoded ahead where it was. */
  line(index: number): string;
}

/** The statement's text and bigint columns: strings from pg, or null. */
const textOrNull = (value: unknown): string | null =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : null;

function readKnown(rows: Array<Record<string, unknown>>): Known {
  const known: Known = {
    tombstoned: new Set(),
    removed: new Map(),
    kept: new Set(),
    now: '',
    floor: -1,
    replaceable: false,
  };
  for (const row of rows) {
    const id = String(row.id);
    if (row.kind === KNOWN_TOMBSTONE) known.tombstoned.add(id);
    else if (row.kind === KNOWN_REMOVED) known.removed.set(id, textOrNull(row.created));
    else if (row.kind === KNOWN_KEPT) known.kept.add(id);
    else if (row.kind === KNOWN_FACTS) {
      known.now = String(row.now);
      const floor = textOrNull(row.floor);
      known.floor = floor === null ? -1 : Number(floor);
      known.replaceable = row.replaceable === true;
    }
  }
  return known;
}

/**
 * The staging upsert's guards (postgres-dialect.ts `upsertFrom`) for the rows the statement did not decide: a
 * tombstoned id, or a new id at or below the version floor, is left to the staging upsert (`guarded`); a row the
 * statement deleted is replaced, one it kept is stale; any other id is new.
 */
function decide(ids: string[], upserts: RowUpsert[], known: Known) {
  const copied: number[] = [];
  const guarded: number[] = [];
  ids.forEach((id, index) => {
    if (known.tombstoned.has(id)) guarded.push(index);
    else if (known.removed.has(id)) copied.push(index);
    else if (known.kept.has(id)) return;
    else if ((upserts[index] as RowUpsert).versionNumber <= known.floor) guarded.push(index);
    else copied.push(index);
  });
  return { copied, guarded };
}

/**
 * Applies the full rows of `upserts` that the guards let through by replacing or inserting them, in the caller's
 * transaction; undefined, having written nothing, where the path does not apply: the table has columns the layout
 * does not write (added since it was read), or a foreign key points at it (the delete would cascade or fail).
 */
export async function replaceAndCopy(
  session: Required<SqlSession>,
  statements: ReplaceStatements,
  entity: string,
  upserts: RowUpsert[],
): Promise<Replaced | undefined> {
  // Ids are validated GUIDs (see apply.ts), so the array literal needs no quoting; the answer is in lower case.
  const ids = upserts.map((change) => change.id.toLowerCase());
  const versions = `{${upserts.map((change) => change.versionNumber).join(',')}}`;
  const answer = session.query(statements.replaceKnownRows, [
    `{${ids.join(',')}}`,
    entity,
    versions,
    statements.columnCount,
  ]);
  const ahead = await encodeAhead(answer, upserts, statements.line);
  const known = readKnown((await answer).rows);
  if (!known.replaceable) return undefined;
  const { copied, guarded } = decide(ids, upserts, known);
  const line = (index: number): string => ahead[index] ?? statements.line(upserts[index] as RowUpsert);
  const newRowTail = `${`\t${known.now}`.repeat(statements.sinkCreated.length)}\n`;
  // A replaced row keeps the time it was first written; SinkModifiedOn is now, as an update sets it.
  const tail = (index: number): string => {
    const id = ids[index] as string;
    if (!known.removed.has(id)) return newRowTail;
    const created = known.removed.get(id) ?? '\\N';
    return `${statements.sinkCreated.map((isCreated) => `\t${isCreated ? created : known.now}`).join('')}\n`;
  };
  if (copied.length > 0) {
    await session.copyIn(
      statements.copyIntoTable,
      (function* () {
        // Encoded lazily, so the server parses one part of the batch while the next is being encoded.
        for (const index of copied) yield `${line(index)}${tail(index)}`;
      })(),
    );
  }
  return { written: copied.length, anyPresent: known.removed.size + known.kept.size > 0, guarded, line };
}
