/**
 * Reading a known list of rows by primary key, for the partitioned initial sync (docs/notes/parallel-initial-sync.md):
 * ordinary, non-tracked queries with Dataverse's `In` query function
 * (learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/in), so several of them can run at once,
 * unlike the change-tracked load whose pages only follow one another. Ids that no longer exist are simply absent.
 */
import { ExportError } from '../errors';
import type { RowUpsert } from './changes';
import { toRowUpsert, type TableRef } from './client';
import { HeldBytes } from './held-bytes';
import { parseBody, type DataverseHttp } from './http';
import { defaultChunkLimits, type ChunkLimits } from './page-stream';
import { entityPageSchema } from './responses';

/**
 * Ids per request. A GET URL is limited in length (Dataverse answers 414 beyond it); 250 quoted GUIDs are about
 * 10 KB, leaving room for a `$select` of every column of a wide table.
 */
export const IDS_PER_REQUEST = 250;

export interface IdBatchOptions {
  /** Web API property names; all columns when absent. */
  select?: string[];
  annotations?: boolean;
}

/** The `$filter` for a list of primary keys: `Microsoft.Dynamics.CRM.In(PropertyName='accountid',PropertyValues=['…'])`. */
export function idFilter(table: TableRef, ids: readonly string[]): string {
  const values = ids.map((id) => `'${id}'`).join(',');
  return `Microsoft.Dynamics.CRM.In(PropertyName='${table.primaryIdAttribute}',PropertyValues=[${values}])`;
}

/** Ids asked for and bytes held by a chunk of id requests: its answers are parsed only when its rows are wanted. */
export interface IdChunk {
  /** Ids the chunk's requests asked for: the most rows it can have. */
  ids: number;
  /** Bytes of its answers. */
  bytes: number;
  /** The chunk's rows, parsed and checked now; call it (once) before the callback's promise settles. */
  rows(): RowUpsert[];
}

/** Not fatal: invalid UTF-8 reads as U+FFFD, as `Response.text()` reads a body. */
const decoder = new TextDecoder('utf-8');

/** One request's answer as rows: a page of at most one row per id asked, each with its key and version. */
function answerRows(table: TableRef, body: Uint8Array, where: string, asked: number): RowUpsert[] {
  const page = parseBody(decoder.decode(body), entityPageSchema, where);
  // At most one row per id: a nextLink here would mean the filter matched more than the ids asked for.
  if (page['@odata.nextLink'] !== undefined || page.value.length > asked)
    throw new ExportError('schema', `Dataverse returned more rows than ids asked for (${where})`, { where });
  return page.value.map((item, index) => toRowUpsert(table, item, `${where} value[${index}]`));
}

/**
 * The current rows of `ids`, read in requests of IDS_PER_REQUEST ids one after another and handed to `onChunk` in
 * chunks of up to `limits` (ids asked, bytes of answers), each awaited before the next request is sent. Until then
 * a chunk's answers are held as bytes (held-bytes.ts), so a caller that waits its turn to write holds no row objects.
 */
export async function forEachIdChunk(
  http: DataverseHttp,
  table: TableRef,
  ids: readonly string[],
  options: IdBatchOptions,
  onChunk: (chunk: IdChunk) => Promise<void>,
  limits: ChunkLimits = defaultChunkLimits,
): Promise<void> {
  const select = options.select && options.select.length > 0 ? `$select=${options.select.join(',')}&` : '';
  const prefer = [
    `odata.maxpagesize=${IDS_PER_REQUEST}`,
    ...(options.annotations ? ['odata.include-annotations="*"'] : []),
  ];
  const held = new HeldBytes();
  const requests: Array<{ where: string; asked: number }> = [];
  let asked = 0;
  const handOn = async (): Promise<void> => {
    if (requests.length === 0) return;
    let taken = false;
    await onChunk({
      ids: asked,
      bytes: held.bytes,
      rows: () => {
        if (taken) throw new Error('A chunk of id requests was taken twice');
        taken = true;
        return requests.flatMap((request, index) =>
          answerRows(table, held.record(index), request.where, request.asked),
        );
      },
    });
    held.clear();
    requests.length = 0;
    asked = 0;
  };
  for (let start = 0; start < ids.length; start += IDS_PER_REQUEST) {
    const slice = ids.slice(start, start + IDS_PER_REQUEST);
    const link = `${table.entitySetName}?${select}$filter=${encodeURIComponent(idFilter(table, slice))}`;
    const where = `${table.entitySetName} ids ${start}–${start + slice.length - 1}`;
    const body = await http.getBytes(link, { prefer });
    if (!body) throw new ExportError('schema', `No page returned for ${where}`, { where });
    held.append(body);
    held.close();
    requests.push({ where, asked: slice.length });
    asked += slice.length;
    if (asked >= limits.maxRows || held.bytes >= limits.maxBytes) await handOn();
  }
  await handOn();
}

/** The current rows of `ids`, all of them in memory at once (forEachIdChunk hands them over chunk by chunk). */
export async function readIdBatch(
  http: DataverseHttp,
  table: TableRef,
  ids: readonly string[],
  options: IdBatchOptions = {},
): Promise<RowUpsert[]> {
  const rows: RowUpsert[] = [];
  await forEachIdChunk(http, table, ids, options, async (chunk) => {
    rows.push(...chunk.rows());
  });
  return rows;
}
