/**
 * The SQL destination of one export profile: DES-compatible tables and metadata tables, schema drift,
 * and idempotent version-guarded batch apply with tombstones, string widening and row isolation.
 */
import { setImmediate } from 'node:timers/promises';
import type { ManyToManyRelationship, TableMetadata } from '../../dataverse/metadata';
import type { RowUpsert } from '../../dataverse/changes';
import { ExportError, toExportError } from '../../errors';
import { describeType, diffTable, widenedType, widthFor, type ExistingColumn } from '../../schema/drift';
import { prefixed, validatePrefix, validateSchemaName } from '../../schema/identifiers';
import {
  deleteLogTable,
  metadataRows,
  metadataTable,
  metadataTableKinds,
  resyncSeenTable,
  tombstoneTable,
  type FixedTable,
} from '../../schema/metadata-tables';
import { withoutExponents } from '../../schema/plain-number';
import { destinationValue, valueReader, type SqlValue, type ValueReader } from '../../schema/row-values';
import {
  MAX_ROW_BYTES,
  buildTableModel,
  rowBytes,
  type ColumnType,
  type DestinationColumn,
  type TableModel,
} from '../../schema/table-model';
import type {
  ColumnWidening,
  DeleteChange,
  Destination,
  EnsureTablesResult,
  FailedChange,
  SchemaAction,
  SchemaFailure,
} from '../destination';
import type { SqlConnection, SqlSession } from './connection';
import {
  asFixedColumns,
  suppliedColumns,
  type ApplyTables,
  type DialectName,
  type InformationSchemaColumn,
  type SqlDialect,
  type TableRef,
} from './dialect';

/** Moved to the destination port; re-exported for existing importers. */
export type * from '../destination';

export type DestinationRow = Record<string, SqlValue>;

/** The SQL destination: the port plus row counting and reading back (verification, tests). */
export interface SqlDestination extends Destination {
  readonly dialect: DialectName;
  /** Rows in the DES table of a Dataverse table. */
  countRows(logicalName: string): Promise<number>;
  /** All rows of the DES table of a Dataverse table, ordered by Id. */
  readRows(logicalName: string): Promise<DestinationRow[]>;
  /** All rows of any table of the profile by destination name (e.g. `crm_DeleteLog`), ordered by its first column. */
  readTable(tableName: string): Promise<DestinationRow[]>;
}

export const isSqlDestination = (destination: Destination): destination is SqlDestination =>
  'dialect' in destination && 'readRows' in destination;

export interface DestinationTarget {
  schema: string;
  prefix: string;
  writeDeleteLog: boolean;
  widenOverlongStrings: boolean;
}

interface Layout {
  ref: TableRef;
  /** The model's columns that exist in the table, typed as the table has them. */
  columns: DestinationColumn[];
  /** The columns a row supplies values for (all but the sink timestamps). */
  supplied: DestinationColumn[];
  lockSql: string;
  upsertSql: string;
  /** The values of a row's supplied columns, keyed by column name (the JSON path). */
  values(change: RowUpsert): Record<string, SqlValue>;
  deleteSql: string;
  staging?: {
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
  };
}

/** Upserts keep the Web API row: column values are computed while the batch streams to the database. */
type Change =
  | { changeType: 'upsert'; id: string; versionNumber: number; upsert: RowUpsert }
  | ({ changeType: 'delete' } & DeleteChange);

type UpsertChange = Extract<Change, { changeType: 'upsert' }>;

/**
 * Thrown while a batch is mapped when a value is longer than its column as this process knows it, so the
 * batch is rolled back, the column widened and the batch applied again: checking while mapping costs no
 * extra pass over the batch, and such values are rare.
 */
class OverlongValue extends Error {}

/** Rows encoded between looks at whether the id lookup has answered (about a millisecond of work). */
const ENCODE_SLICE = 64;

/**
 * Encodes the first lines of a batch while the server answers `pending` (the id lookup), so neither side
 * waits for the other; stops at the first slice boundary after it has answered.
 */
