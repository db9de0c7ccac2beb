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
  /** Formatted labels by value: a choice column has few values, written on every row. */
  formattedByValue?: Map<string | number | boolean, string>;
}

interface RowPlan {
  writers: ColumnWriter[];
}

// The emulator writes every row of every page through here: 5,000 rows × every column per page. Working the column
// list out per row cost more than the rows themselves in the Dataverse-like benchmark, so it is kept per table and
// `$select` (by its columns: each request parses its own Set) while the metadata object lives.
const plans = new WeakMap<TableMetadata, Map<string, RowPlan>>();
const MAX_PLANS_PER_TABLE = 64;
const MAX_FORMATTED_VALUES = 256;

function columnWriter(column: TableMetadata['columns'][number], annotations: boolean): ColumnWriter {
  const property = webApiPropertyName(column);
  const lookup = isLookupColumn(column);
  const writer: ColumnWriter = { logicalName: column.logicalName, property, lookup };
  if (annotations && lookup) {
    writer.navigationKey = `${property}${ASSOCIATED_NAVIGATION_PROPERTY}`;
    writer.lookupNameKey = `${property}${LOOKUP_LOGICAL_NAME}`;
  }
  if (annotations && !lookup && column.optionSet) {
    writer.formattedKey = `${property}${FORMATTED_VALUE}`;
    writer.formattedByValue = new Map();
    writer.labels = new Map(
      column.optionSet.options.map((option) => [option.value, option.labels[0]?.label ?? String(option.value)]),
    );
  }
  return writer;
}

/** The plan of the last selection seen, per table and annotations: a page asks for it once per row. */
const lastPlans = new WeakMap<TableMetadata, { select: object; annotations: boolean; plan: RowPlan }>();

function rowPlan(table: TableMetadata, select: ReadonlySet<string> | undefined, annotations: boolean): RowPlan {
  const last = lastPlans.get(table);
  if (last && last.select === (select ?? ALL_COLUMNS) && last.annotations === annotations) return last.plan;
  const plan = plannedRow(table, select, annotations);
  lastPlans.set(table, { select: select ?? ALL_COLUMNS, annotations, plan });
  return plan;
}

const ALL_COLUMNS = {};

function plannedRow(table: TableMetadata, select: ReadonlySet<string> | undefined, annotations: boolean): RowPlan {
  const byTable = plans.get(table) ?? new Map<string, RowPlan>();
  plans.set(table, byTable);
  const key = `${annotations ? 'a' : 'p'}:${select ? [...select].sort().join(',') : '*'}`;
  const cached = byTable.get(key);
  if (cached) return cached;
  const writers: ColumnWriter[] = [];
  for (const column of table.columns) {
    // PartyList columns have no Web API property: their parties are activityparty rows (properties.ts).
    if (column.attributeOf !== null || !column.isValidForRead || isPartyListColumn(column)) continue;
    if (select && !column.isPrimaryId && !select.has(column.logicalName)) continue;
    writers.push(columnWriter(column, annotations));
  }
  const plan = { writers };
  if (byTable.size >= MAX_PLANS_PER_TABLE) byTable.clear();
  byTable.set(key, plan);
  return plan;
}

/** The labels of the chosen options, in the option set's order, as Dataverse formats a (multi-)choice. */
function formatted(labels: ReadonlyMap<number, string>, value: Exclude<SampleValue, LookupValue | null>): string {
  const chosen = typeof value === 'boolean' ? [value ? 1 : 0] : String(value).split(',').map(Number);
  const names: string[] = [];
  for (const [option, label] of labels) if (chosen.includes(option)) names.push(label);
  return names.join('; ');
}

function formattedOnce(writer: ColumnWriter, value: Exclude<SampleValue, LookupValue | null>): string {
  const cache = writer.formattedByValue;
  const known = cache?.get(value);
  if (known !== undefined) return known;
  const text = formatted(writer.labels ?? new Map(), value);
  if (cache && cache.size < MAX_FORMATTED_VALUES) cache.set(value, text);
  return text;
}

const valueOf = (writer: ColumnWriter, row: SampleRow, options: WebApiRowOptions): SampleValue =>
  writer.logicalName === 'versionnumber' ? options.versionNumber : (row[writer.logicalName] ?? null);

export function toWebApiRow(table: TableMetadata, row: SampleRow, options: WebApiRowOptions): WebApiRow {
  const result: WebApiRow = { '@odata.etag': `W/"${options.versionNumber}"` };
  for (const writer of rowPlan(table, options.select, options.annotations === true).writers) {
    const value = valueOf(writer, row, options);
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
      result[writer.formattedKey] = formattedOnce(writer, value);
    result[writer.property] = isLookupValue(value) ? value.id : value;
  }
  return result;
}

/**
 * A row as the emulator serves it, as JSON text (pages are assembled from rows' text: local/emulator/wire.ts).
 * test/emulator/page-bytes.test.ts pins the bytes.
 */
export function toWebApiRowJson(table: TableMetadata, row: SampleRow, options: WebApiRowOptions): string {
  return JSON.stringify(toWebApiRow(table, row, options));
}
