/**
 * Building blocks of the sample org's metadata: labels in English and German, option sets, and columns
 * and tables with the properties Dataverse reports (schema names, metadata ids, column numbers).
 */
import type {
  AttributeType,
  ColumnMetadata,
  DateTimeBehavior,
  LocalizedLabel,
  OptionMetadata,
  OptionSetMetadata,
  TableMetadata,
} from '../../shared/dataverse/metadata';
import { stableGuid } from './ids';

export const ENGLISH = 1033;
export const GERMAN = 1031;

export const labels = (english: string, german: string): LocalizedLabel[] => [
  { label: english, languageCode: ENGLISH },
  { label: german, languageCode: GERMAN },
];

export const options = (pairs: Array<[number, string, string]>): OptionMetadata[] =>
  pairs.map(([value, english, german]) => ({ value, labels: labels(english, german) }));

export const stateOptionSet = (table: string, active: string, inactive: [string, string]): OptionSetMetadata => ({
  name: `${table}_statecode`,
  isGlobal: false,
  type: 'State',
  options: options([
    [0, active, 'Aktiv'],
    [1, inactive[0], inactive[1]],
  ]),
});

export const statusOptionSet = (table: string): OptionSetMetadata => ({
  name: `${table}_statuscode`,
  isGlobal: false,
  type: 'Status',
  options: [
    { value: 1, labels: labels('Active', 'Aktiv'), state: 0 },
    { value: 2, labels: labels('Inactive', 'Inaktiv'), state: 1 },
  ],
});

export const booleanOptionSet = (name: string): OptionSetMetadata => ({
  name,
  isGlobal: false,
  type: 'Boolean',
  options: options([
    [0, 'No', 'Nein'],
    [1, 'Yes', 'Ja'],
  ]),
});

export interface ColumnSpec {
  name: string;
  type: AttributeType;
  typeName?: string;
  maxLength?: number;
  precision?: number;
  behavior?: DateTimeBehavior;
  targets?: string[];
  optionSet?: OptionSetMetadata;
  attributeOf?: string;
  primaryId?: boolean;
  primaryName?: boolean;
}

export const defaultTypeName: Record<AttributeType, string> = {
  Boolean: 'BooleanType',
  Customer: 'CustomerType',
  DateTime: 'DateTimeType',
  Decimal: 'DecimalType',
  Double: 'DoubleType',
  Integer: 'IntegerType',
  Lookup: 'LookupType',
  Memo: 'MemoType',
  Money: 'MoneyType',
  Owner: 'OwnerType',
  PartyList: 'PartyListType',
  Picklist: 'PicklistType',
  State: 'StateType',
  Status: 'StatusType',
  String: 'StringType',
  Uniqueidentifier: 'UniqueidentifierType',
  CalendarRules: 'CalendarRulesType',
  Virtual: 'VirtualType',
  BigInt: 'BigIntType',
  ManagedProperty: 'ManagedPropertyType',
  EntityName: 'EntityNameType',
};

export const schemaNameOf = (logicalName: string): string =>
  logicalName
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('_');

export function column(table: string, spec: ColumnSpec, columnNumber: number): ColumnMetadata {
  const result: ColumnMetadata = {
    logicalName: spec.name,
    schemaName: schemaNameOf(spec.name),
    metadataId: stableGuid(`attribute:${table}.${spec.name}`),
    attributeType: spec.type,
    attributeTypeName: spec.typeName ?? defaultTypeName[spec.type],
    isPrimaryId: spec.primaryId ?? false,
    isPrimaryName: spec.primaryName ?? false,
    isValidForRead: true,
    attributeOf: spec.attributeOf ?? null,
    columnNumber,
  };
  if (spec.maxLength !== undefined) result.maxLength = spec.maxLength;
  if (spec.precision !== undefined) result.precision = spec.precision;
  if (spec.behavior !== undefined) result.dateTimeBehavior = spec.behavior;
  if (spec.targets !== undefined) result.targets = spec.targets;
  if (spec.optionSet !== undefined) result.optionSet = spec.optionSet;
  return result;
}

/** Columns every user-owned table has. */
export const systemColumns = (table: string): ColumnSpec[] => [
  { name: 'createdon', type: 'DateTime', behavior: 'UserLocal' },
  { name: 'modifiedon', type: 'DateTime', behavior: 'UserLocal' },
  { name: 'createdby', type: 'Lookup', targets: ['systemuser'] },
  { name: 'modifiedby', type: 'Lookup', targets: ['systemuser'] },
  { name: 'ownerid', type: 'Owner', targets: ['systemuser', 'team'] },
  { name: 'owneridtype', type: 'EntityName', attributeOf: 'ownerid' },
  { name: 'statecode', type: 'State', optionSet: stateOptionSet(table, 'Active', ['Inactive', 'Inaktiv']) },
  { name: 'statuscode', type: 'Status', optionSet: statusOptionSet(table) },
  { name: 'versionnumber', type: 'BigInt' },
];

export function table(
  logicalName: string,
  entitySetName: string,
  objectTypeCode: number,
  primaryName: string | null,
  specs: ColumnSpec[],
  isIntersect = false,
): TableMetadata {
  // Intersect tables break the `<table>id` convention (systemuserroles → systemuserroleid), so the key is the flagged column.
  const primaryIdAttribute = specs.find((spec) => spec.primaryId)?.name ?? `${logicalName}id`;
  return {
    logicalName,
    schemaName: schemaNameOf(logicalName),
    entitySetName,
    metadataId: stableGuid(`entity:${logicalName}`),
    objectTypeCode,
    primaryIdAttribute,
    primaryNameAttribute: primaryName,
    isIntersect,
    changeTrackingEnabled: true,
    columns: specs.map((spec, index) => column(logicalName, spec, index + 1)),
  };
}
