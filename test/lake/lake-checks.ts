/**
 * What the real Synapse Link readers require of model.json and the CSV files (docs/reference/lake-format.md §2, §3, §5),
 * as checks that return the problems they find. The same checks run on the real Synapse Link fixtures and
 * on our output: a check that rejects a fixture is wrong.
 */
import { parse } from 'csv-parse/sync';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const arrayOf = (value: unknown): unknown[] | undefined => (Array.isArray(value) ? value : undefined);

/** dataType values the CDM SDK's model.json persistence knows (anything else becomes Unknown). */
const knownDataTypes = new Set([
  'guid',
  'string',
  'int64',
  'decimal',
  'double',
  'boolean',
  'dateTime',
  'dateTimeOffset',
  'json',
]);

export interface ModelCheckOptions {
  /** `https://<account>.dfs.core.windows.net/<container>`: partition locations must resolve inside it (CDM ADLS adapter). */
  containerRoot?: string;
  /** DV2SQL skips entities whose initial sync is not `Completed`. */
  requireCompleted?: boolean;
}

export function modelProblems(text: string, options: ModelCheckOptions = {}): string[] {
  const problems: string[] = [];
  // FT's serverless script reads model.json as one value with 0x0B as field and row terminator.
  if (text.includes('\u000b')) problems.push('FT: model.json contains 0x0B');
  let model: unknown;
  try {
    model = JSON.parse(text);
  } catch {
    return [...problems, 'model.json is not JSON'];
  }
  if (!isObject(model)) return [...problems, 'model.json is not an object'];
  // DV2SQL CdmManifest: throws unless name cdm / version 1.0. ARC SimpleCdmModel: name, description, version, entities.
  if (model.name !== 'cdm' || model.version !== '1.0') problems.push('DV2SQL: name must be "cdm" and version "1.0"');
  if (typeof model.description !== 'string') problems.push('ARC: root description missing');
  const entities = arrayOf(model.entities);
  if (!entities) return [...problems, 'ARC: entities missing'];
  for (const entity of entities) {
    if (!isObject(entity)) {
      problems.push('entity is not an object');
      continue;
    }
    const name = String(entity.name);
    if (entity.$type !== 'LocalEntity') problems.push(`${name}: $type must be LocalEntity`);
    if (typeof entity.name !== 'string' || typeof entity.description !== 'string')
      problems.push(`${name}: ARC needs name and description`);
    const annotations = arrayOf(entity.annotations);
    if (!annotations) problems.push(`${name}: DV2SQL casts annotations without a null check`);
    const annotation = (key: string): unknown => annotations?.find((entry) => isObject(entry) && entry.name === key);
    const granularity = annotation('Athena:PartitionGranularity');
    if (!isObject(granularity) || !['Year', 'Month'].includes(String(granularity.value)))
      problems.push(`${name}: Athena:PartitionGranularity must be Year or Month`);
    const state = annotation('Athena:InitialSyncState');
    if (options.requireCompleted && (!isObject(state) || state.value !== 'Completed'))
      problems.push(`${name}: DV2SQL skips entities whose InitialSyncState is not Completed`);
    const attributes = arrayOf(entity.attributes);
    if (!attributes) {
      problems.push(`${name}: attributes missing`);
      continue;
    }
    if (!attributes.some((attribute) => isObject(attribute) && String(attribute.name).toLowerCase() === 'id'))
      problems.push(`${name}: DV2SQL needs an Id attribute`);
    for (const attribute of attributes) {
      if (!isObject(attribute)) continue;
      const where = `${name}.${String(attribute.name)}`;
      if (typeof attribute.name !== 'string' || typeof attribute.dataType !== 'string')
        problems.push(`${where}: ARC needs name and dataType`);
      if (!knownDataTypes.has(String(attribute.dataType)))
        problems.push(`${where}: unknown dataType ${String(attribute.dataType)}`);
      if (!Number.isInteger(attribute.maxLength)) problems.push(`${where}: maxLength must be an integer`);
      const traits = arrayOf(attribute['cdm:traits']);
      const first = traits?.[0];
      if (attribute.dataType === 'decimal') {
        // DV2SQL throws without it; CDMUtil and FT read arguments[0] and [1] of the first trait.
        const args = isObject(first) ? arrayOf(first.arguments) : undefined;
        const ok =
          isObject(first) &&
          first.traitReference === 'is.dataFormat.numeric.shaped' &&
          isObject(args?.[0]) &&
          args[0].name === 'precision' &&
          Number.isInteger(Number(args[0].value)) &&
          isObject(args?.[1]) &&
          args[1].name === 'scale' &&
          Number.isInteger(Number(args[1].value));
        if (!ok)
          problems.push(`${where}: decimal needs is.dataFormat.numeric.shaped(precision, scale) as its first trait`);
      }
      if (attribute.dataType === 'string' && Number(attribute.maxLength) > 0) {
        // CDMUtil takes the SQL length from is.constrained, not from maxLength.
        const constrained = traits?.find((trait) => isObject(trait) && trait.traitReference === 'is.constrained');
        const value = isObject(constrained)
          ? arrayOf(constrained.arguments)?.find((arg) => isObject(arg) && arg.name === 'maximumLength')
          : undefined;
        if (!isObject(value) || Number(value.value) !== attribute.maxLength)
          problems.push(`${where}: string needs is.constrained(maximumLength = maxLength)`);
      }
    }
    const partitions = arrayOf(entity.partitions);
    if (!partitions) {
      problems.push(`${name}: partitions must be an array ([] when empty)`);
      continue;
    }
    const folders = new Set<string>();
    for (const partition of partitions) {
      if (!isObject(partition)) continue;
      const location = String(partition.location);
      const where = `${name} partition ${String(partition.name)}`;
      const match = /^https:\/\/([a-z0-9]+)\.(dfs|blob)\.core\.windows\.net(:443)?\/([^/]+)\/(.+\.csv)$/.exec(location);
      if (!match) problems.push(`${where}: location must be an absolute https dfs/blob URL of a .csv`);
      else {
        const normalised = `https://${match[1]}.dfs.core.windows.net/${match[4]}`;
        if (options.containerRoot && normalised !== options.containerRoot)
          problems.push(`${where}: location is outside ${options.containerRoot}`);
        folders.add(location.slice(0, location.lastIndexOf('/')));
        // ARAS reads <folder>/<table>/<partition name>.csv.
        if (!location.endsWith(`/${String(partition.name)}.csv`))
          problems.push(`${where}: name must be the file's base name`);
      }
      const settings = partition.fileFormatSettings;
      const csvSettings =
        isObject(settings) &&
        settings.$type === 'CsvFormatSettings' &&
        settings.columnHeaders === false &&
        settings.delimiter === ',';
      if (!csvSettings)
        problems.push(`${where}: fileFormatSettings must be CsvFormatSettings without headers, delimiter ","`);
    }
    // CDMUtil globs the first partition's folder, so every partition must live there.
    if (folders.size > 1)
      problems.push(`${name}: partitions are in ${folders.size} folders; CDMUtil reads only the first one's`);
  }
  return problems;
}

