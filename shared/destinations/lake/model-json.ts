/**
 * CDM `model.json` as Synapse Link writes it (docs/reference/lake-format.md §2): root `cdm`/`1.0`, one LocalEntity per
 * table with the `Athena:*` annotations, attributes in file order with CDM data types, `maxLength` and the
 * `is.constrained` / `is.dataFormat.numeric.shaped` traits, and CSV partitions at absolute dfs locations.
 * The zod schema reads back what this module (or Synapse Link) wrote, keeping fields it does not know.
 */
import { z } from 'zod';
import { ExportError } from '../../errors';
import type { CdmDataType, LakeColumn } from './columns';
import { usDateTime } from './csv';

export type PartitionGranularity = 'Year' | 'Month';

const annotationSchema = z.looseObject({ name: z.string(), value: z.string() });
const traitSchema = z.looseObject({
  traitReference: z.string(),
  arguments: z.array(z.looseObject({ name: z.string(), value: z.union([z.string(), z.number()]) })).optional(),
});
/** Every dataType a model.json attribute may carry (columns.ts maps each Dataverse type to one). */
export const cdmDataTypes = [
  'guid',
  'string',
  'int64',
  'decimal',
  'double',
  'boolean',
  'dateTime',
  'dateTimeOffset',
] as const satisfies readonly CdmDataType[];
const attributeSchema = z.looseObject({
  name: z.string().min(1),
  dataType: z.enum(cdmDataTypes),
  maxLength: z.int(),
  'cdm:traits': z.array(traitSchema).optional(),
});
const partitionSchema = z.looseObject({
  name: z.string().min(1),
  location: z.string().min(1),
  'cdm:traits': z.array(traitSchema).optional(),
  fileFormatSettings: z.looseObject({ $type: z.string() }).optional(),
  annotations: z.array(annotationSchema).optional(),
});
const entitySchema = z.looseObject({
  $type: z.literal('LocalEntity'),
  name: z.string().min(1),
  description: z.string(),
  annotations: z.array(annotationSchema),
  attributes: z.array(attributeSchema),
  partitions: z.array(partitionSchema),
});
export const cdmModelSchema = z.looseObject({
  name: z.literal('cdm'),
  description: z.string(),
  version: z.literal('1.0'),
  entities: z.array(entitySchema),
});

export type CdmAttribute = z.infer<typeof attributeSchema>;
export type CdmPartition = z.infer<typeof partitionSchema>;
export type CdmEntity = z.infer<typeof entitySchema>;
export type CdmModel = z.infer<typeof cdmModelSchema>;

export const PARTITION_GRANULARITY = 'Athena:PartitionGranularity';
export const INITIAL_SYNC_STATE = 'Athena:InitialSyncState';
export const INITIAL_SYNC_COMPLETED_TIME = 'Athena:InitialSyncDataCompletedTime';

export const emptyModel = (): CdmModel => ({ name: 'cdm', description: 'cdm', version: '1.0', entities: [] });

export function parseModel(text: string, where: string): CdmModel {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ExportError('schema', `${where} is not JSON.`, {
      cause: error,
      where,
      fix: 'Delete the file; the next activation writes it again.',
    });
  }
  const parsed = cdmModelSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ExportError(
      'schema',
      `${where} is not a CDM model.json: ${issue?.message ?? 'unknown problem'} at ${issue?.path.join('.') ?? ''}.`,
      {
        where,
        fix: 'Delete the file; the next activation writes it again.',
      },
    );
  }
  return parsed.data;
}

export function attributeOf(column: Omit<LakeColumn, 'source'>): CdmAttribute {
  const attribute: CdmAttribute = { name: column.name, dataType: column.dataType, maxLength: column.maxLength };
  if (column.dataType === 'decimal' && column.precision !== undefined && column.scale !== undefined) {
    // Readers take precision and scale positionally from the first trait (docs/reference/lake-format.md §2).
    attribute['cdm:traits'] = [
      {
        traitReference: 'is.dataFormat.numeric.shaped',
        arguments: [
          { name: 'precision', value: column.precision },
          { name: 'scale', value: column.scale },
        ],
      },
    ];
  } else if (column.dataType === 'string' && column.maxLength > 0) {
    attribute['cdm:traits'] = [
      { traitReference: 'is.constrained', arguments: [{ name: 'maximumLength', value: column.maxLength }] },
    ];
  }
  return attribute;
}

