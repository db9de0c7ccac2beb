/**
 * Entity sets Dataverse serves only as collections: activityparty's Web API reference says
 * "Operations supported: GET (RetrieveMultiple Only)"
 * (learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/activityparty). What Dataverse
 * answers to anything else on them is not documented, so the emulator refuses it with its 501.
 */
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { notSupported } from './http-error';

const retrieveMultipleOnly = new Set(['activityparty']);

/** Throws unless the request reads the whole collection (`GET <set>` with no key and no further segment). */
export function refuseBeyondRetrieveMultiple(
  table: TableMetadata,
  method: string,
  id: string | undefined,
  segments: number,
): void {
  if (!retrieveMultipleOnly.has(table.logicalName)) return;
  if (method === 'GET' && id === undefined && segments === 1) return;
  throw notSupported(`${method} on '${table.entitySetName}' beyond reading the collection (RetrieveMultiple only)`);
}
