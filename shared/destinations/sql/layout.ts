/**
 * How batches are written to one destination table as it is now: its columns as the table has them, the
 * statements built for them, and the readers that map a Web API row to their values. Cached per destination.
 */
import type { RowUpsert } from '../../dataverse/changes';
import type { TableMetadata } from '../../dataverse/metadata';
import { ExportError } from '../../errors';
import type { ExistingColumn } from '../../schema/drift';
import { valueReader, type SqlValue, type ValueReader } from '../../schema/row-values';
import { buildTableModel, type DestinationColumn, type TableModel } from '../../schema/table-model';
import { existingColumns, requireIdPrimaryKey, tableRef, type SqlContext } from './context';
import { suppliedColumns, type ApplyTables, type BulkUpserts, type TableBulkUpserts, type TableRef } from './dialect';

export interface Layout {
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
  /** The dialect's bulk upsert path for this table, where it has one. */
  bulk?: TableBulkUpserts;
  /**
   * The columns a row leaves out (its properties are absent: polled with a `$select` from before they were
   * added), as a key for `shaped`; '' when it has them all. A property present with null is not absent.
   */
  shapeOf(change: RowUpsert): string;
  /**
   * The first supplied column whose text, as it would be written, holds an unpaired UTF-16 surrogate (which no SQL
   * text column can store), or undefined.
   */
  unpairedSurrogateColumn(change: RowUpsert): string | undefined;
  /** This layout without the columns of a `shapeOf` key: its upserts leave those columns as they are. */
  shaped(shape: string): Layout;
}

/**
 * Thrown while a batch is mapped when a value is longer than its column as this process knows it, so the
 * batch is rolled back, the column widened and the batch applied again: checking while mapping costs no
 * extra pass over the batch, and such values are rare.
 */
export class OverlongValue extends Error {}

/**
 * Layouts are cached per table *and* metadata: an applier that receives newer metadata (a column added by
 * activation in another process) builds a new layout instead of writing with the old column list.
 */
export const layoutKey = (table: TableMetadata): string =>
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

/** A supplied column's reader; with widening on, it throws OverlongValue for a string longer than the column. */
function checkedReader(column: DestinationColumn, widenOverlongStrings: boolean): ValueReader {
  const read = valueReader(column) as ValueReader;
  if (!widenOverlongStrings || column.type.kind !== 'string' || column.type.length === 'max') return read;
  const limit = column.type.length;
  return (change) => {
    const value = read(change);
    if (typeof value === 'string' && value.length > limit)
      throw new OverlongValue(`${column.name} receives ${value.length} characters`);
    return value;
  };
}

/** Whether a row carries the property a column is read from (id and version always are; sink times are stamped). */
function presenceCheck(column: DestinationColumn): ((change: RowUpsert) => boolean) | undefined {
  const source = column.source;
  // JSON has no undefined: a property is absent exactly when reading it gives undefined.
  if (source.kind === 'property' || source.kind === 'lookupTable')
    return (change) => change.row[source.property] !== undefined;
  return undefined;
}

/** Any surrogate at all: a cheap test that lets almost every value skip UNPAIRED_SURROGATE's lookarounds. */
const ANY_SURROGATE = /[\uD800-\uDFFF]/;
/** A lone high or low surrogate: text that is not valid UTF-16, so it has no UTF-8 form either. */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * `unpairedSurrogateColumn` of the supplied columns. It reads each column's value directly (the row's properties
 * are not enumerated: listing the keys of a wide Web API row, a dictionary-mode object, cost more than the COPY
 * encoding of the row), and only the values that are written, so a property no column stores is not checked.
 */
function unpairedSurrogateReader(supplied: DestinationColumn[]): (change: RowUpsert) => string | undefined {
  const checks = supplied.flatMap((column) => {
    const read = valueReader(column);
    return read && (column.source.kind === 'property' || column.source.kind === 'lookupTable')
      ? [{ name: column.name, read }]
      : [];
  });
  return (change) => {
    for (const check of checks) {
      const value = check.read(change);
      if (typeof value === 'string' && ANY_SURROGATE.test(value) && UNPAIRED_SURROGATE.test(value)) return check.name;
    }
    return undefined;
  };
}

/** `shapeOf` of the supplied columns: the names of those a row has no property for, joined. */
function shapeReader(supplied: DestinationColumn[]): (change: RowUpsert) => string {
  const checks = supplied.flatMap((column) => {
    const present = presenceCheck(column);
    return present ? [{ name: column.name, present }] : [];
  });
  return (change) => {
    let shape = '';
    for (const check of checks)
      if (!check.present(change)) shape = shape === '' ? check.name : `${shape},${check.name}`;
    return shape;
  };
}

