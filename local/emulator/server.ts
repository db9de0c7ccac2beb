/**
 * A Dataverse Web API emulator over node:http: the subset the export reads (EntityDefinitions with casts
 * and option sets, GlobalOptionSetDefinitions, N:N relationships, change-tracked entity-set paging and
 * deltas, rows by id) and the writes tests use to change data (POST/PATCH/DELETE on entity sets, N:N
 * associate and disassociate through `$ref`).
 * Behaviour follows ../shared/docs/dataverse-protocol.md; where Dataverse is undocumented the choice is
 * marked there as [inferred] and repeated in docs/notes/dataverse.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_PAGE_SIZE } from '../../shared/dataverse/client';
import type { ColumnMetadata, TableMetadata } from '../../shared/dataverse/metadata';
import { isLookupColumn, webApiPropertyName } from '../../shared/dataverse/properties';
import { sampleRelationships, globalOptionSets, toWebApiRow, type SampleRow, type SampleValue } from '../sample-org';
import { FaultInjector, type FaultSettings } from './faults';
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
import { encodeSkipToken, encodeToken, formatToken, parseExpand, parsePrefer, parseSelect, parseSkipToken, parseToken } from './odata';
import { OrgStore, WriteConflict, storeSnapshotSchema, type StoredRow } from './store';

const DAY_MS = 86_400_000;
const CRM = 'Microsoft.Dynamics.CRM.';

export interface EmulatorOptions {
  port?: number;
  seed?: number;
  accounts?: number;
  /** Generated contacts; 1.5 per account when absent. */
  contacts?: number;
  /** The only bearer token accepted; any token when absent. */
  token?: string;
  faults?: FaultSettings;
  /** `ExpireChangeTrackingInDays`: tokens older than this fail with ExpiredVersionStamp. */
  changeTrackingRetentionDays?: number;
  now?: () => number;
  /** A JSON file holding the writes: loaded at start when it exists, rewritten after every write. */
  statePath?: string;
  /** Told of every committed write, as it commits: the delta-latency benchmark's source clock. */
  onWrite?: (write: SourceWrite) => void;
  /** Told when a delta read starts (its first page): it covers every change up to `upToVersion`. */
  onDeltaRead?: (read: { table: string; upToVersion: number }) => void;
}

/** One committed change: `version` is the row's new versionnumber (for a delete, its tombstone's). */
export interface SourceWrite {
  table: string;
  id: string;
  kind: 'upsert' | 'delete';
  version: number;
}

export interface EmulatorStats {
  requests: number;
  throttled: number;
  unavailable: number;
  /** Most requests in progress at once, as Dataverse's concurrency limit counts them. */
  maxConcurrent: number;
}

/** Dataverse's service protection limit on concurrent requests per user. */
const CONCURRENCY_LIMIT = 52;

export interface Emulator {
  /** `http://127.0.0.1:<port>/api/data/v9.2/` */
  baseUrl: string;
  store: OrgStore;
  faults: FaultInjector;
  stats: EmulatorStats;
  close(): Promise<void>;
}

