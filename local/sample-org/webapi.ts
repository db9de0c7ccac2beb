/**
 * Writes a sample row the way the Dataverse Web API returns it: lookups as `_<name>_value` (with the
 * `lookuplogicalname` annotation when annotations are asked for), multi-select choices as comma
 * strings, DateOnly as `YYYY-MM-DD`, `@odata.etag` as `W/"<versionnumber>"`. Helper columns that
 * derive from another column (`AttributeOf`) and PartyList columns are not Web API properties and are left out.
 */
import type { TableMetadata } from '../../shared/dataverse/metadata';
import type { WebApiRow } from '../../shared/dataverse/changes';
import {
  ASSOCIATED_NAVIGATION_PROPERTY,
  FORMATTED_VALUE,
  LOOKUP_LOGICAL_NAME,
  isLookupColumn,
  isPartyListColumn,
  webApiPropertyName,
} from '../../shared/dataverse/properties';
import type { LookupValue, SampleRow, SampleValue } from './rows';

export * from '../../shared/dataverse/properties';

const isLookupValue = (value: SampleValue): value is LookupValue =>
  typeof value === 'object' && value !== null && 'id' in value;

export interface WebApiRowOptions {
  versionNumber: number;
  /** Columns to include (`$select`); all readable columns when absent. The primary key is always included. */
  select?: ReadonlySet<string>;
  annotations?: boolean;
}

export function toWebApiRow(table: TableMetadata, row: SampleRow, options: WebApiRowOptions): WebApiRow {
  const result: WebApiRow = { '@odata.etag': `W/"${options.versionNumber}"` };
  for (const column of table.columns) {
    // PartyList columns have no Web API property: their parties are activityparty rows (properties.ts).
    if (column.attributeOf !== null || !column.isValidForRead || isPartyListColumn(column)) continue;
    if (options.select && !column.isPrimaryId && !options.select.has(column.logicalName)) continue;
    const value = column.logicalName === 'versionnumber' ? options.versionNumber : (row[column.logicalName] ?? null);
    const property = webApiPropertyName(column);
    if (isLookupColumn(column)) {
      const lookup = isLookupValue(value) ? value : null;
      if (options.annotations && lookup) {
        result[`${property}${ASSOCIATED_NAVIGATION_PROPERTY}`] = column.logicalName;
        result[`${property}${LOOKUP_LOGICAL_NAME}`] = lookup.logicalName;
      }
      result[property] = lookup ? lookup.id : null;
      continue;
    }
    if (options.annotations && value !== null && column.optionSet && !isLookupValue(value)) {
      const chosen = typeof value === 'boolean' ? [value ? 1 : 0] : String(value).split(',').map(Number);
      const labels = column.optionSet.options
        .filter((option) => chosen.includes(option.value))
        .map((option) => option.labels[0]?.label ?? String(option.value));
      result[`${property}${FORMATTED_VALUE}`] = labels.join('; ');
    }
    result[property] = isLookupValue(value) ? value.id : value;
  }
  return result;
}
