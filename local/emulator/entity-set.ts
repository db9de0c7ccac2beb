/**
 * Entity-set reads: initial-load pages (`$select`, `$top`, `$count`, `Prefer: odata.maxpagesize`, paging
 * cookies) and change-tracking deltas, as docs/reference/dataverse-protocol.md describes them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_PAGE_SIZE } from '../../shared/dataverse/client';
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { refuseConditions } from './conditional';
import type { FaultInjector } from './faults';
import { parseIdFilter } from './id-filter';
import { HttpError, notSupported } from './http-error';
import type { JsonObject } from './metadata-serializer';
import {
  encodeSkipToken,
  encodeToken,
  formatToken,
  parsePrefer,
  parseSelect,
  parseSkipToken,
  parseToken,
  type PagingCookie,
} from './odata';
import { isKeyOnly, rowJsonText, selection } from './rows';
import { checkQueryOptions, parseCount, parseTop } from './scope';
import type { OrgStore } from './store';
import { pageText, sendJsonText } from './wire';

/** `@odata.count` and `/$count` stop at 5000 (learn.microsoft.com/power-apps/developer/data-platform/webapi/query/count-rows). */
export const COUNT_LIMIT = 5000;

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

export class EntitySetReader {
  constructor(
    private readonly baseUrl: string,
    private readonly store: OrgStore,
    private readonly faults: FaultInjector,
    private readonly retentionMs: number,
    private readonly onDeltaRead: ((read: { table: string; upToVersion: number }) => void) | undefined,
  ) {}

