/** A Web API row → the values of its destination columns, keyed by column name. */
import type { RowUpsert } from '../dataverse/changes';
import { LOOKUP_TABLE_ANNOTATION, type DestinationColumn } from './table-model';

export type SqlValue = string | number | boolean | null;

function scalar(value: unknown): SqlValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  // Not a shape Dataverse sends for a column; keep it visible so the row fails with its content as the reason.
  return JSON.stringify(value);
}

/** Values for every column the row itself supplies (sink timestamps are stamped by the destination). */
export function destinationValues(columns: Array<Pick<DestinationColumn, 'name' | 'source'>>, change: RowUpsert): Record<string, SqlValue> {
  const values: Record<string, SqlValue> = {};
  for (const column of columns) {
    const source = column.source;
    switch (source.kind) {
      case 'id':
        values[column.name] = change.id;
        break;
      case 'version':
        values[column.name] = change.versionNumber;
        break;
      case 'property':
        values[column.name] = scalar(change.row[source.property]);
        break;
      case 'lookupTable':
        values[column.name] =
          change.row[source.property] === null || change.row[source.property] === undefined
            ? null
            : scalar(change.row[`${source.property}${LOOKUP_TABLE_ANNOTATION}`]);
        break;
      case 'sinkTime':
        break;
    }
  }
  return values;
}
