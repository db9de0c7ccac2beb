/**
 * zod schemas for Dataverse Web API response bodies. They describe what Dataverse can return: metadata
 * properties are optional because `$select` decides which ones come back (even `MetadataId`, absent from
 * hand-written samples). The metadata reader narrows them with `.required()` to what its queries ask for.
 */
import { z } from 'zod';
import { GUID_PATTERN } from '../guid';
import { attributeTypes } from './metadata';

export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

const localizedLabelSchema = z.object({ Label: z.string(), LanguageCode: z.number().int() });

export const labelSchema = z.object({
  LocalizedLabels: z.array(localizedLabelSchema),
  UserLocalizedLabel: localizedLabelSchema.nullable().optional(),
});

export const optionSchema = z.object({
  Value: z.number().int(),
  Label: labelSchema,
  /** StatusOptionMetadata only: the statecode the status belongs to. */
  State: z.number().int().optional(),
});
export type OptionBody = z.infer<typeof optionSchema>;

export const optionSetSchema = z.object({
  MetadataId: z.string().optional(),
  Name: z.string().optional(),
  IsGlobal: z.boolean().optional(),
  OptionSetType: z.enum(['Picklist', 'State', 'Status', 'Boolean']).optional(),
  Options: z.array(optionSchema).optional(),
  /** Boolean option sets carry their two options here instead of `Options`. */
  TrueOption: optionSchema.nullable().optional(),
  FalseOption: optionSchema.nullable().optional(),
});
export type OptionSetBody = z.infer<typeof optionSetSchema>;

const managedBooleanSchema = z.object({ Value: z.boolean() });

export const attributeMetadataSchema = z.object({
  '@odata.type': z.string().optional(),
  MetadataId: z.string().optional(),
  LogicalName: z.string().optional(),
  SchemaName: z.string().optional(),
  AttributeType: z.enum(attributeTypes).optional(),
  AttributeTypeName: z.object({ Value: z.string() }).optional(),
  IsPrimaryId: z.boolean().optional(),
  IsPrimaryName: z.boolean().nullable().optional(),
  IsValidForRead: z.boolean().nullable().optional(),
  AttributeOf: z.string().nullable().optional(),
  ColumnNumber: z.number().int().optional(),
  EntityLogicalName: z.string().optional(),
  // Cast-only properties (String/Memo, Decimal/Double/Money, DateTime, Lookup, enums, image/file).
  MaxLength: z.number().int().nullable().optional(),
  Precision: z.number().int().nullable().optional(),
  DateTimeBehavior: z
    .object({ Value: z.enum(['UserLocal', 'DateOnly', 'TimeZoneIndependent']) })
    .nullable()
    .optional(),
  Targets: z.array(z.string()).nullable().optional(),
  OptionSet: optionSetSchema.nullable().optional(),
  GlobalOptionSet: optionSetSchema.nullable().optional(),
  MaxSizeInKB: z.number().int().nullable().optional(),
  IsAuditEnabled: managedBooleanSchema.optional(),
});
export type AttributeMetadataBody = z.infer<typeof attributeMetadataSchema>;

export const entityMetadataSchema = z.object({
  MetadataId: z.string().optional(),
  LogicalName: z.string().optional(),
  SchemaName: z.string().optional(),
  EntitySetName: z.string().optional(),
  ObjectTypeCode: z.number().int().optional(),
  PrimaryIdAttribute: z.string().optional(),
  PrimaryNameAttribute: z.string().nullable().optional(),
  IsIntersect: z.boolean().optional(),
  ChangeTrackingEnabled: z.boolean().optional(),
  CanChangeTrackingBeEnabled: managedBooleanSchema.optional(),
  DisplayName: labelSchema.optional(),
  Attributes: z.array(attributeMetadataSchema).optional(),
});
export type EntityMetadataBody = z.infer<typeof entityMetadataSchema>;

export const manyToManyRelationshipSchema = z.object({
  MetadataId: z.string(),
  SchemaName: z.string(),
  Entity1LogicalName: z.string(),
  Entity2LogicalName: z.string(),
  IntersectEntityName: z.string(),
  Entity1IntersectAttribute: z.string(),
  Entity2IntersectAttribute: z.string(),
});

export const collectionOf = <Item extends z.ZodType>(item: Item) => z.object({ value: z.array(item) });

/**
 * A JSON object, checked but not copied. `z.record` rebuilds every row property by property: for a page of
 * 5,000 wide rows that cost as much CPU as parsing the page, and doubled the garbage each page leaves
 * (docs/notes/benchmarks-initial-sync-memory.md). Rows are untyped until classified anyway.
 */
export const pageRowSchema = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'Expected a JSON object' },
);

/** A page of an entity set: rows and `$deletedEntity` items stay untyped records until classified. */
export const entityPageSchema = z.object({
  '@odata.context': z.string().optional(),
  '@odata.nextLink': z.string().optional(),
  '@odata.deltaLink': z.string().optional(),
  value: z.array(pageRowSchema),
});
export type EntityPageBody = z.infer<typeof entityPageSchema>;

/** Every Dataverse primary key is a uniqueidentifier; anything else in its place is not a row of this table. */
export const guidSchema = z.string().regex(GUID_PATTERN, 'expected a GUID');

/**
 * A removed row in a delta. Dataverse marks it by an item-level `@odata.context` ending in `/$deletedEntity`;
 * rows never carry an item-level context, so its presence together with `reason` is what identifies one.
 */
export const deletedEntitySchema = z.object({
  '@odata.context': z.string(),
  id: guidSchema,
  reason: z.enum(['deleted', 'changed']),
});

export const etagSchema = z.string().regex(/^W\/"\d+"$/, 'expected a weak etag W/"<versionnumber>"');

/** A single row read by id (`<set>(<id>)`): a row plus its `@odata.context`. */
export const singleRowSchema = z.record(z.string(), z.unknown());

/** The WhoAmI function's WhoAmIResponse (learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/whoamiresponse). */
export const whoAmISchema = z.object({
  BusinessUnitId: guidSchema,
  UserId: guidSchema,
  OrganizationId: guidSchema,
});