/** The layout of a table model over the table's existing columns. */
export function layoutOf(
  context: SqlContext,
  bulkUpserts: BulkUpserts | undefined,
  model: TableModel,
  existing: ExistingColumn[],
): Layout {
  const byName = new Map(existing.map((column) => [column.name.toLowerCase(), column]));
  const columns: DestinationColumn[] = [];
  for (const column of model.columns) {
    const physical = byName.get(column.name.toLowerCase());
    if (physical) columns.push({ ...column, name: physical.name, type: physical.type });
  }
  // A table column the model does not have (made by hand, or kept from older metadata) is not written: rows are
  // not full then, and an update must leave that column alone.
  return layoutOfColumns(context, bulkUpserts, model.tableName, columns, columns.length === existing.length);
}

/** The layout writing exactly `columns` of a table; `fullRows` when they are all the columns it has. */
function layoutOfColumns(
  context: SqlContext,
  bulkUpserts: BulkUpserts | undefined,
  tableName: string,
  columns: DestinationColumn[],
  fullRows: boolean,
): Layout {
  const { dialect, target } = context;
  const tables: ApplyTables = {
    target: tableRef(context, tableName),
    tombstones: tableRef(context, context.tombstones.name),
    versionFloor: tableRef(context, context.versionFloor.name),
    resyncSeen: tableRef(context, context.resyncSeen.name),
    ...(target.writeDeleteLog ? { deleteLog: tableRef(context, context.deleteLog.name) } : {}),
  };
  const supplied = suppliedColumns(columns);
  const readers = supplied.map((column) => checkedReader(column, target.widenOverlongStrings));
  const names = supplied.map((column) => column.name);
  const shapes = new Map<string, Layout>();
  const layout: Layout = {
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
    ...(bulkUpserts && { bulk: bulkUpserts.forTable(tables, columns, readers, fullRows) }),
    shapeOf: shapeReader(supplied),
    unpairedSurrogateColumn: unpairedSurrogateReader(supplied),
    shaped(shape) {
      if (shape === '') return layout;
      let partial = shapes.get(shape);
      if (!partial) {
        const absent = new Set(shape.split(','));
        const kept = columns.filter((column) => !absent.has(column.name));
        partial = layoutOfColumns(context, bulkUpserts, tableName, kept, false);
        shapes.set(shape, partial);
      }
      return partial;
    },
  };
  return layout;
}

/** The layouts of one destination, and its bulk upsert path (which learns across them). */
export class Layouts {
  private readonly cache = new Map<string, Layout>();
  /** Made once here, not per layout: the path keeps what it learns about an entity when the layout changes. */
  private readonly bulkUpserts: BulkUpserts | undefined;

  constructor(private readonly context: SqlContext) {
    this.bulkUpserts = context.dialect.bulkUpserts?.();
  }

  /** The layout of `model` over `existing`, remembered as the layout of `table`. */
  remember(table: TableMetadata, model: TableModel, existing: ExistingColumn[]): Layout {
    const layout = layoutOf(this.context, this.bulkUpserts, model, existing);
    this.cache.set(layoutKey(table), layout);
    return layout;
  }

  /** A layout built from the table as it is now, not remembered (deciding a widening). */
  current(table: TableMetadata, existing: ExistingColumn[]): Layout {
    return layoutOf(this.context, this.bulkUpserts, buildTableModel(table, this.context.prefix), existing);
  }

  forget(table: TableMetadata): void {
    this.cache.delete(layoutKey(table));
  }

  async layoutFor(table: TableMetadata): Promise<Layout> {
    const cached = this.cache.get(layoutKey(table));
    if (cached) return cached;
    const { schema, prefix } = this.context;
    const model = buildTableModel(table, prefix);
    const existing = await existingColumns(this.context, model.tableName);
    if (existing.length === 0) {
      throw new ExportError('schema', `Destination table ${schema}.${model.tableName} does not exist.`, {
        where: `${schema}.${model.tableName}`,
        fix: 'Activate the profile (ensureTables) before applying changes.',
      });
    }
    // Also here, not only at activation: a table activated before the check, or altered since, must not collect duplicates.
    await requireIdPrimaryKey(this.context, model.tableName);
    return this.remember(table, model, existing);
  }
}
