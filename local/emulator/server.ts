/**
 * A Dataverse Web API emulator over node:http: the subset the export reads (EntityDefinitions with casts
 * and option sets, GlobalOptionSetDefinitions, N:N relationships, change-tracked entity-set paging and
 * deltas, rows by id) and the writes tests use to change data (POST/PATCH/DELETE on entity sets with
 * Dataverse's conditional headers, N:N associate and disassociate through `$ref`). Anything else Dataverse
 * does is refused with a 501 saying the emulator does not implement it (scope.ts), never ignored.
 * This file authenticates, injects faults and routes; metadata-routes.ts, entity-set.ts, references.ts,
 * conditional.ts and rows.ts answer. Behaviour follows docs/reference/dataverse-protocol.md; where
 * Dataverse is undocumented the choice is marked there as [inferred] and repeated in docs/notes/dataverse.md.
 * A little over 350 lines on purpose: the routing reads top to bottom in one method, every answer is elsewhere.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { checkWrite, notModified, refuseConditions } from './conditional';
import { COUNT_LIMIT, EntitySetReader } from './entity-set';
import { FaultInjector, type FaultSettings } from './faults';
import { HttpError, notSupported, rowNotFound, unknownSegment } from './http-error';
import { MetadataRoutes, keyOf } from './metadata-routes';
import { isWhoAmI, whoAmI } from './who-am-i';
import { parsePrefer, parseSelect } from './odata';
import { ReferenceRoutes } from './references';
import { refuseBeyondRetrieveMultiple } from './retrieve-multiple-only';
import { sendsAffinityCookie } from './affinity';
import { rowJsonText, rowValues, selection } from './rows';
import { checkHeaders, checkQueryOptions } from './scope';
import { openStore, saveStore } from './state-file';
import { WriteConflict, type OrgStore, type StoredRow } from './store';
import { TEST_CONTROL_PREFIX, handleTestControl } from './test-control';
import { readBody, send, sendJsonText, withMembers } from './wire';

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
  /** A JSON file holding the writes: loaded at start when it exists, replaced atomically after every write (state-file.ts). */
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
  /** Requests that sent the `ARRAffinity` cookie back, which parallel clients should not (affinity.ts). */
  affinityCookieRequests: number;
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
    this.references = new ReferenceRoutes(baseUrl, store, persist);
    this.entitySets = new EntitySetReader(baseUrl, store, faults, retentionMs, observers.onDeltaRead);
  }

  private readonly metadata: MetadataRoutes;
  private readonly references: ReferenceRoutes;
  private readonly entitySets: EntitySetReader;

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
    if (sendsAffinityCookie(request.headers, response, this.faults.settings.dopHint))
      this.stats.affinityCookieRequests++;
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
        throw new HttpError(
          429,
          '0x80072326',
          `Number of concurrent requests exceeded the limit of ${CONCURRENCY_LIMIT}.`,
          { 'Retry-After': '1' },
        );
      }
      const failure = this.faults.nextFailure();
      if (failure === 'throttle') {
        this.stats.throttled++;
        throw new HttpError(
          429,
          '0x80072322',
          'Number of requests exceeded the limit of 6000 over time window of 300 seconds.',
          {
            'Retry-After': String(faults.retryAfterSeconds),
          },
        );
      }
      if (failure === 'unavailable') {
        this.stats.unavailable++;
        throw new HttpError(503, '0x80040216', 'The service is temporarily unavailable.');
      }
      await this.route(request, response);
    } catch (error) {
      if (error instanceof HttpError)
        send(response, error.status, { error: { code: error.code, message: error.message } }, error.headers);
      else send(response, 500, { error: { code: '0x80040216', message: `Emulator failure: ${String(error)}` } });
    }
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.baseUrl);
    if (url.pathname.startsWith(TEST_CONTROL_PREFIX))
      return handleTestControl(this.store, request, response, url.pathname);
    const match = /^\/api\/data\/v9\.\d\/(.*)$/.exec(url.pathname);
    if (!match) throw new HttpError(404, '0x8006088a', `Resource not found for the segment '${url.pathname}'.`);
    const segments = (match[1] ?? '').split('/').map(decodeURIComponent);
    const first = segments[0] ?? '';
    const method = request.method ?? 'GET';
    const query = url.searchParams;
    checkHeaders(request.headers);

    if (isWhoAmI(first)) {
      if (method !== 'GET' || segments.length > 1) throw notSupported(`${method} ${url.pathname}`);
      checkQueryOptions(query, [], 'WhoAmI');
      return send(response, 200, whoAmI(this.baseUrl, this.store));
    }

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
    if (key !== undefined && !/^[0-9a-fA-F-]{36}$/.test(key))
      throw new HttpError(404, '0x8006088a', `Resource not found for the segment '${first}'.`);
    const id = key?.toLowerCase();
    refuseBeyondRetrieveMultiple(table, method, id, segments.length);
    if (segments.length > 1) return this.navigation(request, response, table, id, segments.slice(1), query);
    if (method === 'GET' && id === undefined) return this.entitySets.read(request, response, table, query);
    if (method === 'GET' && id !== undefined) return this.singleRow(request, response, table, id, query);
    if (method === 'POST' && id === undefined) return this.create(request, response, table, query);
    if (method === 'PATCH' && id !== undefined) return this.upsert(request, response, table, id, query);
    if (method === 'DELETE' && id !== undefined) return this.remove(request, response, table, id, query);
    throw new HttpError(405, '0x80060888', `${method} is not supported on '${first}'.`);
  }

  /** Past `<set>[(<id>)]`: a set's `/$count` and a row's N:N `$ref`; other navigation is not implemented. */
  private async navigation(
    request: IncomingMessage,
    response: ServerResponse,
    table: TableMetadata,
    id: string | undefined,
    rest: string[],
    query: URLSearchParams,
  ): Promise<void> {
    if (id === undefined && rest.length === 1 && rest[0] === '$count' && request.method === 'GET') {
      checkQueryOptions(query, [], `${table.entitySetName}/$count`);
      refuseConditions(request.headers, '/$count');
      // The count as plain text, up to 5000 (learn.microsoft.com/power-apps/developer/data-platform/webapi/query/count-rows).
      response.writeHead(200, { 'OData-Version': '4.0', 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(String(Math.min(this.store.count(table.logicalName), COUNT_LIMIT)));
      return;
    }
    if (id !== undefined && rest.length === 2 && rest[1] === '$ref')
      return this.references.handle(request, response, table, id, rest[0] ?? '', query);
    const path = [`${table.entitySetName}${id === undefined ? '' : `(${id})`}`, ...rest].join('/');
    throw notSupported(`'${path}': navigation properties, single property values and bound functions or actions`);
  }

  // ---- rows ----

  private singleRow(
    request: IncomingMessage,
    response: ServerResponse,
    table: TableMetadata,
    id: string,
    query: URLSearchParams,
  ): void {
    checkQueryOptions(query, ['$select'], 'rows');
    const stored = this.store.get(table.logicalName, id);
    if (!stored) throw rowNotFound(table, id);
    const selectText = query.get('$select');
    const select = selection(table, parseSelect(selectText));
    const annotations = parsePrefer(request.headers.prefer).annotations !== undefined;
    if (notModified(request.headers, stored.version, annotations)) return send(response, 304, undefined);
    const row = rowJsonText(table, stored, select, annotations);
    const context = `${this.baseUrl}$metadata#${table.entitySetName}${selectText === null ? '' : `(${selectText})`}/$entity`;
    sendJsonText(response, 200, withMembers({ '@odata.context': context }, row));
  }

  private async create(
    request: IncomingMessage,
    response: ServerResponse,
    table: TableMetadata,
    query: URLSearchParams,
  ): Promise<void> {
    checkQueryOptions(query, ['$select'], 'a create');
    refuseConditions(request.headers, 'a create (POST)');
    const select = selection(table, parseSelect(query.get('$select')));
    const values = rowValues(this.store, table, await readBody(request));
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
  private async upsert(
    request: IncomingMessage,
    response: ServerResponse,
    table: TableMetadata,
    id: string,
    query: URLSearchParams,
  ): Promise<void> {
    checkQueryOptions(query, ['$select'], 'an update or upsert');
    const select = selection(table, parseSelect(query.get('$select')));
    const values = rowValues(this.store, table, await readBody(request));
    delete values[table.primaryIdAttribute];
    const current = this.store.get(table.logicalName, id);
    checkWrite(request.headers, current?.version, () => rowNotFound(table, id));
    const stored =
      (current && this.store.update(table.logicalName, id, values)) ?? this.store.create(table.logicalName, values, id);
    this.committed(table, stored.id, 'upsert');
    this.written(request, response, table, stored, { created: current === undefined, select });
  }

  private remove(
    request: IncomingMessage,
    response: ServerResponse,
    table: TableMetadata,
    id: string,
    query: URLSearchParams,
  ): void {
    checkQueryOptions(query, [], 'a delete');
    const current = this.store.get(table.logicalName, id);
    if (!current) throw rowNotFound(table, id);
    checkWrite(request.headers, current.version, () => rowNotFound(table, id));
    this.store.delete(table.logicalName, id);
    this.committed(table, id, 'delete');
    send(response, 204, undefined);
  }

  /** 204, or with `Prefer: return=representation` the row: 201 when created, 200 when updated. */
  private written(
    request: IncomingMessage,
    response: ServerResponse,
    table: TableMetadata,
    stored: StoredRow,
    how: { created: boolean; select: Set<string> | undefined },
  ): void {
    const headers = { 'OData-EntityId': `${this.baseUrl}${table.entitySetName}(${stored.id})` };
    if (/return=representation/.test(String(request.headers.prefer ?? ''))) {
      sendJsonText(response, how.created ? 201 : 200, rowJsonText(table, stored, how.select, false), headers);
    } else {
      send(response, 204, undefined, headers);
    }
  }
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const store = openStore(options);
  const { statePath } = options;
  const persist = (): void => {
    if (statePath !== undefined) saveStore(statePath, store);
  };
  // Written at once, not only after the first write: the state's organization id must survive a restart too.
  persist();
  const faults = new FaultInjector(options.faults, options.seed ?? 1);
  const stats: EmulatorStats = {
    requests: 0,
    throttled: 0,
    unavailable: 0,
    maxConcurrent: 0,
    affinityCookieRequests: 0,
  };
  const server = createServer();
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}/api/data/v9.2/`;
  const handler = new EmulatorHandler(
    baseUrl,
    store,
    faults,
    stats,
    options.token,
    (options.changeTrackingRetentionDays ?? 7) * DAY_MS,
    persist,
    options,
  );
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
