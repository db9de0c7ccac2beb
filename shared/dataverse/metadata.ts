/**
 * Dataverse table metadata as the rest of the product sees it: the Web API client parses
 * `EntityDefinitions` responses (zod) into these types; the schema mapper, the SQL and lake
 * destinations and the emulator's sample org all speak them.
 */

/** `AttributeTypeCode` names as the Web API returns them in `AttributeType`. */
export const attributeTypes = [
  'Boolean',
  'Customer',
  'DateTime',
  'Decimal',
  'Double',
  'Integer',
  'Lookup',
  'Memo',
  'Money',
  'Owner',
  'PartyList',
  'Picklist',
  'State',
  'Status',
  'String',
  'Uniqueidentifier',
  'CalendarRules',
  'Virtual',
  'BigInt',
  'ManagedProperty',
  'EntityName',
] as const;
export type AttributeType = (typeof attributeTypes)[number];

export type DateTimeBehavior = 'UserLocal' | 'DateOnly' | 'TimeZoneIndependent';

export interface LocalizedLabel {
  label: string;
  languageCode: number;
}

export interface OptionMetadata {
  value: number;
  labels: LocalizedLabel[];
  /** Status options only: the statecode this status belongs to. */
  state?: number;
}

export type OptionSetType = 'Picklist' | 'State' | 'Status' | 'Boolean' | 'MultiSelectPicklist';

export interface OptionSetMetadata {
  name: string;
  isGlobal: boolean;
  type: OptionSetType;
  options: OptionMetadata[];
}

export interface ColumnMetadata {
  logicalName: string;
  schemaName: string;
  metadataId: string;
  attributeType: AttributeType;
  /** `AttributeTypeName.Value`, which tells Virtual columns apart: `MultiSelectPicklistType`, `ImageType`, `FileType`, … */
  attributeTypeName: string;
  isPrimaryId: boolean;
  isPrimaryName: boolean;
  isValidForRead: boolean;
  /** Set on helper columns (`<lookup>name`, `<lookup>yominame`) derived from another column. */
  attributeOf: string | null;
  /** Order of the column in the table (`ColumnNumber`); used for stable lake column order. */
  columnNumber: number;
  /** String, Memo: characters. */
  maxLength?: number;
  /** Decimal, Money, Double: digits after the decimal point. */
  precision?: number;
  /** DateTime only. */
  dateTimeBehavior?: DateTimeBehavior;
  /** Lookup, Customer, Owner: logical names of the tables the column can point at. */
  targets?: string[];
  /** Picklist, MultiSelectPicklist, State, Status, Boolean. */
  optionSet?: OptionSetMetadata;
}

export interface TableMetadata {
  logicalName: string;
  schemaName: string;
  entitySetName: string;
  metadataId: string;
  objectTypeCode: number;
  primaryIdAttribute: string;
  primaryNameAttribute: string | null;
  isIntersect: boolean;
  changeTrackingEnabled: boolean;
  columns: ColumnMetadata[];
}

export interface ManyToManyRelationship {
  schemaName: string;
  entity1LogicalName: string;
  entity2LogicalName: string;
  intersectEntityName: string;
  entity1IntersectAttribute: string;
  entity2IntersectAttribute: string;
}
