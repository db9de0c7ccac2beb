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
import { KNOWN_FACTS, KNOWN_PRESENT, KNOWN_TOMBSTONE } from './postgres-replace-sql';

/** The statements of the replace path for one table layout (postgres-copy.ts builds them). */
export interface ReplaceStatements {
  knownRows: string;
  deleteReplaced: string;
  copyIntoTable: string;
  /** Per sink timestamp column of `copyIntoTable`, in order: whether it is the row's creation time (kept). */
  sinkCreated: boolean[];
  /** How many columns the layout writes; the path applies only while the table has exactly these. */
  columnCount: number;
  /** The row's COPY line of the supplied columns, without its newline. */
  line(change: RowUpsert): string;
}

interface PresentRow {
  /** The row's ctid, to find it again without a scan. */
  location: string;
  version: number | null;
  /** SinkCreatedOn as the server writes it as text, or null. */
  created: string | null;
}

/** What the lookup answered. */
interface Known {
  tombstoned: Set<string>;
  present: Map<string, PresentRow>;
  now: string;
  /** -1 when the table has no version floor. */
  floor: number;
  columns: number;
  referenced: boolean;
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

/** The lookup's text and bigint columns: strings from pg, or null. */
const textOrNull = (value: unknown): string | null =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : null;

function readKnown(rows: Array<Record<string, unknown>>): Known {
  const known: Known = { tombstoned: new Set(), present: new Map(), now: '', floor: -1, columns: 0, referenced: true };
  for (const row of rows) {
    const id = String(row.id);
    if (row.kind === KNOWN_TOMBSTONE) known.tombstoned.add(id);
    else if (row.kind === KNOWN_PRESENT) {
      const version = textOrNull(row.version);
      known.present.set(id, {
        location: String(row.location),
        version: version === null ? null : Number(version),
        created: textOrNull(row.created),
      });
    } else if (row.kind === KNOWN_FACTS) {
      known.now = String(row.now);
      known.floor = row.floor === null || row.floor === undefined ? -1 : Number(row.floor);
      known.columns = Number(row.columns);
      known.referenced = row.referenced === true;
    }
  }
  return known;
}

/**
 * The staging upsert's guards (postgres-dialect.ts `upsertFrom`), decided per row from the lookup: a tombstoned id,
 * or a new id at or below the version floor, is left to the staging upsert (`guarded`); a row in the table is
 * replaced when its version is older or unknown (NULL) and skipped as stale otherwise; any other id is new.
 */
function decide(ids: string[], upserts: RowUpsert[], known: Known) {
  const copied: number[] = [];
  const replaced: number[] = [];
  const guarded: number[] = [];
  ids.forEach((id, index) => {
    const version = (upserts[index] as RowUpsert).versionNumber;
    const present = known.present.get(id);
    if (known.tombstoned.has(id)) guarded.push(index);
    else if (present) {
      if (present.version !== null && present.version >= version) return;
      replaced.push(index);
      copied.push(index);
    } else if (version <= known.floor) guarded.push(index);
    else copied.push(index);
  });
  return { copied, replaced, guarded };
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
  // Ids are validated GUIDs (see apply.ts), so the array literal needs no quoting; the lookup answers in lower case.
  const ids = upserts.map((change) => change.id.toLowerCase());
  const lookup = session.query(statements.knownRows, [`{${ids.join(',')}}`, entity]);
  const ahead = await encodeAhead(lookup, upserts, statements.line);
  const known = readKnown((await lookup).rows);
  if (known.columns !== statements.columnCount || known.referenced) return undefined;
  const { copied, replaced, guarded } = decide(ids, upserts, known);
  if (replaced.length > 0) {
    const rows = replaced.map((index) => known.present.get(ids[index] as string) as PresentRow);
    // ctids print as `(block,offset)`: quoted as array elements for the comma.
    const locations = `{${rows.map((row) => `"${row.location}"`).join(',')}}`;
    await session.query(statements.deleteReplaced, [locations, `{${replaced.map((index) => ids[index]).join(',')}}`]);
  }
  const line = (index: number): string => ahead[index] ?? statements.line(upserts[index] as RowUpsert);
  const newRowTail = `${`\t${known.now}`.repeat(statements.sinkCreated.length)}\n`;
  // A replaced row keeps the time it was first written; SinkModifiedOn is now, as an update sets it.
  const tail = (index: number): string => {
    const present = known.present.get(ids[index] as string);
    if (!present) return newRowTail;
    const fields = statements.sinkCreated.map((created) => `\t${created ? (present.created ?? '\\N') : known.now}`);
    return `${fields.join('')}\n`;
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
  return { written: copied.length, anyPresent: known.present.size > 0, guarded, line };
}
