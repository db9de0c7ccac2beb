/**
 * The Dataverse Web API client the sync pipeline calls: table metadata, the change-tracked initial load
 * page by page, deltas, and rows by id. Pages are async iterators (the client holds at most the current
 * page and the one it reads ahead); links are opaque strings the caller persists and hands back verbatim.
 */
import { z } from 'zod';
import { ExportError } from '../errors';
import type { ChangePage, RowChange, RowUpsert, WebApiRow } from './changes';
import { DataverseHttp, type DataverseHttpOptions } from './http';
import type { ManyToManyRelationship, TableMetadata } from './metadata';
import { readManyToMany, readTable } from './metadata-reader';
import {
  deletedEntitySchema,
  entityPageSchema,
  etagSchema,
  guidSchema,
  singleRowSchema,
  whoAmISchema,
  type EntityPageBody,
} from './responses';

/** Dataverse refuses pages larger than this. */
export const MAX_PAGE_SIZE = 5000;

/**
 * Most pages one chain of links (one poll's delta) may have: 1,000 pages are up to 5 million changes, more than
 * one poll every few seconds ever reads. A chain past it, or one that links back to a page it already gave, is a
 * broken or hostile server, and the table stops with this error instead of polling forever.
 */
export const MAX_PAGES_PER_CHAIN = 1_000;

/** What the client needs of a table to read its rows. */
export type TableRef = Pick<TableMetadata, 'entitySetName' | 'primaryIdAttribute'>;

export interface PageOptions {
  /** Rows per page, 1–5000; the same value must be used for every page of one load. */
  pageSize?: number;
  /** Ask for formatted values and lookup annotations (`odata.include-annotations="*"`). */
  annotations?: boolean;
}

export interface InitialLoadOptions extends PageOptions {
  /** Web API property names (`webApiSelect(table)`); all columns when absent. */
  select?: string[];
  /** A `nextLink` persisted from an earlier page: continue the load from there. */
  resumeFrom?: string;
}

export interface RowsById {
  rows: RowUpsert[];
  /** Ids that no longer exist. */
  missing: string[];
}

/** The version watermark of a `$deltatoken` (`<version>!<MM/dd/yyyy HH:mm:ss>`), the integer before `!`. */
export function tokenWatermark(token: string): number | undefined {
  const match = /^(\d+)!/.exec(token);
  const watermark = match ? Number(match[1]) : undefined;
  // Beyond 2^53 the number is not the token's version any more; a wrong tombstone version is worse than none.
  return watermark !== undefined && Number.isSafeInteger(watermark) ? watermark : undefined;
}

/** The watermark carried by a deltaLink's `$deltatoken`. */
export function deltaLinkWatermark(deltaLink: string): number | undefined {
  const token = new URL(deltaLink, 'http://placeholder/').searchParams.get('$deltatoken');
  return token === null ? undefined : tokenWatermark(token);
}

/** A value from a response, quoted and cut short for an error message. */
const shown = (value: unknown): string => (JSON.stringify(value) ?? String(value)).slice(0, 200);

/** `W/"915244"` → 915244. */
export function etagVersion(etag: unknown, where: string): number {
  const parsed = etagSchema.safeParse(etag);
  const version = parsed.success ? Number(parsed.data.slice(3, -1)) : undefined;
  // Versions guard every upsert: one that does not survive as a number would let stale rows win.
  if (version === undefined || !Number.isSafeInteger(version)) {
    throw new ExportError(
      'schema',
      `Row has no usable version in @odata.etag: expected W/"<versionnumber>", got ${shown(etag)}`,
      { where },
    );
  }
  return version;
}

export function toRowUpsert(table: TableRef, row: WebApiRow, where: string): RowUpsert {
  const id = guidSchema.safeParse(row[table.primaryIdAttribute]);
  if (!id.success) {
    throw new ExportError(
      'schema',
      `Row has no GUID primary key '${table.primaryIdAttribute}' (got ${shown(row[table.primaryIdAttribute])})`,
      { where },
    );
  }
  return { kind: 'upsert', id: id.data, versionNumber: etagVersion(row['@odata.etag'], where), row };
}

