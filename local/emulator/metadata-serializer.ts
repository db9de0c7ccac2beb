/**
 * Writes the sample org's metadata (shared/dataverse/metadata.ts types) the way `EntityDefinitions`
 * returns it: concrete `@odata.type` per attribute, `AttributeTypeName`, cast-only properties that a
 * `$select` without the cast segment may not name, option sets with labels, state/status options.
 */
import type {
  ColumnMetadata,
  LocalizedLabel,
  ManyToManyRelationship,
  OptionMetadata,
  OptionSetMetadata,
  TableMetadata,
} from '../../shared/dataverse/metadata';
import { stableGuid } from '../sample-org';
import { ENGLISH } from '../sample-org/schema';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const CRM = 'Microsoft.Dynamics.CRM.';

/** Properties every AttributeMetadata has; anything else needs a cast segment in the URL. */
export const baseAttributeProperties = new Set([
  'MetadataId',
  'LogicalName',
  'SchemaName',
  'AttributeType',
  'AttributeTypeName',
  'IsPrimaryId',
  'IsPrimaryName',
  'IsValidForRead',
  'IsValidForCreate',
  'IsValidForUpdate',
  'AttributeOf',
  'ColumnNumber',
  'EntityLogicalName',
  'IsCustomAttribute',
  'IsAuditEnabled',
  'DisplayName',
  'RequiredLevel',
]);

export const entityProperties = new Set([
  'MetadataId',
  'LogicalName',
  'SchemaName',
  'EntitySetName',
  'LogicalCollectionName',
  'ObjectTypeCode',
  'PrimaryIdAttribute',
  'PrimaryNameAttribute',
  'IsIntersect',
  'IsActivity',
  'OwnershipType',
  'ChangeTrackingEnabled',
  'CanChangeTrackingBeEnabled',
  'DisplayName',
]);

/** Navigation properties of enum-like attributes, only returned through `$expand`. */
export const optionSetNavigation = new Set(['OptionSet', 'GlobalOptionSet']);

/**
 * The derived metadata type Dataverse uses for a column: Customer, Owner and PartyList columns are
 * LookupAttributeMetadata, which is where their Targets are read (reference/entities/email lists Targets for `to`).
 */
export function attributeMetadataType(column: ColumnMetadata): string {
  switch (column.attributeType) {
    case 'Customer':
    case 'Owner':
    case 'PartyList':
    case 'Lookup':
      return 'LookupAttributeMetadata';
    case 'Uniqueidentifier':
      return 'UniqueIdentifierAttributeMetadata';
    case 'Virtual':
      switch (column.attributeTypeName) {
        case 'MultiSelectPicklistType':
          return 'MultiSelectPicklistAttributeMetadata';
        case 'ImageType':
          return 'ImageAttributeMetadata';
        case 'FileType':
          return 'FileAttributeMetadata';
        default:
          return 'AttributeMetadata';
      }
    default:
      return `${column.attributeType}AttributeMetadata`;
  }
}

const localizedLabel = (label: LocalizedLabel, owner: string): JsonObject => ({
  Label: label.label,
  LanguageCode: label.languageCode,
  IsManaged: false,
  MetadataId: stableGuid(`label:${owner}:${label.languageCode}`),
  HasChanged: null,
});

export function labelJson(labels: LocalizedLabel[], owner: string): JsonObject {
  const user = labels.find((label) => label.languageCode === ENGLISH) ?? labels[0];
  return {
    LocalizedLabels: labels.map((label) => localizedLabel(label, owner)),
    UserLocalizedLabel: user ? localizedLabel(user, owner) : null,
  };
}

const emptyLabel: JsonObject = { LocalizedLabels: [], UserLocalizedLabel: null };

function optionJson(optionSet: OptionSetMetadata, option: OptionMetadata): JsonObject {
  const owner = `${optionSet.name}:${option.value}`;
  const result: JsonObject = {
    Value: option.value,
    Color: null,
    IsManaged: false,
    ExternalValue: null,
    ParentValues: [],
    MetadataId: null,
    HasChanged: null,
    Label: labelJson(option.labels, owner),
    Description: emptyLabel,
  };
  if (optionSet.type === 'Status') {
    return { '@odata.type': `#${CRM}StatusOptionMetadata`, ...result, State: option.state ?? 0, TransitionData: '' };
  }
  if (optionSet.type === 'State') {
    return {
      '@odata.type': `#${CRM}StateOptionMetadata`,
      ...result,
      DefaultStatus: option.value + 1,
      InvariantName: option.labels[0]?.label ?? '',
    };
  }
  return result;
}

export function optionSetJson(optionSet: OptionSetMetadata): JsonObject {
  const result: JsonObject = {
    MetadataId: stableGuid(`optionset:${optionSet.name}`),
    Name: optionSet.name,
    IsGlobal: optionSet.isGlobal,
    IsCustomOptionSet: optionSet.name.startsWith('sample_'),
    // Multi-select choices are Picklist option sets; only the attribute type tells them apart.
    OptionSetType: optionSet.type === 'MultiSelectPicklist' ? 'Picklist' : optionSet.type,
    Description: emptyLabel,
    DisplayName: emptyLabel,
  };
  if (optionSet.type === 'Boolean') {
    const option = (value: number): Json => {
      const found = optionSet.options.find((candidate) => candidate.value === value);
      return found ? optionJson(optionSet, found) : null;
    };
    return {
      '@odata.type': `#${CRM}BooleanOptionSetMetadata`,
      ...result,
      TrueOption: option(1),
      FalseOption: option(0),
    };
  }
  return { ...result, Options: optionSet.options.map((option) => optionJson(optionSet, option)) };
}

