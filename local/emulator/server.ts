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
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { isLookupColumn, webApiPropertyName } from '../../shared/dataverse/properties';
import { sampleRelationships, toWebApiRow, type SampleRow, type SampleValue } from '../sample-org';
import { checkWrite, notModified, refuseConditions } from './conditional';
import { FaultInjector, type FaultSettings } from './faults';
import { HttpError, notSupported, rowNotFound, unknownProperty } from './http-error';
import type { Json, JsonObject } from './metadata-serializer';
import { MetadataRoutes, keyOf, tableByKey } from './metadata-routes';
import { encodeSkipToken, encodeToken, formatToken, parsePrefer, parseSelect, parseSkipToken, parseToken, type PagingCookie } from './odata';
import { checkHeaders, checkQueryOptions, parseCount, parseTop } from './scope';
import { OrgStore, WriteConflict, storeSnapshotSchema, type StoredRow } from './store';

const DAY_MS = 86_400_000;

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

/** `@odata.count` and `/$count` stop at 5000 (learn.microsoft.com/power-apps/developer/data-platform/webapi/query/count-rows). */
const COUNT_LIMIT = 5000;

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

function send(response: ServerResponse, status: number, body: Json | undefined, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  response.writeHead(status, {
    'OData-Version': '4.0',
    ...(body === undefined ? {} : { 'Content-Type': 'application/json; odata.metadata=minimal' }),
    ...headers,
  });
  response.end(text);
}

/** What every page of one entity-set read shares. */
interface SetRead {
  table: TableMetadata;
  tracking: boolean;
  select: Set<string> | undefined;
  annotations: boolean;
  pageSize: number;
  cookie: PagingCookie | undefined;
  pageNumber: number;
  versionStamp: number;
  /** The set's URL with the query options every link repeats, ending in `?` or `&`. */
  setUrl: string;
  contextBase: string;
  headers: Record<string, string>;
}

/**
 * A first segment that is no entity set of the sample org. An unknown set is Dataverse's 404; batches,
 * `$metadata`, the service document, functions and actions exist in Dataverse but not here.
 */