export interface CsvAttribute {
  name: string;
  dataType: string;
}

const SINK_TIME = /^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d{2}:\d{2} (AM|PM)$/;
/** The ISO forms DV2SQL's parser list and Spark's CDM connector accept. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})?$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const quotedTypes = new Set(['string', 'dateTime', 'dateTimeOffset']);

export interface ParsedField {
  value: string;
  quoted: boolean;
}

/** Spark-style CSV read (header off, multiline, escape `"`), keeping whether each field was quoted. */
export function parseCsv(text: string): ParsedField[][] {
  return parse(text, {
    relax_column_count: true,
    cast: (value, context) => JSON.stringify({ value, quoted: context.quoting }),
  }).map((record) => record.map((field) => JSON.parse(field) as ParsedField));
}

/**
 * Field count = attribute count (Spark CDM FAILFAST, ARC), quoting by type, and values each reader can parse.
 * `ragged`: rows written before later columns were appended may be shorter (raggedRight).
 */
export function csvProblems(text: string, attributes: CsvAttribute[], options: { ragged?: boolean } = {}): string[] {
  const problems: string[] = [];
  if (text.includes('\r')) problems.push('CR in file: ARC strips \\r only inside its multiline repair');
  if (text.length > 0 && !text.endsWith('\n')) problems.push('the last record is not terminated');
  parseCsv(text).forEach((record, row) => {
    if (record.length !== attributes.length && !(options.ragged && record.length < attributes.length)) {
      problems.push(`row ${row}: ${record.length} fields for ${attributes.length} attributes`);
    }
    record.forEach((field, index) => {
      const attribute = attributes[index];
      if (!attribute) return;
      const where = `row ${row} ${attribute.name}`;
      if (field.value === '') {
        if (field.quoted && attribute.dataType !== 'string')
          problems.push(`${where}: an empty ${attribute.dataType} must be unquoted`);
        return;
      }
      if (field.quoted !== quotedTypes.has(attribute.dataType))
        problems.push(`${where}: ${attribute.dataType} ${field.quoted ? 'quoted' : 'unquoted'}`);
      const value = field.value;
      const sink = attribute.name === 'SinkCreatedOn' || attribute.name === 'SinkModifiedOn';
      const ok = ((): boolean => {
        switch (attribute.dataType) {
          case 'guid':
            return GUID.test(value);
          case 'int64':
            return /^-?\d+$/.test(value);
          case 'decimal':
          case 'double':
            return /^-?\d+(\.\d+)?$/.test(value);
          case 'boolean':
            return value === 'True' || value === 'False';
          case 'dateTime':
            return sink ? SINK_TIME.test(value) : ISO_TIME.test(value);
          case 'dateTimeOffset':
            return ISO_TIME.test(value);
          default:
            return true;
        }
      })();
      if (!ok) problems.push(`${where}: '${value}' is not a readable ${attribute.dataType}`);
    });
  });
  return problems;
}