  async read(
    request: IncomingMessage,
    response: ServerResponse,
    table: TableMetadata,
    query: URLSearchParams,
  ): Promise<void> {
    const prefer = parsePrefer(request.headers.prefer);
    const deltaToken = query.get('$deltatoken');
    const tracking = table.changeTrackingEnabled && (prefer.trackChanges || deltaToken !== null);
    refuseConditions(request.headers, 'entity sets');
    if (tracking || deltaToken !== null) {
      for (const option of ['$filter', '$orderby', '$expand', '$top']) {
        if (query.has(option))
          throw new HttpError(
            400,
            '0x80060888',
            `The "${option}" query parameter isn't supported when Change Tracking is enabled.`,
          );
      }
      checkQueryOptions(query, ['$select', '$skiptoken', '$deltatoken'], 'a change-tracked entity set');
    } else {
      checkQueryOptions(query, ['$select', '$skiptoken', '$top', '$count', '$filter'], 'entity sets');
    }
    const selectText = query.get('$select');
    const annotations = prefer.annotations !== undefined;
    const pageSize = Math.min(prefer.maxPageSize ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
    const skipToken = query.get('$skiptoken');
    const cookie = skipToken === null ? undefined : parseSkipToken(skipToken);
    if (skipToken !== null && !cookie)
      throw new HttpError(400, '0x80040203', 'The $skiptoken value is not a valid paging cookie.');
    const count = parseCount(query.get('$count'));
    const applied = [
      ...(tracking ? ['odata.track-changes'] : []),
      ...(prefer.maxPageSize ? [`odata.maxpagesize=${pageSize}`] : []),
      ...(annotations ? [`odata.include-annotations=${prefer.annotations}`] : []),
    ];
    // Links keep the query options that shape every page.
    const linkOptions = `${selectText === null ? '' : `$select=${selectText}&`}${count ? '$count=true&' : ''}`;
    const read: SetRead = {
      table,
      tracking,
      annotations,
      pageSize,
      cookie,
      select: selection(table, parseSelect(selectText)),
      headers: applied.length > 0 ? { 'Preference-Applied': applied.join(',') } : {},
      setUrl: `${this.baseUrl}${table.entitySetName}?${linkOptions}`,
      contextBase: `${this.baseUrl}$metadata#${table.entitySetName}${selectText === null ? '' : `(${selectText})`}`,
      versionStamp: cookie?.versionStamp ?? this.store.currentVersion,
      pageNumber: (cookie?.pageNumber ?? 1) + 1,
    };
    if (deltaToken !== null) return this.deltaPage(response, read, deltaToken);
    const filter = query.get('$filter');
    if (filter !== null) return this.idBatch(response, read, filter, query);
    const top = parseTop(query.get('$top'), MAX_PAGE_SIZE);
    if (top !== undefined && prefer.maxPageSize !== undefined && prefer.maxPageSize < top)
      throw notSupported('$top above odata.maxpagesize (paging a $top query)');
    await this.page(response, read, top, count);
  }

  /**
   * `--page-latency-ms`: the server time of a page of 5000 rows of every column, in proportion for fewer rows or
   * columns, so a benchmark measures how many pages are read at once rather than this machine's CPU.
   */
  private async serverTime(read: SetRead, rows: number): Promise<void> {
    const perPage = this.faults.settings.pageLatencyMs;
    if (perPage <= 0 || rows === 0) return;
    const columns = read.table.columns.filter((column) => column.attributeOf === null).length;
    const share = Math.min(1, (read.select?.size ?? columns) / Math.max(1, columns));
    await new Promise((resolve) => setTimeout(resolve, Math.round((perPage * rows * share) / MAX_PAGE_SIZE)));
  }

  /** The rows of a list of ids (id-filter.ts), in one page: the partitioned initial sync's reads. */
  private async idBatch(
    response: ServerResponse,
    read: SetRead,
    filter: string,
    query: URLSearchParams,
  ): Promise<void> {
    for (const option of ['$top', '$count', '$skiptoken'])
      if (query.has(option)) throw notSupported(`'${option}' with $filter`);
    const ids = parseIdFilter(read.table, filter);
    if (ids.length > read.pageSize) throw notSupported('paging a $filter result (more ids than odata.maxpagesize)');
    const rows = ids.flatMap((id) => this.store.get(read.table.logicalName, id) ?? []);
    await this.serverTime(read, rows.length);
    const value = rows.map((stored) => rowJsonText(read.table, stored, read.select, read.annotations));
    sendJsonText(response, 200, pageText({ '@odata.context': read.contextBase }, value), read.headers);
  }

  private deltaLink(read: SetRead): string {
    return `${read.setUrl}$deltatoken=${encodeToken(formatToken(read.versionStamp, this.store.now()))}`;
  }

  private deltaPage(response: ServerResponse, read: SetRead, deltaToken: string): void {
    const { table, cookie, versionStamp } = read;
    const token = parseToken(deltaToken);
    if (!token) throw new HttpError(400, '0x80040203', `Invalid $deltatoken '${deltaToken}'.`);
    if (this.faults.settings.expiredTokens || this.store.now() - token.issuedAt > this.retentionMs) {
      throw new HttpError(
        400,
        '0x80044352',
        'Version stamp associated with the client has expired. Please perform a full sync.',
      );
    }
    if (!cookie) this.onDeltaRead?.({ table: table.logicalName, upToVersion: versionStamp });
    const { items, more } = this.store.changes(
      table.logicalName,
      token.version,
      versionStamp,
      cookie?.position ?? 0,
      read.pageSize,
    );
    const value = items.map((item) =>
      item.kind === 'upsert'
        ? rowJsonText(table, item.stored, read.select, read.annotations)
        : JSON.stringify({
            '@odata.context': `${this.baseUrl}$metadata#${table.entitySetName}/$deletedEntity`,
            id: item.id,
            reason: 'deleted',
          }),
    );
    const body: JsonObject = {};
    const last = items.at(-1);
    if (more && last) {
      const lastId = last.kind === 'upsert' ? last.stored.id : last.id;
      const firstItem = items[0] ?? last;
      const firstId = firstItem.kind === 'upsert' ? firstItem.stored.id : firstItem.id;
      const position = last.kind === 'upsert' ? last.stored.version : last.version;
      const skip = encodeSkipToken(
        { pageNumber: read.pageNumber, versionStamp, position, tracking: true },
        table.primaryIdAttribute,
        firstId,
        lastId,
      );
      body['@odata.nextLink'] = `${read.setUrl}$deltatoken=${encodeToken(deltaToken)}&$skiptoken=${skip}`;
    } else {
      body['@odata.deltaLink'] = this.deltaLink(read);
    }
    sendJsonText(
      response,
      200,
      pageText({ '@odata.context': `${read.contextBase}/$delta` }, value, body),
      read.headers,
    );
  }

  /** A page of the initial load; `$top` gives one page without a nextLink, `$count=true` adds `@odata.count`. */
  private async page(response: ServerResponse, read: SetRead, top: number | undefined, count: boolean): Promise<void> {
    const { table } = read;
    const after = read.cookie?.position ?? -1;
    const { rows, more } = this.store.page(
      table.logicalName,
      after,
      top ?? read.pageSize,
      isKeyOnly(table, read.select),
    );
    await this.serverTime(read, rows.length);
    const head: JsonObject = { '@odata.context': read.contextBase };
    if (count) head['@odata.count'] = Math.min(this.store.count(table.logicalName), COUNT_LIMIT);
    const value = rows.map((stored) => rowJsonText(table, stored, read.select, read.annotations));
    const body: JsonObject = {};
    const first = rows[0];
    const last = rows.at(-1);
    if (more && top === undefined && first && last) {
      const skip = encodeSkipToken(
        { pageNumber: read.pageNumber, versionStamp: read.versionStamp, position: last.slot, tracking: read.tracking },
        table.primaryIdAttribute,
        first.id,
        last.id,
      );
      body['@odata.nextLink'] = `${read.setUrl}$skiptoken=${skip}`;
    } else if (read.tracking) {
      body['@odata.deltaLink'] = this.deltaLink(read);
    }
    sendJsonText(response, 200, pageText(head, value, body), read.headers);
  }
}
