/**
 * The destination's tables follow Dataverse: activation creates missing tables and the export's own tables,
 * adds and widens columns as the metadata changed (drift), refreshes the metadata tables; the apply widens a
 * column for a value longer than it.
 */
import type { RowUpsert } from '../../dataverse/changes';
import type { ManyToManyRelationship, TableMetadata } from '../../dataverse/metadata';
import { ExportError, toExportError } from '../../errors';
import { describeType, diffTable, widenedType, widthFor, type ExistingColumn } from '../../schema/drift';
import { metadataRows, metadataTable, metadataTableKinds } from '../../schema/metadata-tables';
import { destinationValue } from '../../schema/row-values';
import {
  MAX_ROW_BYTES,
  buildTableModel,
  rowBytes,
  type ColumnType,
  type DestinationColumn,
  type TableModel,
} from '../../schema/table-model';
import type { ColumnWidening, EnsureTablesResult, SchemaAction, SchemaFailure } from '../destination';
import { existingColumns, requireIdPrimaryKey, tableRef, type SqlContext } from './context';
import { asFixedColumns } from './dialect';
import type { Layout, Layouts } from './layout';
import { checkServerLevel } from './server-level';
import { dropVersionFloor } from './resync-sweep';

/** A type for a column that keeps the table's declared row within 8,060 bytes (see table-model.ts). */
function fitting(type: ColumnType, others: ColumnType[]): ColumnType {
  return type.kind === 'string' && rowBytes([...others, type]) > MAX_ROW_BYTES
    ? { kind: 'string', length: 'max' }
    : type;
}

/** Creates or evolves the profile's tables and refreshes its metadata tables. */
export async function ensureTables(
  context: SqlContext,
  layouts: Layouts,
  tables: TableMetadata[],
  relationships: ManyToManyRelationship[],
): Promise<EnsureTablesResult> {
  try {
    return await ensureAllTables(context, layouts, tables, relationships);
  } catch (error) {
    // A driver error (a dropped connection, say) leaves as a classified error: activation answers 503, not a bare 500.
    throw toExportError(error, context.dialect.classifyError(error));
  }
}

async function ensureAllTables(
  context: SqlContext,
  layouts: Layouts,
  tables: TableMetadata[],
  relationships: ManyToManyRelationship[],
): Promise<EnsureTablesResult> {
  const { connection, dialect, schema } = context;
  const actions: SchemaAction[] = [];
  const failures: SchemaFailure[] = [];
  await checkServerLevel(context);
  await connection.query(dialect.createSchema(schema));
  for (const table of context.fixedTables) await connection.query(dialect.createTable(schema, table));
  const ready: TableMetadata[] = [];
  for (const table of tables) {
    try {
      await ensureTable(context, layouts, table, actions);
      ready.push(table);
    } catch (error) {
      // A lost connection is not the table's fault: fail the whole call so activation is retried.
      if (!(error instanceof ExportError) && dialect.classifyError(error) === 'transient') throw toExportError(error);
      failures.push({ table: table.logicalName, error: toExportError(error, 'schema') });
    }
  }
  if (ready.length > 0)
    actions.push({ table: '*', action: 'refreshMetadata', rows: await refreshMetadata(context, ready, relationships) });
  return { actions, failures };
}

async function ensureTable(
  context: SqlContext,
  layouts: Layouts,
  table: TableMetadata,
  actions: SchemaAction[],
): Promise<void> {
  const { connection, dialect, schema } = context;
  const model = buildTableModel(table, context.prefix);
  const reserved = [context.tombstones, context.deleteLog, ...context.fixedTables];
  if (reserved.some((fixed) => fixed.name.toLowerCase() === model.tableName.toLowerCase())) {
    throw new ExportError(
      'schema',
      `Table ${table.logicalName} would be written to ${model.tableName}, a name the export uses for its own table.`,
      {
        where: `${schema}.${model.tableName}`,
        fix: 'Use a table prefix for this profile.',
      },
    );
  }
  let existing = await existingColumns(context, model.tableName);
  if (existing.length === 0) {
    await connection.query(
      dialect.createTable(
        schema,
        { name: model.tableName, columns: asFixedColumns(model.columns), primaryKey: ['Id'] },
        { rowsUpdatedInPlace: true },
      ),
    );
    actions.push({ table: table.logicalName, action: 'createTable' });
    // A floor left by the table's earlier life would keep its copy out.
    await dropVersionFloor(context, table.logicalName);
    existing = await existingColumns(context, model.tableName);
  } else {
    await requireIdPrimaryKey(context, model.tableName);
  }
  const drifted = await applyDrift(context, table, model, existing, actions);
  layouts.remember(table, model, drifted ? await existingColumns(context, model.tableName) : existing);
}

