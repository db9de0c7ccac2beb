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

/** One readable column as written on the wire: its property names, worked out once per table and selection. */
interface ColumnWriter {
  logicalName: string;
  property: string;
  lookup: boolean;
  /** `<property>@…associatednavigationproperty` / `@…lookuplogicalname` / `@…FormattedValue`, when annotated. */
  navigationKey?: string;
  lookupNameKey?: string;
  formattedKey?: string;
  labels?: ReadonlyMap<number, string>;
}

// The emulator writes every row of every page through here: 5,000 rows × every column per page. Working the column
// list out per row cost more than the rows themselves in the Dataverse-like benchmark, so it is kept per table and
// `$select` (one Set per request) while the metadata object lives.
const plainPlans = new WeakMap<TableMetadata, WeakMap<object, ColumnWriter[]>>();
const annotatedPlans = new WeakMap<TableMetadata, WeakMap<object, ColumnWriter[]>>();
const ALL_COLUMNS = {};

function columnWriters(table: TableMetadata, select: ReadonlySet<string> | undefined, annotations: boolean) {
  const plans = annotations ? annotatedPlans : plainPlans;
  const byTable = plans.get(table) ?? new WeakMap<object, ColumnWriter[]>();
  plans.set(table, byTable);
  const cached = byTable.get(select ?? ALL_COLUMNS);
  if (cached) return cached;
  const writers: ColumnWriter[] = [];
  for (const column of table.columns) {
    // PartyList columns have no Web API property: their parties are activityparty rows (properties.ts).
    if (column.attributeOf !== null || !column.isValidForRead || isPartyListColumn(column)) continue;
    if (select && !column.isPrimaryId && !select.has(column.logicalName)) continue;
    const property = webApiPropertyName(column);
    const lookup = isLookupColumn(column);
    const writer: ColumnWriter = { logicalName: column.logicalName, property, lookup };
    if (annotations && lookup) {
      writer.navigationKey = `${property}${ASSOCIATED_NAVIGATION_PROPERTY}`;
      writer.lookupNameKey = `${property}${LOOKUP_LOGICAL_NAME}`;
    }
    if (annotations && !lookup && column.optionSet) {
      writer.formattedKey = `${property}${FORMATTED_VALUE}`;
      writer.labels = new Map(
        column.optionSet.options.map((option) => [option.value, option.labels[0]?.label ?? String(option.value)]),
      );
    }
    writers.push(writer);
  }
  byTable.set(select ?? ALL_COLUMNS, writers);
  return writers;
}

/** The labels of the chosen options, in the option set's order, as Dataverse formats a (multi-)choice. */
function formatted(labels: ReadonlyMap<number, string>, value: Exclude<SampleValue, LookupValue | null>): string {
  const chosen = typeof value === 'boolean' ? [value ? 1 : 0] : String(value).split(',').map(Number);
  const names: string[] = [];
  for (const [option, label] of labels) if (chosen.includes(option)) names.push(label);
  return names.join('; ');
}

export function toWebApiRow(table: TableMetadata, row: SampleRow, options: WebApiRowOptions): WebApiRow {
  const result: WebApiRow = { '@odata.etag': `W/"${options.versionNumber}"` };
  for (const writer of columnWriters(table, options.select, options.annotations === true)) {
    const value = writer.logicalName === 'versionnumber' ? options.versionNumber : (row[writer.logicalName] ?? null);
    if (writer.lookup) {
      const lookup = isLookupValue(value) ? value : null;
      if (writer.navigationKey && writer.lookupNameKey && lookup) {
        result[writer.navigationKey] = writer.logicalName;
        result[writer.lookupNameKey] = lookup.logicalName;
      }
      result[writer.property] = lookup ? lookup.id : null;
      continue;
    }
    if (writer.formattedKey && writer.labels && value !== null && !isLookupValue(value))
      result[writer.formattedKey] = formatted(writer.labels, value);
    result[writer.property] = isLookupValue(value) ? value.id : value;
  }
  return result;
}
