/** Rows on the wire: `$select` to columns, stored rows to Web API JSON, request bodies to column values. */
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { isLookupColumn, isPartyListColumn, webApiPropertyName } from '../../shared/dataverse/properties';
import { toWebApiRowJson, type SampleRow, type SampleValue } from '../sample-org';
import { HttpError, unknownProperty } from './http-error';
import type { OrgStore, StoredRow } from './store';

/** `$select` (Web API property names) → logical column names; money columns bring their currency along. */
export function selection(table: TableMetadata, select: string[] | undefined): Set<string> | undefined {
  if (select === undefined) return undefined;
  const byProperty = new Map(table.columns.map((column) => [webApiPropertyName(column), column]));
  const names = new Set<string>();
  for (const property of select) {
    const column = byProperty.get(property);
    if (!column || column.attributeOf !== null || isPartyListColumn(column))
      throw unknownProperty(property, table.logicalName);
    names.add(column.logicalName);
    if (column.attributeType === 'Money' && byProperty.has('_transactioncurrencyid_value'))
      names.add('transactioncurrencyid');
  }
  return names;
}

/** A stored row as the Web API writes it, as JSON text (local/sample-org/webapi.ts). */
export function rowJsonText(
  table: TableMetadata,
  stored: StoredRow,
  select: Set<string> | undefined,
  annotations: boolean,
): string {
  return toWebApiRowJson(table, stored.row, { versionNumber: stored.version, select, annotations });
}

/** A `$select` of the primary key alone (and the version, which is not a row value): the key pass's read. */
export const isKeyOnly = (table: TableMetadata, select: ReadonlySet<string> | undefined): boolean =>
  select !== undefined &&
  select.size <= 2 &&
  [...select].every((name) => name === table.primaryIdAttribute || name === 'versionnumber');

/** A Web API request body → logical values: plain properties and `<lookup>[_<target>]@odata.bind`. */
export function rowValues(store: OrgStore, table: TableMetadata, body: unknown): SampleRow {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, '0x80040203', 'The request body must be a JSON object.');
  const values: SampleRow = {};
  for (const [property, value] of Object.entries(body)) {
    if (property.endsWith('@odata.bind')) {
      const navigation = property.slice(0, -'@odata.bind'.length);
      const column = table.columns.find(
        (candidate) =>
          isLookupColumn(candidate) &&
          (candidate.logicalName === navigation || navigation.startsWith(`${candidate.logicalName}_`)),
      );
      const target = typeof value === 'string' ? /^\/?(\w+)\(([0-9a-fA-F-]{36})\)$/.exec(value) : null;
      if (!column || !target) throw unknownProperty(navigation, table.logicalName);
      const targetTable = store.tableBySet(target[1] ?? '');
      const logicalName =
        targetTable?.logicalName ?? column.targets?.find((name) => (target[1] ?? '').startsWith(name));
      if (!logicalName)
        throw new HttpError(400, '0x80040203', `'${value}' is not a valid target of ${column.logicalName}.`);
      values[column.logicalName] = { id: (target[2] ?? '').toLowerCase(), logicalName };
      continue;
    }
    if (property.includes('@')) continue;
    const column = table.columns.find((candidate) => candidate.logicalName === property);
    if (!column || isLookupColumn(column) || column.attributeOf !== null || isPartyListColumn(column))
      throw unknownProperty(property, table.logicalName);
    if (value !== null && typeof value === 'object')
      throw new HttpError(400, '0x80040203', `Property '${property}' must be a primitive value.`);
    values[property] = value as SampleValue;
  }
  return values;
}
