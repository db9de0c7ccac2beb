/**
 * The metadata the export reads, as the Web API serves it: `EntityDefinitions` (with `$select`, nested
 * `$expand=Attributes`, `$filter` on LogicalName, casts to derived attribute types and their option
 * sets), N:N relationships and `GlobalOptionSetDefinitions`. Shapes follow docs/reference/dataverse-protocol.md.
 */
import type { ColumnMetadata, TableMetadata } from '../../shared/dataverse/metadata';
import { globalOptionSets, sampleRelationships } from '../sample-org';
import { CRM, HttpError, notSupported, unknownProperty } from './http-error';
import {
  attributeJson,
  attributeMetadataType,
  attributeOptionSets,
  baseAttributeProperties,
  entityJson,
  entityProperties,
  optionSetJson,
  relationshipJson,
  type Json,
  type JsonObject,
} from './metadata-serializer';
import { parseExpand, parseSelect } from './odata';
import { checkQueryOptions } from './scope';
import type { OrgStore } from './store';

/** Keeps the selected properties (and those Dataverse always returns) of a metadata object. */
function project(object: JsonObject, select: string[] | undefined, allowed: Set<string>, type: string): JsonObject {
  if (select === undefined) return object;
  const result: JsonObject = {};
  if (object['@odata.type'] !== undefined) result['@odata.type'] = object['@odata.type'];
  for (const name of select) {
    if (!allowed.has(name)) throw unknownProperty(name, type);
    const value = object[name];
    if (value !== undefined) result[name] = value;
  }
  if (object.MetadataId !== undefined) result.MetadataId = object.MetadataId;
  return result;
}

export const keyOf = (segment: string, name: string): { key?: string; bare: boolean } | undefined => {
  if (segment === name) return { bare: true };
  const match = new RegExp(`^${name}\\((?:\\w+=)?'?([^')]*)'?\\)$`).exec(segment);
  return match ? { key: match[1], bare: false } : undefined;
};

const enumTypes = new Set([
  'PicklistAttributeMetadata',
  'MultiSelectPicklistAttributeMetadata',
  'StateAttributeMetadata',
  'StatusAttributeMetadata',
  'BooleanAttributeMetadata',
]);

/** A table by logical name or MetadataId. */
export function tableByKey(store: OrgStore, key: string | undefined): TableMetadata {
  const table = store.metadata().find((candidate) => candidate.logicalName === key || candidate.metadataId === key);
  if (!table) throw new HttpError(404, '0x80040217', `Could not find entity with name or id '${key}'.`);
  return table;
}

export class MetadataRoutes {
  constructor(
    private readonly baseUrl: string,
    private readonly store: OrgStore,
  ) {}

  entityDefinitions(entityKey: { key?: string; bare: boolean }, rest: string[], query: URLSearchParams): Json {
    const context = `${this.baseUrl}$metadata#EntityDefinitions`;
    if (entityKey.bare) {
      if (rest.length > 0) throw notSupported('navigation from the EntityDefinitions collection');
      checkQueryOptions(query, ['$select', '$expand', '$filter'], 'EntityDefinitions');
      const tables = this.filterTables(query.get('$filter'));
      return { '@odata.context': context, value: tables.map((table) => this.entity(table, query)) };
    }
    const table = tableByKey(this.store, entityKey.key);
    const [navigation, cast] = rest;
    if (navigation === undefined) {
      checkQueryOptions(query, ['$select', '$expand'], 'an EntityDefinitions row');
      return { '@odata.context': `${context}/$entity`, ...this.entity(table, query) };
    }
    if (navigation === 'ManyToManyRelationships') {
      if (cast !== undefined) throw notSupported(`navigation from ManyToManyRelationships ('${cast}')`);
      checkQueryOptions(query, ['$select'], 'ManyToManyRelationships');
      const relationships = sampleRelationships.filter(
        (relationship) =>
          relationship.entity1LogicalName === table.logicalName ||
          relationship.entity2LogicalName === table.logicalName,
      );
      const select = parseSelect(query.get('$select'));
      const items = relationships.map(relationshipJson);
      const allowed = new Set(items.flatMap((item) => Object.keys(item)));
      return {
        '@odata.context': `${context}('${table.logicalName}')/ManyToManyRelationships`,
        value: items.map((item) => project(item, select, allowed, 'ManyToManyRelationshipMetadata')),
      };
    }
    const attributeKey = keyOf(navigation, 'Attributes');
    if (!attributeKey) throw new HttpError(404, '0x8006088a', `Resource not found for the segment '${navigation}'.`);
    if (rest.length > 2) throw notSupported(`navigation below '${cast}'`);
    checkQueryOptions(query, ['$select', '$expand'], 'Attributes');
    const castType = cast?.startsWith(CRM) ? cast.slice(CRM.length) : undefined;
    if (cast !== undefined && castType === undefined)
      throw new HttpError(404, '0x8006088a', `Resource not found for the segment '${cast}'.`);
    const columns = table.columns.filter(
      (column) =>
        (attributeKey.bare || column.logicalName === attributeKey.key) &&
        (castType === undefined || attributeMetadataType(column) === castType),
    );
    const items = columns.map((column) =>
      this.attribute(table, column, parseSelect(query.get('$select')), parseExpand(query.get('$expand')), castType),
    );
    const contextPath = `${context}('${table.logicalName}')/Attributes${castType ? `/${CRM}${castType}` : ''}`;
    if (attributeKey.bare) return { '@odata.context': contextPath, value: items };
    const [single] = items;
    if (!single)
      throw new HttpError(
        404,
        '0x80040217',
        `Could not find attribute '${attributeKey.key}' on '${table.logicalName}'.`,
      );
    return { '@odata.context': `${contextPath}/$entity`, ...single };
  }

