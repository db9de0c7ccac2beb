/**
 * Reads table metadata through `EntityDefinitions`. Type-specific properties (MaxLength, Precision,
 * DateTimeBehavior, Targets, option sets) are only returned through a cast segment per attribute type
 * (`…/Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata`), so a table costs one base query
 * plus one query per cast; they run in parallel under the per-org limiter.
 */
import type { z } from 'zod';
import { ExportError } from '../errors';
import type { DataverseHttp } from './http';
import type {
  ColumnMetadata,
  LocalizedLabel,
  ManyToManyRelationship,
  OptionMetadata,
  OptionSetMetadata,
  OptionSetType,
  TableMetadata,
} from './metadata';
import {
  attributeMetadataSchema,
  collectionOf,
  entityMetadataSchema,
  manyToManyRelationshipSchema,
  type OptionBody,
  type OptionSetBody,
} from './responses';

const tableProperties = [
  'LogicalName',
  'SchemaName',
  'EntitySetName',
  'ObjectTypeCode',
  'PrimaryIdAttribute',
  'PrimaryNameAttribute',
  'IsIntersect',
  'ChangeTrackingEnabled',
] as const;
const columnProperties = [
  'LogicalName',
  'SchemaName',
  'AttributeType',
  'AttributeTypeName',
  'IsPrimaryId',
  'IsPrimaryName',
  'IsValidForRead',
  'AttributeOf',
  'ColumnNumber',
] as const;
const relationshipProperties = [
  'SchemaName',
  'Entity1LogicalName',
  'Entity2LogicalName',
  'IntersectEntityName',
  'Entity1IntersectAttribute',
  'Entity2IntersectAttribute',
] as const;

/** Cast queries always select `LogicalName`, which is how their results are matched to columns. */
const castColumnSchema = attributeMetadataSchema.required({ LogicalName: true });
type CastColumnBody = z.infer<typeof castColumnSchema>;
const baseColumnSchema = attributeMetadataSchema.required({
  MetadataId: true,
  LogicalName: true,
  SchemaName: true,
  AttributeType: true,
  AttributeTypeName: true,
  IsPrimaryId: true,
  IsValidForRead: true,
  ColumnNumber: true,
});
const tableSchema = entityMetadataSchema
  .required({
    MetadataId: true,
    LogicalName: true,
    SchemaName: true,
    EntitySetName: true,
    ObjectTypeCode: true,
    PrimaryIdAttribute: true,
    IsIntersect: true,
    ChangeTrackingEnabled: true,
  })
  .extend({ Attributes: baseColumnSchema.array() });

/** One query per cast; `select` names the cast-only properties, `optionSets` expands the choices. */
const casts: Array<{ type: string; select: string[]; optionSets?: OptionSetType }> = [
  { type: 'StringAttributeMetadata', select: ['MaxLength'] },
  { type: 'MemoAttributeMetadata', select: ['MaxLength'] },
  { type: 'DecimalAttributeMetadata', select: ['Precision'] },
  { type: 'DoubleAttributeMetadata', select: ['Precision'] },
  { type: 'MoneyAttributeMetadata', select: ['Precision'] },
  { type: 'DateTimeAttributeMetadata', select: ['DateTimeBehavior'] },
  { type: 'LookupAttributeMetadata', select: ['Targets'] },
  { type: 'PicklistAttributeMetadata', select: [], optionSets: 'Picklist' },
  { type: 'MultiSelectPicklistAttributeMetadata', select: [], optionSets: 'MultiSelectPicklist' },
  { type: 'StateAttributeMetadata', select: [], optionSets: 'State' },
  { type: 'StatusAttributeMetadata', select: [], optionSets: 'Status' },
  { type: 'BooleanAttributeMetadata', select: [], optionSets: 'Boolean' },
];

const entityPath = (logicalName: string): string =>
  `EntityDefinitions(LogicalName='${encodeURIComponent(logicalName)}')`;

const toLabels = (option: OptionBody): LocalizedLabel[] =>
  option.Label.LocalizedLabels.map((label) => ({ label: label.Label, languageCode: label.LanguageCode }));

export function toOptions(optionSet: OptionSetBody): OptionMetadata[] {
  const options = optionSet.Options ?? [optionSet.FalseOption, optionSet.TrueOption].filter((option) => option != null);
  return options.map((option) => {
    const result: OptionMetadata = { value: option.Value, labels: toLabels(option) };
    if (option.State !== undefined) result.state = option.State;
    return result;
  });
}