/** Rows become upserts; `$deletedEntity` items (identified by their item-level context) become deletes. */
export function toRowChange(table: TableRef, item: WebApiRow, where: string): RowChange {
  if ('@odata.context' in item) {
    const deleted = deletedEntitySchema.safeParse(item);
    if (!deleted.success)
      throw new ExportError('schema', `Unreadable $deletedEntity item: ${z.prettifyError(deleted.error)}`, { where });
    return { kind: 'delete', id: deleted.data.id };
  }
  return toRowUpsert(table, item, where);
}

/** Formatted values and lookup annotations (`<lookup>_entitytype`, `owneridtype` come from them), for pages and single rows alike. */
const annotationPreferences = (options: Pick<PageOptions, 'annotations'>): string[] =>
  options.annotations ? ['odata.include-annotations="*"'] : [];

const preferences = (options: PageOptions): string[] => {
  const pageSize = options.pageSize ?? MAX_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new ExportError('config', `Page size must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${pageSize}`, {
      where: 'pageSize',
    });
  }
  return ['odata.track-changes', `odata.maxpagesize=${pageSize}`, ...annotationPreferences(options)];
};

export class DataverseClient {
  readonly http: DataverseHttp;

  constructor(options: DataverseHttpOptions) {
    this.http = new DataverseHttp(options);
  }

  /**
   * The environment's organization id (WhoAmI): what identifies the environment when its URL changes, and what
   * tells a restored or reset copy under the same URL apart from the environment the checkpoints came from.
   */
  async organizationId(): Promise<string> {
    const answer = await this.http.get('WhoAmI', whoAmISchema);
    if (!answer) throw new ExportError('schema', 'WhoAmI returned no body', { where: 'WhoAmI' });
    return answer.OrganizationId.toLowerCase();
  }

  /** Tables with columns (concrete types, casts, option sets incl. state/status) in the order asked. */
  readTables(logicalNames: string[]): Promise<TableMetadata[]> {
    return Promise.all(logicalNames.map((name) => readTable(this.http, name)));
  }

  /** N:N relationships of the given tables, each once. */
  readManyToMany(logicalNames: string[]): Promise<ManyToManyRelationship[]> {
    return readManyToMany(this.http, logicalNames);
  }

  /** The first link of a change-tracked initial load (a path relative to the Web API root). */
  initialLoadLink(table: TableRef, select?: string[]): string {
    return select && select.length > 0 ? `${table.entitySetName}?$select=${select.join(',')}` : table.entitySetName;
  }

  /**
   * The change-tracked initial load, one page at a time. Every page but the last carries `nextLink`
   * (persist it to resume with `resumeFrom`); the last carries `deltaLink` and its `watermark`.
   */
  initialLoad(table: TableRef, options: InitialLoadOptions = {}): AsyncGenerator<ChangePage> {
    return this.follow(table, options.resumeFrom ?? this.initialLoadLink(table, options.select), preferences(options));
  }

  /** Replays a deltaLink verbatim: changes since it was issued, following `nextLink` inside large deltas. */
  readDelta(table: TableRef, deltaLink: string, options: PageOptions = {}): AsyncGenerator<ChangePage> {
    return this.follow(table, deltaLink, preferences(options));
  }

  /**
   * Exactly one page, without reading ahead: for callers that take one page per step (an orchestration
   * activity per page). `link` is `initialLoadLink(…)`, a persisted `nextLink`, or a `deltaLink`.
   */
  async readPage(table: TableRef, link: string, options: PageOptions = {}): Promise<ChangePage> {
    return toChangePage(this.http, table, await this.fetchPage(table, link, preferences(options)));
  }