/** Adds and widens the columns the model has and the table lacks or has narrower; whether it changed any. */
async function applyDrift(
  context: SqlContext,
  table: TableMetadata,
  model: TableModel,
  existing: ExistingColumn[],
  actions: SchemaAction[],
): Promise<boolean> {
  const { connection, dialect, schema } = context;
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
  const ref = tableRef(context, model.tableName);
  const types = new Map(existing.map((column) => [column.name.toLowerCase(), column.type]));
  const otherTypes = (except: string): ColumnType[] =>
    [...types.entries()].filter(([name]) => name !== except.toLowerCase()).map(([, type]) => type);
  for (const action of drift) {
    if (action.kind === 'addColumn') {
      const type = fitting(action.column.type, otherTypes(action.column.name));
      await connection.query(dialect.addColumn(ref, { name: action.column.name, type, nullable: true }));
      types.set(action.column.name.toLowerCase(), type);
      actions.push({
        table: table.logicalName,
        action: 'addColumn',
        column: action.column.name,
        type: describeType(type),
      });
    } else {
      const type = fitting(action.to, otherTypes(action.column));
      await connection.query(dialect.alterColumnType(ref, action.column, type));
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
  return drift.length > 0;
}

async function refreshMetadata(
  context: SqlContext,
  tables: TableMetadata[],
  relationships: ManyToManyRelationship[],
): Promise<number> {
  const { connection, dialect, prefix } = context;
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
      await session.query(dialect.deleteMetadataRows(tableRef(context, table.name)), [entities]);
      if (rows[kind].length === 0) continue;
      await session.query(dialect.insertRows(tableRef(context, table.name), table.columns), [
        JSON.stringify(rows[kind]),
      ]);
      written += rows[kind].length;
    }
  });
  return written;
}

/** The longest string each bounded column receives, where it is longer than the column as this process knows it. */
function overlongColumns(layout: Layout, upserts: RowUpsert[]): Map<string, number> {
  const longest = new Map<string, number>();
  for (const column of layout.columns) {
    if (column.type.kind !== 'string' || column.type.length === 'max') continue;
    let length = 0;
    for (const upsert of upserts) {
      const value = destinationValue(column, upsert);
      if (typeof value === 'string' && value.length > length) length = value.length;
    }
    if (length > column.type.length) longest.set(column.name, length);
  }
  return longest;
}

/** After an OverlongValue (layout.ts): widens what the table as it is now cannot hold, and forgets the cached layout. */
export async function widenForValues(
  context: SqlContext,
  layouts: Layouts,
  table: TableMetadata,
  layout: Layout,
  upserts: RowUpsert[],
): Promise<ColumnWidening[]> {
  // Another instance may have widened already: decide from the table as it is now, never narrowing it.
  const fresh = layouts.current(table, await existingColumns(context, layout.ref.name));
  const widened: ColumnWidening[] = [];
  for (const [name, length] of overlongColumns(fresh, upserts)) {
    const column = fresh.columns.find((candidate) => candidate.name === name) as DestinationColumn;
    const others = fresh.columns.filter((other) => other !== column).map((other) => other.type);
    const type = fitting(widenedType(column.type, widthFor(length)) ?? widthFor(length), others);
    await context.connection.query(context.dialect.alterColumnType(fresh.ref, name, type));
    widened.push({ column: name, from: describeType(column.type), to: describeType(type) });
    column.type = type;
  }
  layouts.forget(table);
  return widened;
}
