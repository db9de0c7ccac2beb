/** A Web API row → the values of its destination columns, keyed by column name. */
import type { RowUpsert } from '../dataverse/changes';
import type { DestinationColumn } from './table-model';

export type SqlValue = string | number | boolean | null;

function scalar(value: unknown): SqlValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  // Not a shape Dataverse sends for a column; keep it visible so the row fails with its content as the reason.
  return JSON.stringify(value);
}

/** The value of one column for a row; undefined for sink timestamps, which the destination stamps. */
export function destinationValue(column: Pick<DestinationColumn, 'source'>, change: RowUpsert): SqlValue | undefined {
  const source = column.source;
  switch (source.kind) {
    case 'id':
      return change.id;
    case 'version':
      return change.versionNumber;
    case 'property':
      return scalar(change.row[source.property]);
    case 'lookupTable':
      return change.row[source.property] === null || change.row[source.property] === undefined ? null : scalar(change.row[source.annotation]);
    case 'sinkTime':
      return undefined;
  }
}

/** Values for every column the row itself supplies (sink timestamps are stamped by the destination). */
export function destinationValues(columns: Array<Pick<DestinationColumn, 'name' | 'source'>>, change: RowUpsert): Record<string, SqlValue> {
  const values: Record<string, SqlValue> = {};
  for (const column of columns) {
    const value = destinationValue(column, change);
    if (value !== undefined) values[column.name] = value;
  }
  return values;
}