  /** Current rows by primary key, without change tracking (to resync failed records). */
  async readRowsById(
    table: TableRef,
    ids: string[],
    options: Pick<InitialLoadOptions, 'select' | 'annotations'> = {},
  ): Promise<RowsById> {
    const select = options.select && options.select.length > 0 ? `?$select=${options.select.join(',')}` : '';
    const prefer = annotationPreferences(options);
    const results = await Promise.all(
      ids.map(async (id) => ({
        id,
        row: await this.http.get(`${table.entitySetName}(${encodeURIComponent(id)})${select}`, singleRowSchema, {
          allowNotFound: true,
          prefer,
        }),
      })),
    );
    const rows: RowUpsert[] = [];
    const missing: string[] = [];
    for (const { id, row } of results) {
      if (row === undefined) {
        missing.push(id);
        continue;
      }
      // A single entity carries its own `@odata.context`; page rows do not, and consumers expect page rows.
      const { '@odata.context': _context, ...pageRow } = row;
      rows.push(toRowUpsert(table, pageRow, `${table.entitySetName}(${id})`));
    }
    return { rows, missing };
  }

  private async fetchPage(table: TableRef, link: string, prefer: string[]): Promise<EntityPageBody> {
    const body = await this.http.get(link, entityPageSchema, { prefer });
    if (!body)
      throw new ExportError('schema', `No page returned for ${table.entitySetName}`, { where: table.entitySetName });
    return body;
  }

  /**
   * Requests the next page while the caller works on the current one, so download and processing
   * overlap; at most two pages are ever held. A failed read-ahead surfaces when its page is asked for.
   */
  private async *follow(table: TableRef, firstLink: string, prefer: string[]): AsyncGenerator<ChangePage> {
    const seen = new Set([this.http.url(firstLink)]);
    let pending: Promise<EntityPageBody> | undefined = this.fetchPage(table, firstLink, prefer);
    while (pending !== undefined) {
      const body: EntityPageBody = await pending;
      const nextLink = body['@odata.nextLink'];
      if (nextLink !== undefined)
        checkNextLink(table, seen, this.http.responseLink(nextLink, `${table.entitySetName} page @odata.nextLink`));
      pending = nextLink === undefined ? undefined : this.fetchPage(table, nextLink, prefer);
      pending?.catch(() => undefined);
      yield toChangePage(this.http, table, body);
    }
  }
}

/** Adds a nextLink to the chain's links, or stops the chain when it repeats one or grows past MAX_PAGES_PER_CHAIN. */
export function checkNextLink(table: TableRef, seen: Set<string>, nextLink: string): void {
  const where = `${table.entitySetName} page @odata.nextLink`;
  if (seen.has(nextLink)) {
    throw new ExportError(
      'schema',
      `Dataverse returned a nextLink for ${table.entitySetName} that an earlier page of the same read already gave: the pages loop`,
      {
        where,
        fix: 'Capture the responses; a proxy or gateway may be rewriting links. The table resumes at the next poll.',
      },
    );
  }
  if (seen.size >= MAX_PAGES_PER_CHAIN) {
    throw new ExportError(
      'schema',
      `Dataverse returned more than ${MAX_PAGES_PER_CHAIN} pages for one read of ${table.entitySetName}`,
      {
        where,
        fix: 'Capture the responses; no delta of one poll is that long. The table resumes at the next poll.',
      },
    );
  }
  seen.add(nextLink);
}

function toChangePage(http: DataverseHttp, table: TableRef, body: EntityPageBody): ChangePage {
  const where = `${table.entitySetName} page`;
  const page: ChangePage = {
    changes: body.value.map((item, index) => toRowChange(table, item, `${where} value[${index}]`)),
  };
  const nextLink = body['@odata.nextLink'];
  const deltaLink = body['@odata.deltaLink'];
  if (nextLink !== undefined) {
    // Checked now, before it is persisted: a checkpoint holding an unusable link could never move again.
    page.nextLink = http.responseLink(nextLink, `${where} @odata.nextLink`);
    return page;
  }
  if (deltaLink === undefined) {
    throw new ExportError(
      'config',
      `Table '${table.entitySetName}' returned no delta link: change tracking is not enabled on it`,
      {
        where: table.entitySetName,
        fix: 'Turn on "Track changes" in the table properties (Power Apps maker portal → Tables → Properties → Advanced options).',
      },
    );
  }
  page.deltaLink = http.responseLink(deltaLink, `${where} @odata.deltaLink`);
  const watermark = deltaLinkWatermark(deltaLink);
  if (watermark !== undefined) page.watermark = watermark;
  return page;
}