/** A failure answered with a Dataverse error body. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const notSupported = (what: string): HttpError => new HttpError(501, '0x80040203', `The emulator does not implement ${what}`);
const unknownProperty = (name: string, type: string): HttpError =>
  new HttpError(400, '0x80060888', `Could not find a property named '${name}' on type '${CRM}${type}'.`);

function send(response: ServerResponse, status: number, body: Json | undefined, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  response.writeHead(status, {
    'OData-Version': '4.0',
    ...(body === undefined ? {} : { 'Content-Type': 'application/json; odata.metadata=minimal' }),
    ...headers,
  });
  response.end(text);
}

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

const keyOf = (segment: string, name: string): { key?: string; bare: boolean } | undefined => {
  if (segment === name) return { bare: true };
  const match = new RegExp(`^${name}\\((?:\\w+=)?'?([^')]*)'?\\)$`).exec(segment);
  return match ? { key: match[1], bare: false } : undefined;
};

const enumTypes = new Set(['PicklistAttributeMetadata', 'MultiSelectPicklistAttributeMetadata', 'StateAttributeMetadata', 'StatusAttributeMetadata', 'BooleanAttributeMetadata']);

class EmulatorHandler {
  constructor(
    private readonly baseUrl: string,
    private readonly store: OrgStore,
    private readonly faults: FaultInjector,
    private readonly stats: EmulatorStats,
    private readonly token: string | undefined,
    private readonly retentionMs: number,
    private readonly persist: () => void,
    private readonly observers: Pick<EmulatorOptions, 'onWrite' | 'onDeltaRead'>,
  ) {}

  /** Right after a write, before anything else can write: the store's current version is this write's. */
  private committed(table: TableMetadata, id: string, kind: SourceWrite['kind']): void {
    this.persist();
    this.observers.onWrite?.({ table: table.logicalName, id, kind, version: this.store.currentVersion });
  }

  private inFlight = 0;

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.stats.requests++;
    this.inFlight++;
    this.stats.maxConcurrent = Math.max(this.stats.maxConcurrent, this.inFlight);
    response.once('close', () => this.inFlight--);
    try {
      const authorization = request.headers.authorization ?? '';
      const bearer = /^Bearer (.+)$/i.exec(authorization)?.[1];
      if (bearer === undefined || (this.token !== undefined && bearer !== this.token)) {
        send(response, 401, undefined, {
          'WWW-Authenticate': `Bearer authorization_uri=https://login.microsoftonline.com/common/oauth2/authorize, resource_id=${new URL(this.baseUrl).origin}/`,
        });
        return;
      }
      const faults = this.faults.settings;
      if (faults.forbidden) throw new HttpError(403, '0x80072560', 'The user is not a member of the organization.');
      if (faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
      if (this.inFlight > CONCURRENCY_LIMIT) {
        this.stats.throttled++;
        throw new HttpError(429, '0x80072326', `Number of concurrent requests exceeded the limit of ${CONCURRENCY_LIMIT}.`, { 'Retry-After': '1' });
      }
      const failure = this.faults.nextFailure();
      if (failure === 'throttle') {
        this.stats.throttled++;
        throw new HttpError(429, '0x80072322', 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.', {
          'Retry-After': String(faults.retryAfterSeconds),
        });
      }
      if (failure === 'unavailable') {
        this.stats.unavailable++;
        throw new HttpError(503, '0x80040216', 'The service is temporarily unavailable.');
      }
      await this.route(request, response);
    } catch (error) {
      if (error instanceof HttpError) send(response, error.status, { error: { code: error.code, message: error.message } }, error.headers);
      else send(response, 500, { error: { code: '0x80040216', message: `Emulator failure: ${String(error)}` } });
    }
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.baseUrl);
    const match = /^\/api\/data\/v9\.\d\/(.*)$/.exec(url.pathname);
    if (!match) throw new HttpError(404, '0x8006088a', `Resource not found for the segment '${url.pathname}'.`);
    const segments = (match[1] ?? '').split('/').map(decodeURIComponent);
    const first = segments[0] ?? '';
    const method = request.method ?? 'GET';
    const query = url.searchParams;

    const entityKey = keyOf(first, 'EntityDefinitions');
    if (entityKey && method === 'GET') return send(response, 200, this.entityDefinitions(entityKey, segments.slice(1), query));
    const optionSetKey = keyOf(first, 'GlobalOptionSetDefinitions');
    if (optionSetKey && method === 'GET') return send(response, 200, this.globalOptionSets(optionSetKey.key));

    const setMatch = /^([A-Za-z_]\w*)(?:\(([0-9a-fA-F-]{36})\))?$/.exec(first);
    const table = setMatch ? this.store.tableBySet(setMatch[1] ?? '') : undefined;
    if (!setMatch || !table) throw new HttpError(404, '0x8006088a', `Resource not found for the segment '${first}'.`);
    const id = setMatch[2]?.toLowerCase();
    if (segments.length > 1) {
      if (id === undefined || segments.at(-1) !== '$ref' || segments.length !== 3) throw new HttpError(404, '0x8006088a', `Resource not found for the segment '${segments[1]}'.`);
      return this.reference(request, response, table, id, segments[1] ?? '', query);
    }
    if (method === 'GET' && id === undefined) return this.entitySet(request, response, table, query);
    if (method === 'GET' && id !== undefined) return this.singleRow(request, response, table, id, query);
    if (method === 'POST' && id === undefined) return this.create(request, response, table);
    if (method === 'PATCH' && id !== undefined) return this.upsert(request, response, table, id);
    if (method === 'DELETE' && id !== undefined) {
      if (!this.store.delete(table.logicalName, id)) throw this.rowNotFound(table, id);
      this.committed(table, id, 'delete');
      return send(response, 204, undefined);
    }
    throw new HttpError(405, '0x80060888', `${method} is not supported on '${first}'.`);
  }

  // ---- N:N associations (`<set>(<id>)/<relationship>/$ref`) ----

  /**
   * Associate (POST `…/<relationship>/$ref` with `{"@odata.id": "<set>(<id>)"}`) and disassociate (DELETE
   * `…/<relationship>(<id>)/$ref` or `…/<relationship>/$ref?$id=<uri>`) through an N:N relationship's
   * collection-valued navigation property, named after the relationship as Dataverse names it. Each
   * association is a row of the intersect table, so it shows in that table's change tracking.
   */
  private async reference(request: IncomingMessage, response: ServerResponse, table: TableMetadata, id: string, navigation: string, query: URLSearchParams): Promise<void> {
    const navigationMatch = /^(\w+)(?:\(([0-9a-fA-F-]{36})\))?$/.exec(navigation);
    const relationship = sampleRelationships.find(
      (candidate) => candidate.schemaName === navigationMatch?.[1] && (candidate.entity1LogicalName === table.logicalName || candidate.entity2LogicalName === table.logicalName),
    );
    if (!navigationMatch || !relationship) throw unknownProperty(navigation, table.logicalName);
    if (!this.store.get(table.logicalName, id)) throw this.rowNotFound(table, id);
    const otherLogicalName = relationship.entity1LogicalName === table.logicalName ? relationship.entity2LogicalName : relationship.entity1LogicalName;
    const otherTable = this.table(otherLogicalName);
    const pair = (otherId: string) =>
      relationship.entity1LogicalName === table.logicalName ? { entity1Id: id, entity2Id: otherId } : { entity1Id: otherId, entity2Id: id };
    const method = request.method ?? 'GET';
    if (method === 'POST' && navigationMatch[2] === undefined) {
      const otherId = this.referencedId(otherTable, await readBody(request));
      if (!this.store.get(otherLogicalName, otherId)) throw this.rowNotFound(otherTable, otherId);
      if (!this.store.associate(relationship, pair(otherId))) throw new HttpError(400, '0x80040237', 'Cannot insert duplicate key.');
      this.persist();
      return send(response, 204, undefined);
    }
    if (method === 'DELETE') {
      const otherId = navigationMatch[2]?.toLowerCase() ?? this.referencedId(otherTable, { '@odata.id': query.get('$id') });
      // Dataverse answers a disassociate of rows that are not associated with success [inferred].
      if (this.store.disassociate(relationship, pair(otherId))) this.persist();
      return send(response, 204, undefined);
    }
    throw new HttpError(405, '0x80060888', `${method} is not supported on '${navigation}/$ref'.`);
  }

  /** The id in `{"@odata.id": "[<base>]<set>(<id>)"}`, which must point at a row of `table`. */
  private referencedId(table: TableMetadata, body: unknown): string {
    const reference = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['@odata.id'] : undefined;
    const path = typeof reference === 'string' ? (reference.startsWith(this.baseUrl) ? reference.slice(this.baseUrl.length) : reference) : '';
    const match = /^\/?(\w+)\(([0-9a-fA-F-]{36})\)$/.exec(path);
    if (!match || match[1] !== table.entitySetName) {
      throw new HttpError(400, '0x80040203', `'@odata.id' must be the URI of a ${table.logicalName} row (${table.entitySetName}(<id>)), not '${String(reference)}'.`);
    }
    return (match[2] ?? '').toLowerCase();
  }

  // ---- metadata ----

  private table(key: string | undefined): TableMetadata {
    const table = this.store.metadata().find((candidate) => candidate.logicalName === key || candidate.metadataId === key);
    if (!table) throw new HttpError(404, '0x80040217', `Could not find entity with name or id '${key}'.`);
    return table;
  }

  private entityDefinitions(entityKey: { key?: string; bare: boolean }, rest: string[], query: URLSearchParams): Json {
    const context = `${this.baseUrl}$metadata#EntityDefinitions`;
    if (entityKey.bare) {
      if (rest.length > 0) throw notSupported('navigation from the EntityDefinitions collection');
      const tables = this.filterTables(query.get('$filter'));
      return { '@odata.context': context, value: tables.map((table) => this.entity(table, query)) };
    }
    const table = this.table(entityKey.key);
    const [navigation, cast] = rest;
    if (navigation === undefined) return { '@odata.context': `${context}/$entity`, ...this.entity(table, query) };
    if (navigation === 'ManyToManyRelationships') {
      const relationships = sampleRelationships.filter(
        (relationship) => relationship.entity1LogicalName === table.logicalName || relationship.entity2LogicalName === table.logicalName,
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
    const castType = cast?.startsWith(CRM) ? cast.slice(CRM.length) : undefined;
    if (cast !== undefined && castType === undefined) throw new HttpError(404, '0x8006088a', `Resource not found for the segment '${cast}'.`);
    const columns = table.columns.filter(
      (column) => (attributeKey.bare || column.logicalName === attributeKey.key) && (castType === undefined || attributeMetadataType(column) === castType),
    );
    const items = columns.map((column) =>
      this.attribute(table, column, parseSelect(query.get('$select')), parseExpand(query.get('$expand')), castType),
    );
    const contextPath = `${context}('${table.logicalName}')/Attributes${castType ? `/${CRM}${castType}` : ''}`;
    if (attributeKey.bare) return { '@odata.context': contextPath, value: items };
    const [single] = items;
    if (!single) throw new HttpError(404, '0x80040217', `Could not find attribute '${attributeKey.key}' on '${table.logicalName}'.`);
    return { '@odata.context': `${contextPath}/$entity`, ...single };
  }

  private filterTables(filter: string | null): TableMetadata[] {
    const tables = this.store.metadata();
    if (filter === null) return tables;
    const clauses = filter.split(/\s+or\s+/i).map((clause) => /^LogicalName eq '([^']+)'$/.exec(clause.trim())?.[1]);
    if (clauses.some((name) => name === undefined)) throw notSupported(`$filter=${filter} (only "LogicalName eq '…'" joined by "or")`);
    return tables.filter((table) => clauses.includes(table.logicalName));
  }

  private entity(table: TableMetadata, query: URLSearchParams): JsonObject {
    const result = project(entityJson(table), parseSelect(query.get('$select')), entityProperties, 'EntityMetadata');
    for (const expand of parseExpand(query.get('$expand'))) {
      if (expand.name !== 'Attributes') throw notSupported(`$expand=${expand.name} on EntityDefinitions`);
      if (expand.unsupported.length > 0) throw notSupported(`${expand.unsupported.join(', ')} inside $expand=Attributes`);
      result.Attributes = table.columns.map((column) => this.attribute(table, column, expand.select, [], undefined));
    }
    return result;
  }

  /** Without a cast segment only base properties may be selected; without `$select` all are returned. */
  private attribute(table: TableMetadata, column: ColumnMetadata, select: string[] | undefined, expand: ReturnType<typeof parseExpand>, castType: string | undefined): JsonObject {
    const full = attributeJson(table, column);
    const allowed = castType === undefined ? baseAttributeProperties : new Set([...baseAttributeProperties, ...Object.keys(full)]);
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

  private globalOptionSets(name: string | undefined): Json {
    const context = `${this.baseUrl}$metadata#GlobalOptionSetDefinitions`;
    const serialize = (optionSet: (typeof globalOptionSets)[number]): JsonObject => ({ '@odata.type': `#${CRM}OptionSetMetadata`, ...optionSetJson(optionSet) });
    if (name === undefined) return { '@odata.context': context, value: globalOptionSets.map(serialize) };
    const found = globalOptionSets.find((optionSet) => optionSet.name === name || optionSetJson(optionSet).MetadataId === name);
    if (!found) throw new HttpError(404, '0x80040217', `Could not find optionset with name '${name}'.`);
    return { '@odata.context': `${context}/$entity`, ...serialize(found) };
  }

  // ---- rows ----

  /** `$select` (Web API property names) → logical column names; money columns bring their currency along. */
  private selection(table: TableMetadata, select: string[] | undefined): Set<string> | undefined {
    if (select === undefined) return undefined;
    const byProperty = new Map(table.columns.map((column) => [webApiPropertyName(column), column]));
    const names = new Set<string>();
    for (const property of select) {
      const column = byProperty.get(property);
      if (!column || column.attributeOf !== null) throw unknownProperty(property, table.logicalName);
      names.add(column.logicalName);
      if (column.attributeType === 'Money' && byProperty.has('_transactioncurrencyid_value')) names.add('transactioncurrencyid');
    }
    return names;
  }

  private rowJson(table: TableMetadata, stored: StoredRow, select: Set<string> | undefined, annotations: boolean): JsonObject {
    return toWebApiRow(table, stored.row, { versionNumber: stored.version, select, annotations }) as JsonObject;
  }

  private entitySet(request: IncomingMessage, response: ServerResponse, table: TableMetadata, query: URLSearchParams): void {
    const prefer = parsePrefer(request.headers.prefer);
    const deltaToken = query.get('$deltatoken');
    const tracking = table.changeTrackingEnabled && (prefer.trackChanges || deltaToken !== null);
    for (const option of ['$filter', '$orderby', '$expand', '$top']) {
      if (!query.has(option)) continue;
      if (tracking) throw new HttpError(400, '0x80060888', `The "${option}" query parameter isn't supported when Change Tracking is enabled.`);
      throw notSupported(`${option} on entity sets`);
    }
    const selectText = query.get('$select');
    const select = this.selection(table, parseSelect(selectText));
    const annotations = prefer.annotations !== undefined;
    const pageSize = Math.min(prefer.maxPageSize ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
    const skipToken = query.get('$skiptoken');
    const cookie = skipToken === null ? undefined : parseSkipToken(skipToken);
    if (skipToken !== null && !cookie) throw new HttpError(400, '0x80040203', 'The $skiptoken value is not a valid paging cookie.');
    const applied = [...(tracking ? ['odata.track-changes'] : []), ...(prefer.maxPageSize ? [`odata.maxpagesize=${pageSize}`] : []), ...(annotations ? [`odata.include-annotations=${prefer.annotations}`] : [])];
    const headers: Record<string, string> = applied.length > 0 ? { 'Preference-Applied': applied.join(',') } : {};
    const selectPart = selectText === null ? '' : `$select=${selectText}&`;
    const setUrl = `${this.baseUrl}${table.entitySetName}?${selectPart}`;
    const versionStamp = cookie?.versionStamp ?? this.store.currentVersion;
    const deltaLink = (): string => `${setUrl}$deltatoken=${encodeToken(formatToken(versionStamp, this.store.now()))}`;
    const contextBase = `${this.baseUrl}$metadata#${table.entitySetName}${selectText === null ? '' : `(${selectText})`}`;
    const pageNumber = (cookie?.pageNumber ?? 1) + 1;

    if (deltaToken !== null) {
      const token = parseToken(deltaToken);
      if (!token) throw new HttpError(400, '0x80040203', `Invalid $deltatoken '${deltaToken}'.`);
      if (this.faults.settings.expiredTokens || this.store.now() - token.issuedAt > this.retentionMs) {
        throw new HttpError(400, '0x80044352', 'Version stamp associated with the client has expired. Please perform a full sync.');
      }
      if (!cookie) this.observers.onDeltaRead?.({ table: table.logicalName, upToVersion: versionStamp });
      const { items, more } = this.store.changes(table.logicalName, token.version, versionStamp, cookie?.position ?? 0, pageSize);
      const value: Json[] = items.map((item) =>
        item.kind === 'upsert'
          ? this.rowJson(table, item.stored, select, annotations)
          : { '@odata.context': `${this.baseUrl}$metadata#${table.entitySetName}/$deletedEntity`, id: item.id, reason: 'deleted' },
      );
      const body: JsonObject = { '@odata.context': `${contextBase}/$delta`, value };
      const last = items.at(-1);
      if (more && last) {
        const lastId = last.kind === 'upsert' ? last.stored.id : last.id;
        const firstItem = items[0] ?? last;
        const firstId = firstItem.kind === 'upsert' ? firstItem.stored.id : firstItem.id;
        const position = last.kind === 'upsert' ? last.stored.version : last.version;
        const skip = encodeSkipToken({ pageNumber, versionStamp, position, tracking: true }, table.primaryIdAttribute, firstId, lastId);
        body['@odata.nextLink'] = `${setUrl}$deltatoken=${encodeToken(deltaToken)}&$skiptoken=${skip}`;
      } else {
        body['@odata.deltaLink'] = deltaLink();
      }
      return send(response, 200, body, headers);
    }

    const { rows, more } = this.store.page(table.logicalName, cookie?.position ?? -1, pageSize);
    const body: JsonObject = { '@odata.context': contextBase, value: rows.map((stored) => this.rowJson(table, stored, select, annotations)) };
    const first = rows[0];
    const last = rows.at(-1);
    if (more && first && last) {
      const skip = encodeSkipToken({ pageNumber, versionStamp, position: last.slot, tracking }, table.primaryIdAttribute, first.id, last.id);
      body['@odata.nextLink'] = `${setUrl}$skiptoken=${skip}`;
    } else if (tracking) {
      body['@odata.deltaLink'] = deltaLink();
    }
    send(response, 200, body, headers);
  }

  private rowNotFound(table: TableMetadata, id: string): HttpError {
    return new HttpError(404, '0x80040217', `Entity '${table.logicalName}' With Id = ${id} Does Not Exist`);
  }

  private singleRow(request: IncomingMessage, response: ServerResponse, table: TableMetadata, id: string, query: URLSearchParams): void {
    const stored = this.store.get(table.logicalName, id);
    if (!stored) throw this.rowNotFound(table, id);
    const selectText = query.get('$select');
    const annotations = parsePrefer(request.headers.prefer).annotations !== undefined;
    const row = this.rowJson(table, stored, this.selection(table, parseSelect(selectText)), annotations);
    const context = `${this.baseUrl}$metadata#${table.entitySetName}${selectText === null ? '' : `(${selectText})`}/$entity`;
    send(response, 200, { '@odata.context': context, ...row });
  }

  private async create(request: IncomingMessage, response: ServerResponse, table: TableMetadata): Promise<void> {
    const values = this.fromWebApi(table, await readBody(request));
    const id = values[table.primaryIdAttribute];
    delete values[table.primaryIdAttribute];
    try {
      const stored = this.store.create(table.logicalName, values, typeof id === 'string' ? id : undefined);
      this.committed(table, stored.id, 'upsert');
      this.written(request, response, table, stored, 204);
    } catch (error) {
      if (error instanceof WriteConflict) throw new HttpError(412, '0x80040237', error.message);
      throw error;
    }
  }

  /** PATCH is an upsert in the Web API: it creates the row when the id does not exist. */
  private async upsert(request: IncomingMessage, response: ServerResponse, table: TableMetadata, id: string): Promise<void> {
    const values = this.fromWebApi(table, await readBody(request));
    delete values[table.primaryIdAttribute];
    const stored = this.store.update(table.logicalName, id, values) ?? this.store.create(table.logicalName, values, id);
    this.committed(table, stored.id, 'upsert');
    this.written(request, response, table, stored, 204);
  }

  private written(request: IncomingMessage, response: ServerResponse, table: TableMetadata, stored: StoredRow, status: number): void {
    const headers = { 'OData-EntityId': `${this.baseUrl}${table.entitySetName}(${stored.id})` };
    if (/return=representation/.test(String(request.headers.prefer ?? ''))) {
      send(response, status === 204 ? 201 : status, this.rowJson(table, stored, undefined, false), headers);
    } else {
      send(response, status, undefined, headers);
    }
  }

  /** A Web API request body → logical values: plain properties and `<lookup>[_<target>]@odata.bind`. */
  private fromWebApi(table: TableMetadata, body: unknown): SampleRow {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, '0x80040203', 'The request body must be a JSON object.');
    const values: SampleRow = {};
    for (const [property, value] of Object.entries(body)) {
      if (property.endsWith('@odata.bind')) {
        const navigation = property.slice(0, -'@odata.bind'.length);
        const column = table.columns.find(
          (candidate) => isLookupColumn(candidate) && (candidate.logicalName === navigation || navigation.startsWith(`${candidate.logicalName}_`)),
        );
        const target = typeof value === 'string' ? /^\/?(\w+)\(([0-9a-fA-F-]{36})\)$/.exec(value) : null;
        if (!column || !target) throw unknownProperty(navigation, table.logicalName);
        const targetTable = this.store.tableBySet(target[1] ?? '');
        const logicalName = targetTable?.logicalName ?? column.targets?.find((name) => (target[1] ?? '').startsWith(name));
        if (!logicalName) throw new HttpError(400, '0x80040203', `'${value}' is not a valid target of ${column.logicalName}.`);
        values[column.logicalName] = { id: (target[2] ?? '').toLowerCase(), logicalName };
        continue;
      }
      if (property.includes('@')) continue;
      const column = table.columns.find((candidate) => candidate.logicalName === property);
      if (!column || isLookupColumn(column) || column.attributeOf !== null) throw unknownProperty(property, table.logicalName);
      if (value !== null && typeof value === 'object') throw new HttpError(400, '0x80040203', `Property '${property}' must be a primitive value.`);
      values[property] = value as SampleValue;
    }
    return values;
  }
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text === '' ? {} : JSON.parse(text);
  } catch {
    throw new HttpError(400, '0x80040203', 'The request body is not valid JSON.');
  }
}

