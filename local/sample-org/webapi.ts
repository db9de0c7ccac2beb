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
  /** The same keys as JSON text with their colon, and the navigation annotation's whole member (its value is fixed). */
  propertyJson: string;
  navigationMemberJson?: string;
  lookupNameKeyJson?: string;
  formattedKeyJson?: string;
  /** Formatted labels by value: a choice column has few values, written on every row. */
  formattedByValue?: Map<string | number | boolean, string>;
}

interface RowPlan {
  writers: ColumnWriter[];
  /** No two members share a key: then the text writer's members are the object's, in the same order. */
  distinctKeys: boolean;
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
  const writer: ColumnWriter = { logicalName: column.logicalName, property, lookup, propertyJson: keyJson(property) };
  if (annotations && lookup) {
    writer.navigationKey = `${property}${ASSOCIATED_NAVIGATION_PROPERTY}`;
    writer.lookupNameKey = `${property}${LOOKUP_LOGICAL_NAME}`;
    writer.navigationMemberJson = `${keyJson(writer.navigationKey)}${JSON.stringify(column.logicalName)}`;
    writer.lookupNameKeyJson = keyJson(writer.lookupNameKey);
  }
  if (annotations && !lookup && column.optionSet) {
    writer.formattedKey = `${property}${FORMATTED_VALUE}`;
    writer.formattedKeyJson = keyJson(writer.formattedKey);
    writer.formattedByValue = new Map();
    writer.labels = new Map(
      column.optionSet.options.map((option) => [option.value, option.labels[0]?.label ?? String(option.value)]),
    );
  }
  return writer;
}

const keyJson = (key: string): string => `${JSON.stringify(key)}:`;

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
  const keys = writers.flatMap((writer) =>
    [writer.navigationKey, writer.lookupNameKey, writer.formattedKey, writer.property].filter(
      (name) => name !== undefined,
    ),
  );
  const plan = { writers, distinctKeys: new Set(['@odata.etag', ...keys]).size === keys.length + 1 };
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

/** A value as JSON.stringify writes it inside an object (numbers that are not finite become null). */
function jsonValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null) return 'null';
  return JSON.stringify(value) ?? 'null';
}

/**
 * `JSON.stringify(toWebApiRow(…))`, written straight to text: the emulator serves every row this way, and building
 * each row as an object before serializing it was most of its CPU per row served (measured with --cpu-prof).
 * test/emulator/page-bytes.test.ts pins the bytes.
 */
export function toWebApiRowJson(table: TableMetadata, row: SampleRow, options: WebApiRowOptions): string {
  const plan = rowPlan(table, options.select, options.annotations === true);
  if (!plan.distinctKeys) return JSON.stringify(toWebApiRow(table, row, options));
  let text = `{"@odata.etag":${JSON.stringify(`W/"${options.versionNumber}"`)}`;
  for (const writer of plan.writers) {
    const value = valueOf(writer, row, options);
    if (writer.lookup) {
      const lookup = isLookupValue(value) ? value : null;
      if (writer.navigationMemberJson && writer.lookupNameKeyJson && lookup)
        text += `,${writer.navigationMemberJson},${writer.lookupNameKeyJson}${JSON.stringify(lookup.logicalName)}`;
      text += `,${writer.propertyJson}${lookup ? JSON.stringify(lookup.id) : 'null'}`;
      continue;
    }
    if (writer.formattedKeyJson && value !== null && !isLookupValue(value))
      text += `,${writer.formattedKeyJson}${JSON.stringify(formattedOnce(writer, value))}`;
    text += `,${writer.propertyJson}${jsonValue(isLookupValue(value) ? value.id : value)}`;
  }
  return `${text}}`;
}