async function encodeAhead(
  pending: Promise<unknown>,
  upserts: UpsertChange[],
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
    for (let index = lines.length; index < end; index++) lines.push(line((upserts[index] as UpsertChange).upsert));
    // Lets the connection read the answer: a query's result is only seen between event-loop turns.
    await setImmediate();
  }
  return lines;
}

/** One applyBatch call: the layout it writes with (replaced after a widening) and what it reports. */
interface BatchRun {
  table: TableMetadata;
  layout: Layout;
  failed: FailedChange[];
  widened: ColumnWidening[];
}

interface Counts {
  upserted: number;
  deleted: number;
  stale: number;
}

/** Ids per round of the resync sweep: one select and one delete batch each. */
const SWEEP_CHUNK = 1000;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TABLE_NAME = /^[A-Za-z0-9_]+$/;
const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Layouts are cached per table *and* metadata: an applier that receives newer metadata (a column added by
 * activation in another process) builds a new layout instead of writing with the old column list.
 */
const layoutKey = (table: TableMetadata): string =>
  JSON.stringify([
    table.logicalName,
    table.columns.map((column) => [
      column.logicalName,
      column.attributeType,
      column.attributeTypeName,
      column.maxLength,
      column.precision,
      column.attributeOf,
      column.isValidForRead,
    ]),
  ]);

const numberOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/** Normalises driver values so both dialects read back the same thing (lower-case GUIDs, ISO UTC times, numbers). */
function normalise(value: unknown, type: ColumnType | undefined): SqlValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  switch (type?.kind) {
    case 'guid':
      return String(value).toLowerCase();
    case 'int':
    case 'bigint':
    case 'decimal':
      return Number(value);
    case 'datetime':
      return new Date(`${String(value).replace(' ', 'T')}Z`).toISOString();
    default:
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? value
        : String(value);
  }
}

/** A lone high or low surrogate: text that is not valid UTF-16, so it has no UTF-8 form either. */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first property of a row whose text holds an unpaired surrogate. */
function unpairedSurrogateProperty(row: Record<string, unknown>): string | undefined {
  return Object.keys(row).find((key) => {
    const value = row[key];
    return typeof value === 'string' && UNPAIRED_SURROGATE.test(value);
  });
}

