/** zod schemas of the metadata domain types, for metadata the product stores and reads back (activation snapshots). */
import { z } from 'zod';
import { attributeTypes, type ManyToManyRelationship, type OptionSetMetadata, type TableMetadata } from './metadata';

const localizedLabel = z.object({ label: z.string(), languageCode: z.number().int() });

export const optionSetMetadataSchema: z.ZodType<OptionSetMetadata> = z.object({
  name: z.string(),
  isGlobal: z.boolean(),
  type: z.enum(['Picklist', 'State', 'Status', 'Boolean', 'MultiSelectPicklist']),
  options: z.array(
    z.object({ value: z.number().int(), labels: z.array(localizedLabel), state: z.number().int().optional() }),
  ),
});

export const tableMetadataSchema: z.ZodType<TableMetadata> = z.object({
  logicalName: z.string(),
  schemaName: z.string(),
  entitySetName: z.string(),
  metadataId: z.string(),
  objectTypeCode: z.number().int(),
  primaryIdAttribute: z.string(),
  primaryNameAttribute: z.string().nullable(),
  isIntersect: z.boolean(),
  changeTrackingEnabled: z.boolean(),
  columns: z.array(
    z.object({
      logicalName: z.string(),
      schemaName: z.string(),
      metadataId: z.string(),
      attributeType: z.enum(attributeTypes),
      attributeTypeName: z.string(),
      isPrimaryId: z.boolean(),
      isPrimaryName: z.boolean(),
      isValidForRead: z.boolean(),
      attributeOf: z.string().nullable(),
      columnNumber: z.number().int(),
      maxLength: z.number().int().optional(),
      precision: z.number().int().optional(),
      dateTimeBehavior: z.enum(['UserLocal', 'DateOnly', 'TimeZoneIndependent']).optional(),
      targets: z.array(z.string()).optional(),
      optionSet: optionSetMetadataSchema.optional(),
    }),
  ),
});

export const manyToManyRelationshipSchema: z.ZodType<ManyToManyRelationship> = z.object({
  schemaName: z.string(),
  entity1LogicalName: z.string(),
  entity2LogicalName: z.string(),
  intersectEntityName: z.string(),
  entity1IntersectAttribute: z.string(),
  entity2IntersectAttribute: z.string(),
});