/** The column an attribute describes (its source is decided by the table's metadata, see mergeColumns). */
export function columnOfAttribute(attribute: CdmAttribute): Omit<LakeColumn, 'source'> {
  const column: Omit<LakeColumn, 'source'> = {
    name: attribute.name,
    dataType: attribute.dataType,
    maxLength: attribute.maxLength,
  };
  const shaped = attribute['cdm:traits']?.find((trait) => trait.traitReference === 'is.dataFormat.numeric.shaped');
  const argument = (name: string): number | undefined => {
    const value = shaped?.arguments?.find((entry) => entry.name === name)?.value;
    return value === undefined ? undefined : Number(value);
  };
  const precision = argument('precision');
  const scale = argument('scale');
  if (precision !== undefined) column.precision = precision;
  if (scale !== undefined) column.scale = scale;
  return column;
}

export function partitionEntry(name: string, location: string): CdmPartition {
  return {
    name,
    location,
    'cdm:traits': [{ traitReference: 'is.partition.format.CSV', arguments: [{ name: 'raggedRight', value: 'true' }] }],
    fileFormatSettings: {
      $type: 'CsvFormatSettings',
      columnHeaders: false,
      delimiter: ',',
      quoteStyle: 'QuoteStyle.Csv',
      csvStyle: 'CsvStyle.QuoteAlways',
      encoding: 'UTF-8',
    },
    annotations: /^\d{4}/.test(name) ? [{ name: 'Athena:PartitionYear', value: name.slice(0, 4) }] : [],
  };
}

export interface EntityState {
  granularity: PartitionGranularity;
  /** When the initial sync of the table finished; absent while it runs. */
  initialSyncCompletedAt?: Date;
}

export function entityOf(
  name: string,
  columns: Array<Omit<LakeColumn, 'source'>>,
  state: EntityState,
  partitions: CdmPartition[],
): CdmEntity {
  const annotations = [
    { name: PARTITION_GRANULARITY, value: state.granularity },
    { name: INITIAL_SYNC_STATE, value: state.initialSyncCompletedAt ? 'Completed' : 'InProgress' },
    ...(state.initialSyncCompletedAt
      ? [{ name: INITIAL_SYNC_COMPLETED_TIME, value: usDateTime(state.initialSyncCompletedAt) }]
      : []),
  ];
  return {
    $type: 'LocalEntity',
    name,
    description: name,
    annotations,
    attributes: columns.map(attributeOf),
    partitions,
  };
}

/** The entity's state as its annotations record it. */
export function entityState(entity: CdmEntity): EntityState {
  const value = (name: string): string | undefined =>
    entity.annotations.find((annotation) => annotation.name === name)?.value;
  const granularity = value(PARTITION_GRANULARITY) === 'Month' ? 'Month' : 'Year';
  const completed = value(INITIAL_SYNC_STATE) === 'Completed' ? value(INITIAL_SYNC_COMPLETED_TIME) : undefined;
  const at = completed === undefined ? undefined : parseUsDateTime(completed);
  return at ? { granularity, initialSyncCompletedAt: at } : { granularity };
}

function parseUsDateTime(text: string): Date | undefined {
  const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (AM|PM)$/.exec(text);
  if (!match) return undefined;
  const [, month, day, year, hour, minute, second, half] = match;
  const hours = (Number(hour) % 12) + (half === 'PM' ? 12 : 0);
  return new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), hours, Number(minute), Number(second)));
}

export function withEntity(model: CdmModel, entity: CdmEntity): CdmModel {
  const others = model.entities.filter((candidate) => candidate.name !== entity.name);
  const index = model.entities.findIndex((candidate) => candidate.name === entity.name);
  const entities = index < 0 ? [...others, entity] : [...others.slice(0, index), entity, ...others.slice(index)];
  return { ...model, entities };
}

export const serializeModel = (model: CdmModel): string => `${JSON.stringify(model, null, 2)}\n`;
