/**
 * Dataverse table metadata → the DES-compatible destination table: which columns exist, their
 * dialect-neutral types, and where each value comes from in a Web API row. Dialects only translate
 * these types to SQL; every mapping decision lives here so PostgreSQL and SQL Server agree.
 */
import type { AttributeType, ColumnMetadata, TableMetadata } from '../dataverse/metadata';
import { assertExportableTable, partyListSkipReason } from './activities';
import { prefixed, validateDataverseName } from './identifiers';

export type ColumnType =
  | { kind: 'guid' }
  | { kind: 'string'; length: number | 'max' }
  | { kind: 'int' }
  | { kind: 'bigint' }
  | { kind: 'decimal'; scale: number }
  | { kind: 'bit' }
  | { kind: 'datetime' };

export type ColumnSource =
  /** The row's primary key (`RowUpsert.id`). */
  | { kind: 'id' }
  /** The row's version (`RowUpsert.versionNumber`), authoritative over any `versionnumber` property. */
  | { kind: 'version' }
  /** A Web API property taken as is. */
  | { kind: 'property'; property: string }
  /** The `lookuplogicalname` annotation (`annotation`, the full key) of a lookup `property`: DES's `<lookup>_entitytype`. */
  | { kind: 'lookupTable'; property: string; annotation: string }
  /** Stamped by the destination when the row is written. */
  | { kind: 'sinkTime'; on: 'insert' | 'write' };

export interface DestinationColumn {
  name: string;
  type: ColumnType;
  source: ColumnSource;
}

export interface SkippedColumn {
  name: string;
  reason: string;
}

export interface TableModel {
  logicalName: string;
  /** Destination table name without schema: `prefix_table`, or `table` without a prefix. */
  tableName: string;
  columns: DestinationColumn[];
  skipped: SkippedColumn[];
}

export const ID_COLUMN = 'Id';
export const VERSION_COLUMN = 'versionnumber';
const LOOKUP_TABLE_ANNOTATION = '@Microsoft.Dynamics.CRM.lookuplogicalname';

/** SQL Server's in-row limit; see `fitRowSize`. */
export const MAX_ROW_BYTES = 8060;
/** Longest `nvarchar(n)`; longer strings are `nvarchar(max)`. */
export const MAX_BOUNDED_STRING = 4000;
/** DES's width for `<lookup>_entitytype`. */
const ENTITY_TYPE_LENGTH = 128;
/** DES's width for multi-select choices (comma-separated values) and EntityName columns. */
const LIST_LENGTH = 4000;

const defaultScale: Partial<Record<ColumnMetadata['attributeType'], number>> = { Money: 4, Decimal: 10, Double: 5 };

const stringType = (length: number): ColumnType => ({
  kind: 'string',
  length: length > MAX_BOUNDED_STRING ? 'max' : Math.max(1, length),
});

const lookupProperty = (logicalName: string): string => `_${logicalName}_value`;
const lookupTableSource = (logicalName: string): ColumnSource => ({
  kind: 'lookupTable',
  property: lookupProperty(logicalName),
  annotation: `${lookupProperty(logicalName)}${LOOKUP_TABLE_ANNOTATION}`,
});

/** Attribute types whose column type never depends on the attribute's own settings. */
const FIXED_SIZE_TYPES: Partial<Record<AttributeType, ColumnType>> = {
  Memo: { kind: 'string', length: 'max' },
  Integer: { kind: 'int' },
  Picklist: { kind: 'int' },
  State: { kind: 'int' },
  Status: { kind: 'int' },
  BigInt: { kind: 'bigint' },
  Boolean: { kind: 'bit' },
  DateTime: { kind: 'datetime' },
  Uniqueidentifier: { kind: 'guid' },
};

/**
 * Which metadata columns become destination columns. Helper columns (`AttributeOf` set: `<lookup>name`,
 * `<lookup>yominame`, …) are not Web API properties and DES did not export them, with two exceptions DES
 * kept: the owner's `owneridtype` (EntityName; filled from the owner lookup's annotation) and an image's
 * `<image>_url` / `<image>_timestamp` companions. Image and file columns themselves hold binary content or
 * file ids DES never exported ("no support for attachments"); other Virtual, CalendarRules and
 * ManagedProperty columns are not readable row properties. PartyList columns are not row properties
 * either: their parties are activityparty rows (see activities.ts).
 */
