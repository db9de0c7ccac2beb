/** A Web API row → the values of its destination columns, keyed by column name. */
import type { RowUpsert } from '../dataverse/changes';
import type { DestinationColumn } from './table-model';

export type SqlValue = string | number | boolean | null;

export const isAbsent = (value: unknown): boolean => value === null || value === undefined;

/** A Web API property's value as a column value: null when absent, JSON text for a shape no column has. */
export function scalar(value: unknown): SqlValue {
  if (isAbsent(value)) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  // Not a shape Dataverse sends for a column; keep it visible so the row fails with its content as the reason.
  return JSON.stringify(value);
}

const propertyValue = (change: RowUpsert, property: string): SqlValue => scalar(change.row[property]);
const lookupTableValue = (change: RowUpsert, property: string, annotation: string): SqlValue =>
  isAbsent(change.row[property]) ? null : scalar(change.row[annotation]);

/** The value of one column for a row; undefined for sink timestamps, which the destination stamps. */
export function destinationValue(column: Pick<DestinationColumn, 'source'>, change: RowUpsert): SqlValue | undefined {
  const source = column.source;
  switch (source.kind) {
    case 'id':
      return change.id;
    case 'version':
      return change.versionNumber;
    case 'property':
      return propertyValue(change, source.property);
    case 'lookupTable':
      return lookupTableValue(change, source.property, source.annotation);
    case 'sinkTime':
      return undefined;
  }
}

/** Reads one column's value from a row. */
export type ValueReader = (change: RowUpsert) => SqlValue;

/**
 * `destinationValue` with the column's source decided once, for encoders that map many rows of one table;
 * undefined for sink timestamps.
 */
export function valueReader(column: Pick<DestinationColumn, 'source'>): ValueReader | undefined {
  const source = column.source;
  switch (source.kind) {
    case 'id':
      return (change) => change.id;
    case 'version':
      return (change) => change.versionNumber;
    case 'property': {
      const { property } = source;
      return (change) => propertyValue(change, property);
    }
    case 'lookupTable': {
      const { property, annotation } = source;
      return (change) => lookupTableValue(change, property, annotation);
    }
    case 'sinkTime':
      return undefined;
  }
}

/** Values for every column the row itself supplies (sink timestamps are stamped by the destination). */
export function destinationValues(
  columns: Array<Pick<DestinationColumn, 'name' | 'source'>>,
  change: RowUpsert,
): Record<string, SqlValue> {
  const values: Record<string, SqlValue> = {};
  for (const column of columns) {
    const value = destinationValue(column, change);
    if (value !== undefined) values[column.name] = value;
  }
  return values;
}