/** Cast-only properties of a column's concrete type. */
function castProperties(column: ColumnMetadata): JsonObject {
  switch (attributeMetadataType(column)) {
    case 'StringAttributeMetadata':
      return { MaxLength: column.maxLength ?? 100, FormatName: { Value: 'Text' } };
    case 'MemoAttributeMetadata':
      return { MaxLength: column.maxLength ?? 2000, Format: 'TextArea' };
    case 'IntegerAttributeMetadata':
      return { MinValue: -2147483648, MaxValue: 2147483647, Format: 'None' };
    case 'BigIntAttributeMetadata':
      // ±2⁶³ as Dataverse states them; JSON numbers in JavaScript round the last digits.
      return { MinValue: -(2 ** 63), MaxValue: 2 ** 63 - 1 };
    case 'DecimalAttributeMetadata':
    case 'DoubleAttributeMetadata':
      return { Precision: column.precision ?? 2, MinValue: -100000000000, MaxValue: 100000000000 };
    case 'MoneyAttributeMetadata':
      return {
        Precision: column.precision ?? 2,
        PrecisionSource: 2,
        MinValue: -922337203685477,
        MaxValue: 922337203685477,
      };
    case 'DateTimeAttributeMetadata':
      return {
        Format: column.dateTimeBehavior === 'DateOnly' ? 'DateOnly' : 'DateAndTime',
        DateTimeBehavior: { Value: column.dateTimeBehavior ?? 'UserLocal' },
      };
    case 'LookupAttributeMetadata':
      return { Targets: column.targets ?? [] };
    case 'ImageAttributeMetadata':
      return { MaxSizeInKB: 10240, CanStoreFullImage: true, IsPrimaryImage: column.logicalName === 'entityimage' };
    case 'FileAttributeMetadata':
      return { MaxSizeInKB: 32768 };
    default:
      return {};
  }
}

/** Every property of a column (base + cast), navigation properties excluded. */
export function attributeJson(table: TableMetadata, column: ColumnMetadata): JsonObject {
  return {
    '@odata.type': `#${CRM}${attributeMetadataType(column)}`,
    MetadataId: column.metadataId,
    LogicalName: column.logicalName,
    SchemaName: column.schemaName,
    EntityLogicalName: table.logicalName,
    AttributeType: column.attributeType,
    AttributeTypeName: { Value: column.attributeTypeName },
    IsPrimaryId: column.isPrimaryId,
    IsPrimaryName: column.isPrimaryName,
    IsValidForRead: column.isValidForRead,
    IsValidForCreate: !column.isPrimaryId && column.attributeOf === null,
    IsValidForUpdate: !column.isPrimaryId && column.attributeOf === null,
    AttributeOf: column.attributeOf,
    ColumnNumber: column.columnNumber,
    IsCustomAttribute: column.logicalName.startsWith('sample_'),
    ...castProperties(column),
  };
}

/** The option set navigation properties as `$expand=OptionSet,GlobalOptionSet` returns them. */
export function attributeOptionSets(column: ColumnMetadata): { OptionSet: Json; GlobalOptionSet: Json } {
  const optionSet = column.optionSet ? optionSetJson(column.optionSet) : null;
  return { OptionSet: optionSet, GlobalOptionSet: column.optionSet?.isGlobal ? optionSet : null };
}

export function entityJson(table: TableMetadata): JsonObject {
  return {
    MetadataId: table.metadataId,
    LogicalName: table.logicalName,
    SchemaName: table.schemaName,
    EntitySetName: table.entitySetName,
    LogicalCollectionName: table.entitySetName,
    ObjectTypeCode: table.objectTypeCode,
    PrimaryIdAttribute: table.primaryIdAttribute,
    PrimaryNameAttribute: table.primaryNameAttribute,
    IsIntersect: table.isIntersect,
    IsActivity: false,
    OwnershipType: table.columns.some((column) => column.logicalName === 'ownerid') ? 'UserOwned' : 'None',
    ChangeTrackingEnabled: table.changeTrackingEnabled,
    CanChangeTrackingBeEnabled: {
      Value: true,
      CanBeChanged: false,
      ManagedPropertyLogicalName: 'canchangetrackingbeenabled',
    },
    DisplayName: labelJson([{ label: table.schemaName, languageCode: ENGLISH }], `entity:${table.logicalName}`),
  };
}

export function relationshipJson(relationship: ManyToManyRelationship): JsonObject {
  return {
    '@odata.type': `#${CRM}ManyToManyRelationshipMetadata`,
    MetadataId: stableGuid(`relationship:${relationship.schemaName}`),
    SchemaName: relationship.schemaName,
    RelationshipType: 'ManyToManyRelationship',
    Entity1LogicalName: relationship.entity1LogicalName,
    Entity2LogicalName: relationship.entity2LogicalName,
    IntersectEntityName: relationship.intersectEntityName,
    Entity1IntersectAttribute: relationship.entity1IntersectAttribute,
    Entity2IntersectAttribute: relationship.entity2IntersectAttribute,
    Entity1NavigationPropertyName: relationship.schemaName,
    Entity2NavigationPropertyName: relationship.schemaName,
  };
}