function openStore(options: EmulatorOptions): OrgStore {
  const fresh = new OrgStore({ seed: options.seed, accounts: options.accounts, contacts: options.contacts, now: options.now });
  if (options.statePath === undefined || !existsSync(options.statePath)) return fresh;
  const snapshot = storeSnapshotSchema.parse(JSON.parse(readFileSync(options.statePath, 'utf8')));
  const saved = OrgStore.restore(snapshot, options.now);
  if (saved.seed !== fresh.seed || saved.counts.account !== fresh.counts.account || saved.counts.contact !== fresh.counts.contact) {
    throw new Error(
      `${options.statePath} holds writes for seed ${saved.seed} and ${saved.counts.account} accounts, ${saved.counts.contact} contacts; start with those, or delete the file`,
    );
  }
  return saved;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const store = openStore(options);
  const { statePath } = options;
  const persist = (): void => {
    if (statePath !== undefined) writeFileSync(statePath, JSON.stringify(store.snapshot()));
  };
  const faults = new FaultInjector(options.faults, options.seed ?? 1);
  const stats: EmulatorStats = { requests: 0, throttled: 0, unavailable: 0, maxConcurrent: 0 };
  const server = createServer();
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}/api/data/v9.2/`;
  const handler = new EmulatorHandler(baseUrl, store, faults, stats, options.token, (options.changeTrackingRetentionDays ?? 7) * DAY_MS, persist, options);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => void handler.handle(request, response));
  return {
    baseUrl,
    store,
    faults,
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