function toOptionSet(column: CastColumnBody, type: OptionSetType, where: string): OptionSetMetadata {
  const optionSet = column.OptionSet ?? column.GlobalOptionSet;
  if (!optionSet?.Name) {
    throw new ExportError('schema', `Column ${column.LogicalName} has no named option set`, { where });
  }
  return { name: optionSet.Name, isGlobal: optionSet.IsGlobal ?? false, type, options: toOptions(optionSet) };
}

function applyCast(
  column: ColumnMetadata,
  cast: CastColumnBody,
  optionSets: OptionSetType | undefined,
  where: string,
): void {
  if (cast.MaxLength != null) column.maxLength = cast.MaxLength;
  if (cast.Precision != null) column.precision = cast.Precision;
  if (cast.DateTimeBehavior) column.dateTimeBehavior = cast.DateTimeBehavior.Value;
  if (cast.Targets) column.targets = cast.Targets;
  if (optionSets) column.optionSet = toOptionSet(cast, optionSets, where);
}

export async function readTable(http: DataverseHttp, logicalName: string): Promise<TableMetadata> {
  const path = entityPath(logicalName);
  const base = await http.get(
    `${path}?$select=${tableProperties.join(',')}&$expand=Attributes($select=${columnProperties.join(',')})`,
    tableSchema,
    { allowNotFound: true },
  );
  if (!base)
    throw new ExportError('config', `Table '${logicalName}' does not exist in this environment`, { where: path });
  const columns: ColumnMetadata[] = base.Attributes.map((attribute) => ({
    logicalName: attribute.LogicalName,
    schemaName: attribute.SchemaName,
    metadataId: attribute.MetadataId,
    attributeType: attribute.AttributeType,
    attributeTypeName: attribute.AttributeTypeName.Value,
    isPrimaryId: attribute.IsPrimaryId,
    isPrimaryName: attribute.IsPrimaryName ?? false,
    isValidForRead: attribute.IsValidForRead ?? false,
    attributeOf: attribute.AttributeOf ?? null,
    columnNumber: attribute.ColumnNumber,
  }));
  const byName = new Map(columns.map((column) => [column.logicalName, column]));
  await Promise.all(
    casts.map(async (cast) => {
      const castPath = `${path}/Attributes/Microsoft.Dynamics.CRM.${cast.type}`;
      const query = cast.optionSets
        ? `$select=LogicalName&$expand=OptionSet,GlobalOptionSet`
        : `$select=${['LogicalName', ...cast.select].join(',')}`;
      const result = await http.get(`${castPath}?${query}`, collectionOf(castColumnSchema));
      for (const item of result?.value ?? []) {
        const column = byName.get(item.LogicalName);
        if (column) applyCast(column, item, cast.optionSets, castPath);
      }
    }),
  );
  columns.sort((a, b) => a.columnNumber - b.columnNumber);
  return {
    logicalName: base.LogicalName,
    schemaName: base.SchemaName,
    entitySetName: base.EntitySetName,
    metadataId: base.MetadataId,
    objectTypeCode: base.ObjectTypeCode,
    primaryIdAttribute: base.PrimaryIdAttribute,
    primaryNameAttribute: base.PrimaryNameAttribute ?? null,
    isIntersect: base.IsIntersect,
    changeTrackingEnabled: base.ChangeTrackingEnabled,
    columns,
  };
}

/** The N:N relationships of the given tables, each once, with their intersect tables. */
export async function readManyToMany(http: DataverseHttp, tableNames: string[]): Promise<ManyToManyRelationship[]> {
  const found = new Map<string, ManyToManyRelationship>();
  const results = await Promise.all(
    tableNames.map((name) =>
      http.get(
        `${entityPath(name)}/ManyToManyRelationships?$select=${relationshipProperties.join(',')}`,
        collectionOf(manyToManyRelationshipSchema),
      ),
    ),
  );
  for (const item of results.flatMap((result) => result?.value ?? [])) {
    found.set(item.SchemaName, {
      schemaName: item.SchemaName,
      entity1LogicalName: item.Entity1LogicalName,
      entity2LogicalName: item.Entity2LogicalName,
      intersectEntityName: item.IntersectEntityName,
      entity1IntersectAttribute: item.Entity1IntersectAttribute,
      entity2IntersectAttribute: item.Entity2IntersectAttribute,
    });
  }
  return [...found.values()];
}