function columnsFor(column: ColumnMetadata, table: TableMetadata): DestinationColumn[] | string {
  const name = column.logicalName;
  if (!column.isValidForRead) return 'not valid for read';
  if (column.attributeOf !== null) {
    const parent = table.columns.find((candidate) => candidate.logicalName === column.attributeOf);
    if (column.attributeType === 'EntityName' && parent) {
      return [{ name, type: stringType(LIST_LENGTH), source: lookupTableSource(parent.logicalName) }];
    }
    if (parent?.attributeTypeName !== 'ImageType') return `helper column of ${column.attributeOf}`;
  }
  const property = { kind: 'property', property: name } as const;
  const single = (type: ColumnType): DestinationColumn[] => [{ name, type, source: property }];
  const fixed = FIXED_SIZE_TYPES[column.attributeType];
  if (fixed) return single(fixed);
  switch (column.attributeType) {
    case 'String':
      return single(stringType(column.maxLength ?? MAX_BOUNDED_STRING));
    case 'EntityName':
      return single(stringType(LIST_LENGTH));
    case 'Decimal':
    case 'Double':
    case 'Money':
      return single({ kind: 'decimal', scale: column.precision ?? defaultScale[column.attributeType] ?? 10 });
    case 'Lookup':
    case 'Customer':
    case 'Owner':
      return [
        { name, type: { kind: 'guid' }, source: { kind: 'property', property: lookupProperty(name) } },
        { name: `${name}_entitytype`, type: stringType(ENTITY_TYPE_LENGTH), source: lookupTableSource(name) },
      ];
    case 'Virtual':
      if (column.attributeTypeName === 'MultiSelectPicklistType') return single(stringType(LIST_LENGTH));
      if (column.attributeTypeName === 'ImageType' || column.attributeTypeName === 'FileType') {
        return `${column.attributeTypeName === 'ImageType' ? 'image' : 'file'} content is not exported`;
      }
      return 'virtual column';
    case 'PartyList':
      return partyListSkipReason(name);
    case 'CalendarRules':
    case 'ManagedProperty':
      return `${column.attributeType} is not a row property`;
    default:
      // The fixed-size types were mapped above (FIXED_SIZE_TYPES); nothing else reaches here.
      return `no column for attribute type ${column.attributeType}`;
  }
}

/** Bytes a value of this type takes in a SQL Server data row (max types: the 24-byte in-row pointer). */
export function inRowBytes(type: ColumnType): number {
  switch (type.kind) {
    case 'guid':
      return 16;
    case 'string':
      return type.length === 'max' ? 26 : type.length * 2 + 2;
    case 'int':
      return 4;
    case 'bigint':
    case 'datetime':
      return 8;
    case 'decimal':
      return 17;
    case 'bit':
      return 1;
  }
}

export const rowBytes = (types: ColumnType[]): number => types.reduce((sum, type) => sum + inRowBytes(type), 0);

/**
 * SQL Server keeps a row's declared fixed and `nvarchar(n)` data within 8,060 bytes (DES failed on wide
 * tables). While the declared size is above that, the widest bounded string becomes `nvarchar(max)`,
 * which SQL Server moves off-row by itself when needed. Applied for both dialects so both get one schema.
 */
export function fitRowSize(columns: DestinationColumn[]): DestinationColumn[] {
  const result = columns.map((column) => ({ ...column }));
  while (rowBytes(result.map((column) => column.type)) > MAX_ROW_BYTES) {
    let widest: DestinationColumn | undefined;
    for (const column of result) {
      if (column.type.kind !== 'string' || column.type.length === 'max') continue;
      if (!widest || (widest.type.kind === 'string' && column.type.length > (widest.type.length as number)))
        widest = column;
    }
    if (!widest) break;
    widest.type = { kind: 'string', length: 'max' };
  }
  return result;
}

export function buildTableModel(table: TableMetadata, prefix: string): TableModel {
  validateDataverseName(table.logicalName, `table ${table.logicalName}`);
  assertExportableTable(table.logicalName);
  const columns: DestinationColumn[] = [
    { name: ID_COLUMN, type: { kind: 'guid' }, source: { kind: 'id' } },
    { name: 'SinkCreatedOn', type: { kind: 'datetime' }, source: { kind: 'sinkTime', on: 'insert' } },
    { name: 'SinkModifiedOn', type: { kind: 'datetime' }, source: { kind: 'sinkTime', on: 'write' } },
  ];
  const skipped: SkippedColumn[] = [];
  const ordered = [...table.columns].sort((a, b) => a.columnNumber - b.columnNumber);
  for (const column of ordered) {
    validateDataverseName(column.logicalName, `column ${table.logicalName}.${column.logicalName}`);
    if (column.logicalName === VERSION_COLUMN) {
      columns.push({ name: VERSION_COLUMN, type: { kind: 'bigint' }, source: { kind: 'version' } });
      continue;
    }
    const mapped = columnsFor(column, table);
    if (typeof mapped === 'string') skipped.push({ name: column.logicalName, reason: mapped });
    else columns.push(...mapped);
  }
  if (!columns.some((column) => column.name === VERSION_COLUMN)) {
    columns.push({ name: VERSION_COLUMN, type: { kind: 'bigint' }, source: { kind: 'version' } });
  }
  return {
    logicalName: table.logicalName,
    tableName: prefixed(prefix, table.logicalName),
    columns: fitRowSize(columns),
    skipped,
  };
}