  private filterTables(filter: string | null): TableMetadata[] {
    const tables = this.store.metadata();
    if (filter === null) return tables;
    const clauses = filter.split(/\s+or\s+/i).map((clause) => /^LogicalName eq '([^']+)'$/.exec(clause.trim())?.[1]);
    if (clauses.some((name) => name === undefined))
      throw notSupported(`$filter=${filter} (only "LogicalName eq '…'" joined by "or")`);
    return tables.filter((table) => clauses.includes(table.logicalName));
  }

  private entity(table: TableMetadata, query: URLSearchParams): JsonObject {
    const result = project(entityJson(table), parseSelect(query.get('$select')), entityProperties, 'EntityMetadata');
    for (const expand of parseExpand(query.get('$expand'))) {
      if (expand.name !== 'Attributes') throw notSupported(`$expand=${expand.name} on EntityDefinitions`);
      if (expand.unsupported.length > 0)
        throw notSupported(`${expand.unsupported.join(', ')} inside $expand=Attributes`);
      result.Attributes = table.columns.map((column) => this.attribute(table, column, expand.select, [], undefined));
    }
    return result;
  }

  /** Without a cast segment only base properties may be selected; without `$select` all are returned. */
  private attribute(
    table: TableMetadata,
    column: ColumnMetadata,
    select: string[] | undefined,
    expand: ReturnType<typeof parseExpand>,
    castType: string | undefined,
  ): JsonObject {
    const full = attributeJson(table, column);
    const allowed =
      castType === undefined ? baseAttributeProperties : new Set([...baseAttributeProperties, ...Object.keys(full)]);
    const result = project(full, select, allowed, castType ?? 'AttributeMetadata');
    for (const item of expand) {
      if (!castType || !enumTypes.has(castType) || (item.name !== 'OptionSet' && item.name !== 'GlobalOptionSet')) {
        throw unknownProperty(item.name, castType ?? 'AttributeMetadata');
      }
      if (item.unsupported.length > 0) throw notSupported(`${item.unsupported.join(', ')} inside $expand=${item.name}`);
      const optionSet = attributeOptionSets(column)[item.name];
      result[item.name] =
        optionSet !== null && typeof optionSet === 'object' && !Array.isArray(optionSet)
          ? project(optionSet, item.select, new Set(Object.keys(optionSet)), 'OptionSetMetadata')
          : null;
    }
    return result;
  }

  globalOptionSets(name: string | undefined, query: URLSearchParams): Json {
    checkQueryOptions(query, ['$select'], 'GlobalOptionSetDefinitions');
    const select = parseSelect(query.get('$select'));
    const context = `${this.baseUrl}$metadata#GlobalOptionSetDefinitions`;
    const serialize = (optionSet: (typeof globalOptionSets)[number]): JsonObject => {
      const json: JsonObject = { '@odata.type': `#${CRM}OptionSetMetadata`, ...optionSetJson(optionSet) };
      return project(json, select, new Set(Object.keys(json)), 'OptionSetMetadata');
    };
    if (name === undefined) return { '@odata.context': context, value: globalOptionSets.map(serialize) };
    const found = globalOptionSets.find(
      (optionSet) => optionSet.name === name || optionSetJson(optionSet).MetadataId === name,
    );
    if (!found) throw new HttpError(404, '0x80040217', `Could not find optionset with name '${name}'.`);
    return { '@odata.context': `${context}/$entity`, ...serialize(found) };
  }
}
