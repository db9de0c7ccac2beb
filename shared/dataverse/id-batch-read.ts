/**
 * Reading a known list of rows by primary key, for the partitioned initial sync (docs/notes/parallel-initial-sync.md):
 * ordinary, non-tracked queries with Dataverse's `In` query function
 * (learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/in), so several of them can run at once,
 * unlike the change-tracked load whose pages only follow one another. Ids that no longer exist are simply absent.
 */
import { ExportError } from '../errors';
import type { RowUpsert } from './changes';
import { toRowUpsert, type TableRef } from './client';
import type { DataverseHttp } from './http';
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

/**
 * The current rows of `ids`, read in requests of IDS_PER_REQUEST ids one after another, each request's rows handed
 * to `onRows` before the next is sent: a caller that writes them there holds one request's rows at a time.
 */
export async function forEachIdBatch(
  http: DataverseHttp,
  table: TableRef,
  ids: readonly string[],
  options: IdBatchOptions,
  onRows: (rows: RowUpsert[]) => Promise<void>,
): Promise<void> {
  const select = options.select && options.select.length > 0 ? `$select=${options.select.join(',')}&` : '';
  const prefer = [
    `odata.maxpagesize=${IDS_PER_REQUEST}`,
    ...(options.annotations ? ['odata.include-annotations="*"'] : []),
  ];
  for (let start = 0; start < ids.length; start += IDS_PER_REQUEST) {
    const slice = ids.slice(start, start + IDS_PER_REQUEST);
    const link = `${table.entitySetName}?${select}$filter=${encodeURIComponent(idFilter(table, slice))}`;
    const body = await http.get(link, entityPageSchema, { prefer });
    const where = `${table.entitySetName} ids ${start}–${start + slice.length - 1}`;
    if (!body) throw new ExportError('schema', `No page returned for ${where}`, { where });
    // At most one row per id: a nextLink here would mean the filter matched more than the ids asked for.
    if (body['@odata.nextLink'] !== undefined || body.value.length > slice.length)
      throw new ExportError('schema', `Dataverse returned more rows than ids asked for (${where})`, { where });
    await onRows(body.value.map((item, index) => toRowUpsert(table, item, `${where} value[${index}]`)));
  }
}

/** The current rows of `ids`, all of them in memory at once (forEachIdBatch hands them over request by request). */
export async function readIdBatch(
  http: DataverseHttp,
  table: TableRef,
  ids: readonly string[],
  options: IdBatchOptions = {},
): Promise<RowUpsert[]> {
  const rows: RowUpsert[] = [];
  await forEachIdBatch(http, table, ids, options, async (batch) => {
    rows.push(...batch);
  });
  return rows;
}