function unknownSegment(segment: string, method: string): HttpError {
  if (segment === '') return notSupported('the service document');
  if (segment.startsWith('$')) return notSupported(`'${segment}'`);
  if (segment.includes('(') || method === 'POST') return notSupported(`'${segment}': unbound functions and actions`);
  return new HttpError(404, '0x8006088a', `Resource not found for the segment '${segment}'.`);
}

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
  ) {
    this.metadata = new MetadataRoutes(baseUrl, store);
  }

  private readonly metadata: MetadataRoutes;

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
    checkHeaders(request.headers);

    const entityKey = keyOf(first, 'EntityDefinitions');
    const optionSetKey = keyOf(first, 'GlobalOptionSetDefinitions');
    if (entityKey || optionSetKey) {
      if (method !== 'GET') throw notSupported(`${method} on table definitions`);
      refuseConditions(request.headers, 'table definitions');
      if (entityKey) return send(response, 200, this.metadata.entityDefinitions(entityKey, segments.slice(1), query));
      return send(response, 200, this.metadata.globalOptionSets(optionSetKey?.key, query));
    }

    const setMatch = /^([A-Za-z_]\w*)(?:\(([^)]*)\))?$/.exec(first);
    const table = setMatch ? this.store.tableBySet(setMatch[1] ?? '') : undefined;
    if (!setMatch || !table) throw unknownSegment(first, method);
    const key = setMatch[2];
    if (key !== undefined && key.includes('=')) throw notSupported(`alternate keys ('${first}')`);
    if (key !== undefined && !/^[0-9a-fA-F-]{36}$/.test(key)) throw new HttpError(404, '0x8006088a', `Resource not found for the segment '${first}'.`);
    const id = key?.toLowerCase();
    if (segments.length > 1) return this.navigation(request, response, table, id, segments.slice(1), query);
    if (method === 'GET' && id === undefined) return this.entitySet(request, response, table, query);
    if (method === 'GET' && id !== undefined) return this.singleRow(request, response, table, id, query);
    if (method === 'POST' && id === undefined) return this.create(request, response, table, query);
    if (method === 'PATCH' && id !== undefined) return this.upsert(request, response, table, id, query);
    if (method === 'DELETE' && id !== undefined) return this.remove(request, response, table, id, query);
    throw new HttpError(405, '0x80060888', `${method} is not supported on '${first}'.`);
  }

  /** Past `<set>[(<id>)]`: a set's `/$count` and a row's N:N `$ref`; other navigation is not implemented. */
  private async navigation(request: IncomingMessage, response: ServerResponse, table: TableMetadata, id: string | undefined, rest: string[], query: URLSearchParams): Promise<void> {
    if (id === undefined && rest.length === 1 && rest[0] === '$count' && request.method === 'GET') {
      checkQueryOptions(query, [], `${table.entitySetName}/$count`);
      refuseConditions(request.headers, '/$count');
      // The count as plain text, up to 5000 (learn.microsoft.com/power-apps/developer/data-platform/webapi/query/count-rows).
      response.writeHead(200, { 'OData-Version': '4.0', 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(String(Math.min(this.store.count(table.logicalName), COUNT_LIMIT)));
      return;
    }
    if (id !== undefined && rest.length === 2 && rest[1] === '$ref') return this.reference(request, response, table, id, rest[0] ?? '', query);
    const path = [`${table.entitySetName}${id === undefined ? '' : `(${id})`}`, ...rest].join('/');
    throw notSupported(`'${path}': navigation properties, single property values and bound functions or actions`);
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
    refuseConditions(request.headers, '$ref');
    checkQueryOptions(query, request.method === 'DELETE' ? ['$id'] : [], '$ref');
    if (!this.store.get(table.logicalName, id)) throw rowNotFound(table, id);
    const otherLogicalName = relationship.entity1LogicalName === table.logicalName ? relationship.entity2LogicalName : relationship.entity1LogicalName;
    const otherTable = tableByKey(this.store, otherLogicalName);
    const pair = (otherId: string) =>
      relationship.entity1LogicalName === table.logicalName ? { entity1Id: id, entity2Id: otherId } : { entity1Id: otherId, entity2Id: id };
    const method = request.method ?? 'GET';
    if (method === 'POST' && navigationMatch[2] === undefined) {
      const otherId = this.referencedId(otherTable, await readBody(request));
      if (!this.store.get(otherLogicalName, otherId)) throw rowNotFound(otherTable, otherId);
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
    refuseConditions(request.headers, 'entity sets');
    if (tracking || deltaToken !== null) {
      for (const option of ['$filter', '$orderby', '$expand', '$top']) {
        if (query.has(option)) throw new HttpError(400, '0x80060888', `The "${option}" query parameter isn't supported when Change Tracking is enabled.`);
      }
      checkQueryOptions(query, ['$select', '$skiptoken', '$deltatoken'], 'a change-tracked entity set');
    } else {
      checkQueryOptions(query, ['$select', '$skiptoken', '$top', '$count'], 'entity sets');
    }
    const selectText = query.get('$select');
    const annotations = prefer.annotations !== undefined;
    const pageSize = Math.min(prefer.maxPageSize ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
    const skipToken = query.get('$skiptoken');
    const cookie = skipToken === null ? undefined : parseSkipToken(skipToken);
    if (skipToken !== null && !cookie) throw new HttpError(400, '0x80040203', 'The $skiptoken value is not a valid paging cookie.');
    const count = parseCount(query.get('$count'));
    const applied = [...(tracking ? ['odata.track-changes'] : []), ...(prefer.maxPageSize ? [`odata.maxpagesize=${pageSize}`] : []), ...(annotations ? [`odata.include-annotations=${prefer.annotations}`] : [])];
    // Links keep the query options that shape every page.
    const linkOptions = `${selectText === null ? '' : `$select=${selectText}&`}${count ? '$count=true&' : ''}`;
    const read: SetRead = {
      table, tracking, annotations, pageSize, cookie,
      select: this.selection(table, parseSelect(selectText)),
      headers: applied.length > 0 ? { 'Preference-Applied': applied.join(',') } : {},
      setUrl: `${this.baseUrl}${table.entitySetName}?${linkOptions}`,
      contextBase: `${this.baseUrl}$metadata#${table.entitySetName}${selectText === null ? '' : `(${selectText})`}`,
      versionStamp: cookie?.versionStamp ?? this.store.currentVersion,
      pageNumber: (cookie?.pageNumber ?? 1) + 1,
    };
    if (deltaToken !== null) return this.deltaPage(response, read, deltaToken);
    const top = parseTop(query.get('$top'), MAX_PAGE_SIZE);
    if (top !== undefined && prefer.maxPageSize !== undefined && prefer.maxPageSize < top) throw notSupported('$top above odata.maxpagesize (paging a $top query)');
    this.page(response, read, top, count);
  }

  private deltaLink(read: SetRead): string {
    return `${read.setUrl}$deltatoken=${encodeToken(formatToken(read.versionStamp, this.store.now()))}`;
  }

  private deltaPage(response: ServerResponse, read: SetRead, deltaToken: string): void {
    const { table, cookie, versionStamp } = read;
    const token = parseToken(deltaToken);
    if (!token) throw new HttpError(400, '0x80040203', `Invalid $deltatoken '${deltaToken}'.`);
    if (this.faults.settings.expiredTokens || this.store.now() - token.issuedAt > this.retentionMs) {
      throw new HttpError(400, '0x80044352', 'Version stamp associated with the client has expired. Please perform a full sync.');
    }
    if (!cookie) this.observers.onDeltaRead?.({ table: table.logicalName, upToVersion: versionStamp });
    const { items, more } = this.store.changes(table.logicalName, token.version, versionStamp, cookie?.position ?? 0, read.pageSize);
    const value: Json[] = items.map((item) =>
      item.kind === 'upsert'
        ? this.rowJson(table, item.stored, read.select, read.annotations)
        : { '@odata.context': `${this.baseUrl}$metadata#${table.entitySetName}/$deletedEntity`, id: item.id, reason: 'deleted' },
    );
    const body: JsonObject = { '@odata.context': `${read.contextBase}/$delta`, value };
    const last = items.at(-1);
    if (more && last) {
      const lastId = last.kind === 'upsert' ? last.stored.id : last.id;
      const firstItem = items[0] ?? last;
      const firstId = firstItem.kind === 'upsert' ? firstItem.stored.id : firstItem.id;
      const position = last.kind === 'upsert' ? last.stored.version : last.version;
      const skip = encodeSkipToken({ pageNumber: read.pageNumber, versionStamp, position, tracking: true }, table.primaryIdAttribute, firstId, lastId);
      body['@odata.nextLink'] = `${read.setUrl}$deltatoken=${encodeToken(deltaToken)}&$skiptoken=${skip}`;
    } else {
      body['@odata.deltaLink'] = this.deltaLink(read);
    }
    send(response, 200, body, read.headers);
  }

  /** A page of the initial load; `$top` gives one page without a nextLink, `$count=true` adds `@odata.count`. */
  private page(response: ServerResponse, read: SetRead, top: number | undefined, count: boolean): void {
    const { table } = read;
    const { rows, more } = this.store.page(table.logicalName, read.cookie?.position ?? -1, top ?? read.pageSize);
    const body: JsonObject = { '@odata.context': read.contextBase };
    if (count) body['@odata.count'] = Math.min(this.store.count(table.logicalName), COUNT_LIMIT);
    body.value = rows.map((stored) => this.rowJson(table, stored, read.select, read.annotations));
    const first = rows[0];
    const last = rows.at(-1);
    if (more && top === undefined && first && last) {
      const skip = encodeSkipToken({ pageNumber: read.pageNumber, versionStamp: read.versionStamp, position: last.slot, tracking: read.tracking }, table.primaryIdAttribute, first.id, last.id);
      body['@odata.nextLink'] = `${read.setUrl}$skiptoken=${skip}`;
    } else if (read.tracking) {
      body['@odata.deltaLink'] = this.deltaLink(read);
    }
    send(response, 200, body, read.headers);
  }

  private singleRow(request: IncomingMessage, response: ServerResponse, table: TableMetadata, id: string, query: URLSearchParams): void {
    checkQueryOptions(query, ['$select'], 'rows');
    const stored = this.store.get(table.logicalName, id);
    if (!stored) throw rowNotFound(table, id);
    const selectText = query.get('$select');
    const select = this.selection(table, parseSelect(selectText));
    const annotations = parsePrefer(request.headers.prefer).annotations !== undefined;
    if (notModified(request.headers, stored.version, annotations)) return send(response, 304, undefined);
    const row = this.rowJson(table, stored, select, annotations);
    const context = `${this.baseUrl}$metadata#${table.entitySetName}${selectText === null ? '' : `(${selectText})`}/$entity`;
    send(response, 200, { '@odata.context': context, ...row });
  }

  private async create(request: IncomingMessage, response: ServerResponse, table: TableMetadata, query: URLSearchParams): Promise<void> {
    checkQueryOptions(query, ['$select'], 'a create');
    refuseConditions(request.headers, 'a create (POST)');
    const select = this.selection(table, parseSelect(query.get('$select')));
    const values = this.fromWebApi(table, await readBody(request));
    const id = values[table.primaryIdAttribute];
    delete values[table.primaryIdAttribute];
    try {
      const stored = this.store.create(table.logicalName, values, typeof id === 'string' ? id : undefined);
      this.committed(table, stored.id, 'upsert');
      this.written(request, response, table, stored, { created: true, select });
    } catch (error) {
      if (error instanceof WriteConflict) throw new HttpError(412, '0x80040237', error.message);
      throw error;
    }
  }

  /** PATCH is an upsert in the Web API: it creates the row when the id does not exist, unless `If-Match` says otherwise. */
  private async upsert(request: IncomingMessage, response: ServerResponse, table: TableMetadata, id: string, query: URLSearchParams): Promise<void> {
    checkQueryOptions(query, ['$select'], 'an update or upsert');
    const select = this.selection(table, parseSelect(query.get('$select')));
    const values = this.fromWebApi(table, await readBody(request));
    delete values[table.primaryIdAttribute];
    const current = this.store.get(table.logicalName, id);
    checkWrite(request.headers, current?.version, () => rowNotFound(table, id));
    const stored = (current && this.store.update(table.logicalName, id, values)) ?? this.store.create(table.logicalName, values, id);
    this.committed(table, stored.id, 'upsert');
    this.written(request, response, table, stored, { created: current === undefined, select });
  }

  private remove(request: IncomingMessage, response: ServerResponse, table: TableMetadata, id: string, query: URLSearchParams): void {
    checkQueryOptions(query, [], 'a delete');
    const current = this.store.get(table.logicalName, id);
    if (!current) throw rowNotFound(table, id);
    checkWrite(request.headers, current.version, () => rowNotFound(table, id));
    this.store.delete(table.logicalName, id);
    this.committed(table, id, 'delete');
    send(response, 204, undefined);
  }

  /** 204, or with `Prefer: return=representation` the row: 201 when created, 200 when updated. */
  private written(request: IncomingMessage, response: ServerResponse, table: TableMetadata, stored: StoredRow, how: { created: boolean; select: Set<string> | undefined }): void {
    const headers = { 'OData-EntityId': `${this.baseUrl}${table.entitySetName}(${stored.id})` };
    if (/return=representation/.test(String(request.headers.prefer ?? ''))) {
      send(response, how.created ? 201 : 200, this.rowJson(table, stored, how.select, false), headers);
    } else {
      send(response, 204, undefined, headers);
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