export function createSqlDestination(
  connection: SqlConnection,
  dialect: SqlDialect,
  target: DestinationTarget,
): SqlDestination {
  const schema = validateSchemaName(target.schema);
  const prefix = validatePrefix(target.prefix);
  const ref = (name: string): TableRef => ({ schema, name });
  const tombstones = tombstoneTable(prefix);
  const deleteLog = deleteLogTable(prefix);
  const resyncSeen = resyncSeenTable(prefix);
  const fixedTables: FixedTable[] = [
    tombstones,
    resyncSeen,
    ...(target.writeDeleteLog ? [deleteLog] : []),
    ...metadataTableKinds.map((kind) => metadataTable(prefix, kind)),
  ];
  const reservedNames = new Set([tombstones, deleteLog, ...fixedTables].map((table) => table.name.toLowerCase()));
  const layouts = new Map<string, Layout>();
  /**
   * Per entity: whether the next batch's ids are expected to be new. The initial sync's are; a delta's are mostly
   * not. Learned from the last batch (see `attempt`); starts optimistic.
   */
  const expectingNewIds = new Map<string, boolean>();

  async function existingColumns(tableName: string): Promise<ExistingColumn[]> {
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

  /** A supplied column's reader; with widening on, it throws OverlongValue for a string longer than the column. */
  function checkedReader(column: DestinationColumn): ValueReader {
    const read = valueReader(column) as ValueReader;
    if (!target.widenOverlongStrings || column.type.kind !== 'string' || column.type.length === 'max') return read;
    const limit = column.type.length;
    return (change) => {
      const value = read(change);
      if (typeof value === 'string' && value.length > limit)
        throw new OverlongValue(`${column.name} receives ${value.length} characters`);
      return value;
    };
  }

  function layoutOf(model: TableModel, existing: ExistingColumn[]): Layout {
    const byName = new Map(existing.map((column) => [column.name.toLowerCase(), column]));
    const columns: DestinationColumn[] = [];
    for (const column of model.columns) {
      const physical = byName.get(column.name.toLowerCase());
      if (physical) columns.push({ ...column, name: physical.name, type: physical.type });
    }
    const tables: ApplyTables = {
      target: ref(model.tableName),
      tombstones: ref(tombstones.name),
      ...(target.writeDeleteLog ? { deleteLog: ref(deleteLog.name) } : {}),
    };
    const staging = dialect.staging;
    const supplied = suppliedColumns(columns);
    const readers = supplied.map(checkedReader);
    const names = supplied.map((column) => column.name);
    return {
      ref: tables.target,
      columns,
      supplied,
      lockSql: dialect.lockTable(),
      upsertSql: dialect.upsert(tables, columns),
      values: (change) => {
        const values: Record<string, SqlValue> = {};
        for (let index = 0; index < names.length; index++)
          values[names[index] as string] = (readers[index] as ValueReader)(change);
        return values;
      },
      deleteSql: dialect.applyDeletes(tables),
      ...(staging && {
        staging: {
          knownIds: staging.knownIds(tables),
          tombstonedIds: staging.tombstonedIds(tables),
          copyIntoTable: staging.copyIntoTable(tables, columns),
          sinkColumns: columns.filter((column) => column.source.kind === 'sinkTime').length,
          create: staging.create(columns),
          copy: staging.copy(columns),
          upsert: staging.upsert(tables, columns),
          line: staging.lineEncoder(readers),
        },
      }),
    };
  }

  async function layoutFor(table: TableMetadata): Promise<Layout> {
    const cached = layouts.get(layoutKey(table));
    if (cached) return cached;
    const model = buildTableModel(table, prefix);
    const existing = await existingColumns(model.tableName);
    if (existing.length === 0) {
      throw new ExportError('schema', `Destination table ${schema}.${model.tableName} does not exist.`, {
        where: `${schema}.${model.tableName}`,
        fix: 'Activate the profile (ensureTables) before applying changes.',
      });
    }
    // Also here, not only at activation: a table activated before the check, or altered since, must not collect duplicates.
    await requireIdPrimaryKey(model.tableName);
    const layout = layoutOf(model, existing);
    layouts.set(layoutKey(table), layout);
    return layout;
  }

  /**
   * A table that was there before (a DES table, one made by hand) must have its primary key on Id: the apply
   * relies on it to reject a second copy of a row (see `attempt`) and to upsert (`ON CONFLICT` / `MERGE`).
   */
  async function requireIdPrimaryKey(tableName: string): Promise<void> {
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

  /** A type for a column that keeps the table's declared row within 8,060 bytes (see table-model.ts). */
  function fitting(type: ColumnType, others: ColumnType[]): ColumnType {
    return type.kind === 'string' && rowBytes([...others, type]) > MAX_ROW_BYTES
      ? { kind: 'string', length: 'max' }
      : type;
  }

  async function ensureTable(table: TableMetadata, actions: SchemaAction[]): Promise<void> {
    const model = buildTableModel(table, prefix);
    if (reservedNames.has(model.tableName.toLowerCase())) {
      throw new ExportError(
        'schema',
        `Table ${table.logicalName} would be written to ${model.tableName}, a name the export uses for its own table.`,
        {
          where: `${schema}.${model.tableName}`,
          fix: 'Use a table prefix for this profile.',
        },
      );
    }
    const tableRef = ref(model.tableName);
    let existing = await existingColumns(model.tableName);
    if (existing.length === 0) {
      await connection.query(
        dialect.createTable(schema, {
          name: model.tableName,
          columns: asFixedColumns(model.columns),
          primaryKey: ['Id'],
        }),
      );
      actions.push({ table: table.logicalName, action: 'createTable' });
      existing = await existingColumns(model.tableName);
    } else {
      await requireIdPrimaryKey(model.tableName);
    }
    const { actions: drift, conflicts } = diffTable(model.columns, existing);
    if (conflicts.length > 0) {
      const list = conflicts
        .map((conflict) => `${conflict.column}: ${describeType(conflict.existing)} → ${describeType(conflict.wanted)}`)
        .join('; ');
      throw new ExportError(
        'schema',
        `Table ${model.tableName} has columns whose type changed in a way that cannot be widened (${list}).`,
        {
          where: `${schema}.${model.tableName}`,
          fix: 'Rename or drop the listed columns in the destination (the next activation recreates them) and resync the table.',
        },
      );
    }
    const types = new Map(existing.map((column) => [column.name.toLowerCase(), column.type]));
    const otherTypes = (except: string): ColumnType[] =>
      [...types.entries()].filter(([name]) => name !== except.toLowerCase()).map(([, type]) => type);
    for (const action of drift) {
      if (action.kind === 'addColumn') {
        const type = fitting(action.column.type, otherTypes(action.column.name));
        await connection.query(dialect.addColumn(tableRef, { name: action.column.name, type, nullable: true }));
        types.set(action.column.name.toLowerCase(), type);
        actions.push({
          table: table.logicalName,
          action: 'addColumn',
          column: action.column.name,
          type: describeType(type),
        });
      } else {
        const type = fitting(action.to, otherTypes(action.column));
        await connection.query(dialect.alterColumnType(tableRef, action.column, type));
        types.set(action.column.toLowerCase(), type);
        actions.push({
          table: table.logicalName,
          action: 'widenColumn',
          column: action.column,
          from: describeType(action.from),
          to: describeType(type),
        });
      }
    }
    layouts.set(
      layoutKey(table),
      layoutOf(model, drift.length > 0 ? await existingColumns(model.tableName) : existing),
    );
  }

  async function refreshMetadata(tables: TableMetadata[], relationships: ManyToManyRelationship[]): Promise<number> {
    const exported = (table: TableMetadata): ReadonlySet<string> => {
      const names = new Set(buildTableModel(table, prefix).columns.map((column) => column.name));
      return new Set(table.columns.map((column) => column.logicalName).filter((name) => names.has(name)));
    };
    const rows = metadataRows(tables, relationships, exported, new Date().toISOString());
    const entities = JSON.stringify(tables.map((table) => table.logicalName));
    let written = 0;
    await connection.transaction(async (session) => {
      for (const kind of metadataTableKinds) {
        const table = metadataTable(prefix, kind);
        await session.query(dialect.deleteMetadataRows(ref(table.name)), [entities]);
        if (rows[kind].length === 0) continue;
        await session.query(dialect.insertRows(ref(table.name), table.columns), [JSON.stringify(rows[kind])]);
        written += rows[kind].length;
      }
    });
    return written;
  }

  /** The longest string each bounded column receives, where it is longer than the column as this process knows it. */
  function overlongColumns(layout: Layout, changes: Change[]): Map<string, number> {
    const longest = new Map<string, number>();
    for (const column of layout.columns) {
      if (column.type.kind !== 'string' || column.type.length === 'max') continue;
      let length = 0;
      for (const change of changes) {
        const value = change.changeType === 'upsert' ? destinationValue(column, change.upsert) : null;
        if (typeof value === 'string' && value.length > length) length = value.length;
      }
      if (length > column.type.length) longest.set(column.name, length);
    }
    return longest;
  }

  /** After an OverlongValue: widens what the table as it is now cannot hold, and forgets the cached layout. */
  async function widenForValues(table: TableMetadata, layout: Layout, changes: Change[]): Promise<ColumnWidening[]> {
    // Another instance may have widened already: decide from the table as it is now, never narrowing it.
    const fresh = layoutOf(buildTableModel(table, prefix), await existingColumns(layout.ref.name));
    const widened: ColumnWidening[] = [];
    for (const [name, length] of overlongColumns(fresh, changes)) {
      const column = fresh.columns.find((candidate) => candidate.name === name) as DestinationColumn;
      const others = fresh.columns.filter((other) => other !== column).map((other) => other.type);
      const type = fitting(widenedType(column.type, widthFor(length)) ?? widthFor(length), others);
      await connection.query(dialect.alterColumnType(fresh.ref, name, type));
      widened.push({ column: name, from: describeType(column.type), to: describeType(type) });
      column.type = type;
    }
    layouts.delete(layoutKey(table));
    return widened;
  }

  /**
   * One transaction for `changes`. On the COPY path, a batch expected to hold only new ids skips the lookup of
   * existing ids (PostgreSQL 15 plans 5,000 ids as a scan of the whole table: a quarter of an initial sync's apply) and
   * copies straight into the table; if an id is there after all, the primary key stops the COPY, the
   * transaction rolls back and the batch is applied again with the lookup.
   */
  async function attempt(layout: Layout, entity: string, changes: Change[]): Promise<Counts> {
    const optimistic = layout.staging !== undefined && expectingNewIds.get(entity) !== false;
    try {
      return await applyInTransaction(layout, entity, changes, optimistic);
    } catch (error) {
      if (!optimistic || !dialect.staging?.isDuplicateId(error)) throw error;
      expectingNewIds.set(entity, false);
      return applyInTransaction(layout, entity, changes, false);
    }
  }

  async function applyInTransaction(
    layout: Layout,
    entity: string,
    changes: Change[],
    optimistic: boolean,
  ): Promise<Counts> {
    const deletes = changes.filter((change) => change.changeType === 'delete');
    const upserts = changes.filter((change): change is UpsertChange => change.changeType === 'upsert');
    return connection.transaction(async (session) => {
      await session.query(layout.lockSql, [`${schema}.${layout.ref.name}`]);
      const counts: Counts = { upserted: 0, deleted: 0, stale: 0 };
      if (deletes.length > 0) {
        const json = JSON.stringify(deletes.map((change) => ({ Id: change.id, versionnumber: change.versionNumber })));
        const { rows } = await session.query(layout.deleteSql, [json, entity]);
        const applied = Number(rows[0]?.applied ?? 0) - Number(rows[0]?.survived ?? 0);
        counts.deleted = applied;
        counts.stale += deletes.length - applied;
      }
      if (upserts.length > 0) {
        let rowCount: number;
        if (layout.staging && session.copyIn) {
          rowCount = await copyUpserts(session as Required<SqlSession>, layout, entity, upserts, optimistic);
        } else {
          const rows = upserts.map((change) => layout.values(change.upsert));
          // Plain decimals: OPENJSON's conversion to decimal refuses JavaScript's `5e-7`.
          rowCount = (await session.query(layout.upsertSql, [JSON.stringify(rows, withoutExponents), entity])).rowCount;
        }
        counts.upserted = rowCount;
        counts.stale += upserts.length - rowCount;
      }
      return counts;
    });
  }

  /**
   * The COPY path (see SqlDialect.staging): new ids straight into the table, the rest through staging. When
   * `optimistic`, only tombstoned ids count as known, and an id already in the table fails the COPY.
   */
  async function copyUpserts(
    session: Required<SqlSession>,
    layout: Layout,
    entity: string,
    upserts: UpsertChange[],
    optimistic: boolean,
  ): Promise<number> {
    const staging = layout.staging as NonNullable<Layout['staging']>;
    // Ids are validated GUIDs (see applyBatch), so the array literal needs no quoting.
    const lookup = session.query(optimistic ? staging.tombstonedIds : staging.knownIds, [
      `{${upserts.map((change) => change.id).join(',')}}`,
      entity,
    ]);
    const ahead = await encodeAhead(lookup, upserts, staging.line);
    const { rows } = await lookup;
    const known = new Set(rows.map((row) => row.id).filter((id): id is string => typeof id === 'string'));
    if (!optimistic) expectingNewIds.set(entity, known.size === 0);
    const now = String(rows.find((row) => row.now !== null)?.now);
    const sinkFields = `\t${now}`.repeat(staging.sinkColumns);
    const fresh: number[] = [];
    const existing: number[] = [];
    upserts.forEach((change, index) => (known.has(change.id) ? existing : fresh).push(index));
    // The rest are encoded lazily, so the server parses one part of the batch while the next is being encoded.
    const lines = function* (indexes: number[], tail: string) {
      for (const index of indexes)
        yield `${ahead[index] ?? staging.line((upserts[index] as UpsertChange).upsert)}${tail}`;
    };
    if (fresh.length > 0) await session.copyIn(staging.copyIntoTable, lines(fresh, `${sinkFields}\n`));
    if (existing.length === 0) return fresh.length;
    await session.query(staging.create);
    await session.copyIn(staging.copy, lines(existing, '\n'));
    return fresh.length + (await session.query(staging.upsert, [entity])).rowCount;
  }

  /**
   * Applies `changes`: widens columns for over-long values first (OverlongValue), and on a data error splits
   * the changes in halves until the failing rows stand alone. Later halves use the widened layout.
   */
  async function applyIsolating(run: BatchRun, changes: Change[]): Promise<Counts> {
    const { layout, failed } = run;
    const entity = run.table.logicalName;
    try {
      return await attempt(layout, entity, changes);
    } catch (error) {
      if (error instanceof OverlongValue) {
        run.widened.push(...(await widenForValues(run.table, layout, changes)));
        run.layout = await layoutFor(run.table);
        return applyIsolating(run, changes);
      }
      const errorClass = dialect.classifyError(error);
      if (errorClass !== 'data') {
        throw new ExportError(
          errorClass,
          `Applying a batch to ${schema}.${layout.ref.name} failed: ${describeError(error)}`,
          {
            cause: error,
            where: `${schema}.${layout.ref.name}`,
            fix:
              errorClass === 'schema'
                ? 'Activate the profile again so the destination tables are recreated or altered.'
                : undefined,
          },
        );
      }
      const [only] = changes;
      if (changes.length === 1 && only) {
        failed.push({ id: only.id, changeType: only.changeType, reason: describeError(error) });
        return { upserted: 0, deleted: 0, stale: 0 };
      }
      const middle = Math.ceil(changes.length / 2);
      const first = await applyIsolating(run, changes.slice(0, middle));
      const second = await applyIsolating(run, changes.slice(middle));
      return {
        upserted: first.upserted + second.upserted,
        deleted: first.deleted + second.deleted,
        stale: first.stale + second.stale,
      };
    }
  }

  async function ensureAllTables(
    tables: TableMetadata[],
    relationships: ManyToManyRelationship[],
  ): Promise<EnsureTablesResult> {
    const actions: SchemaAction[] = [];
    const failures: SchemaFailure[] = [];
    await connection.query(dialect.createSchema(schema));
    for (const table of fixedTables) await connection.query(dialect.createTable(schema, table));
    const ready: TableMetadata[] = [];
    for (const table of tables) {
      try {
        await ensureTable(table, actions);
        ready.push(table);
      } catch (error) {
        // A lost connection is not the table's fault: fail the whole call so activation is retried.
        if (!(error instanceof ExportError) && dialect.classifyError(error) === 'transient') throw toExportError(error);
        failures.push({ table: table.logicalName, error: toExportError(error, 'schema') });
      }
    }
    if (ready.length > 0)
      actions.push({ table: '*', action: 'refreshMetadata', rows: await refreshMetadata(ready, relationships) });
    return { actions, failures };
  }

  const sqlDestination: SqlDestination = {
    dialect: dialect.name,

    async ensureTables(tables, relationships) {
      try {
        return await ensureAllTables(tables, relationships);
      } catch (error) {
        // A driver error (a dropped connection, say) leaves as a classified error: activation answers 503, not a bare 500.
        throw toExportError(error, dialect.classifyError(error));
      }
    },

    async applyBatch(table, batch) {
      const layout = await layoutFor(table);
      const failed: FailedChange[] = [];
      const latest = new Map<string, Change>();
      let superseded = 0;
      const consider = (change: Change): void => {
        if (!GUID.test(change.id)) {
          failed.push({ id: change.id, changeType: change.changeType, reason: `Id '${change.id}' is not a GUID.` });
          return;
        }
        const key = change.id.toLowerCase();
        const current = latest.get(key);
        // Newest version wins; on a tie the delete wins (its version is the watermark of the token that saw it go).
        const wins =
          !current ||
          change.versionNumber > current.versionNumber ||
          (change.versionNumber === current.versionNumber && change.changeType === 'delete');
        if (current) superseded += 1;
        if (wins) latest.set(key, key === change.id ? change : { ...change, id: key });
      };
      for (const upsert of batch.upserts) {
        const broken = unpairedSurrogateProperty(upsert.row);
        if (broken !== undefined) {
          // node-postgres would store U+FFFD silently and PGlite refuse the batch: one rule for both, and the row kept.
          failed.push({
            id: upsert.id,
            changeType: 'upsert',
            reason: `Column '${broken}' holds an unpaired UTF-16 surrogate, which no SQL text column can store.`,
          });
          continue;
        }
        consider({ changeType: 'upsert', id: upsert.id, versionNumber: upsert.versionNumber, upsert });
      }
      for (const remove of batch.deletes) consider({ changeType: 'delete', ...remove });
      const changes = [...latest.values()];

      const run: BatchRun = { table, layout, failed, widened: [] };
      const counts = changes.length === 0 ? { upserted: 0, deleted: 0, stale: 0 } : await applyIsolating(run, changes);
      return {
        upserted: counts.upserted,
        deleted: counts.deleted,
        skippedAsStale: counts.stale + superseded,
        failed,
        widened: run.widened,
      };
    },

    async countRows(logicalName) {
      const { rows } = await connection.query(dialect.countRows(ref(prefixed(prefix, logicalName))));
      return Number(rows[0]?.rows ?? 0);
    },

    async readRows(logicalName) {
      return this.readTable(prefixed(prefix, logicalName));
    },

    async readTable(tableName) {
      if (!TABLE_NAME.test(tableName)) {
        throw new ExportError('config', `Table name ${JSON.stringify(tableName.slice(0, 60))} is not allowed.`, {
          where: 'tableName',
        });
      }
      const columns = await existingColumns(tableName);
      if (columns.length === 0) {
        throw new ExportError('schema', `Destination table ${schema}.${tableName} does not exist.`, {
          where: `${schema}.${tableName}`,
        });
      }
      const types = new Map(columns.map((column) => [column.name, column.type]));
      const { rows } = await connection.query(dialect.selectAll(ref(tableName)));
      const result = rows.map((row) =>
        Object.fromEntries(Object.entries(row).map(([name, value]) => [name, normalise(value, types.get(name))])),
      );
      const first = columns[0]?.name ?? '';
      return result.sort((a, b) => String(a[first]).localeCompare(String(b[first]), 'en', { numeric: true }));
    },

    resync: {
      start: async (logicalName) => {
        await connection.query(dialect.deleteMetadataRows(ref(resyncSeen.name)), [JSON.stringify([logicalName])]);
      },
      markSeen: async (logicalName, ids) => {
        if (ids.length === 0) return;
        const rows = ids.map((id) => ({ EntityName: logicalName, RecordId: id.toLowerCase() }));
        await connection.query(dialect.insertRows(ref(resyncSeen.name), resyncSeen.columns), [JSON.stringify(rows)]);
      },
      async sweep(table, watermark) {
        const seenRef = ref(resyncSeen.name);
        const targetRef = ref(prefixed(prefix, table.logicalName));
        let deleted = 0;
        for (;;) {
          const { rows } = await connection.query(dialect.selectUnseen(targetRef, seenRef), [
            table.logicalName,
            SWEEP_CHUNK,
          ]);
          const ids = rows.map((row) => String(row.Id).toLowerCase());
          if (ids.length === 0) break;
          const result = await sqlDestination.applyBatch(table, {
            upserts: [],
            deletes: ids.map((id) => ({ id, versionNumber: watermark })),
          });
          deleted += result.deleted;
          // Marked seen once judged, so the loop moves on past rows newer than the watermark (changed after the
          // resync began), which survive their delete, and a repeated sweep finds nothing left to judge.
          await sqlDestination.resync.markSeen(table.logicalName, ids);
        }
        return deleted;
      },
      finish: (logicalName) => sqlDestination.resync.start(logicalName),
    },

    close: () => connection.close(),
  };
  return sqlDestination;
}
