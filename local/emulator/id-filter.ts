/**
 * The one `$filter` form the emulator answers: the primary key in a list of ids, written with Dataverse's `In`
 * query function (learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/in, listed under
 * "Dataverse query functions" in learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows):
 * `$filter=Microsoft.Dynamics.CRM.In(PropertyName='accountid',PropertyValues=['<guid>','<guid>'])`. The
 * partitioned initial sync reads its id batches with it (shared/dataverse/id-batch-read.ts). Every other filter
 * (another function, another property, operators, parameter aliases) is refused with a 501, never approximated.
 */
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { HttpError, notSupported } from './http-error';

const IN_CALL = /^Microsoft\.Dynamics\.CRM\.In\(PropertyName='([A-Za-z_]\w*)',PropertyValues=\[(.*)\]\)$/s;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Ids in one `In` call, at most this many: Dataverse's own page limit, which the emulator answers in one page. */
export const MAX_FILTER_IDS = 5000;

/** The ids a `$filter` asks for (lower case, in the order given), or a refusal of a form the emulator does not implement. */
export function parseIdFilter(table: TableMetadata, filter: string): string[] {
  const call = IN_CALL.exec(filter.trim());
  if (!call)
    throw notSupported(`the $filter '${filter.slice(0, 120)}' (only Microsoft.Dynamics.CRM.In on the primary key)`);
  const [, property = '', list = ''] = call;
  if (property !== table.primaryIdAttribute)
    throw notSupported(
      `Microsoft.Dynamics.CRM.In on '${property}' (only on the primary key ${table.primaryIdAttribute})`,
    );
  const ids = list.split(',').map((value) => value.trim());
  const parsed = ids.map((value) => {
    const quoted = /^'(.*)'$/.exec(value)?.[1];
    if (quoted === undefined || !GUID.test(quoted))
      throw new HttpError(
        400,
        '0x80060888',
        `Invalid PropertyValues item ${value.slice(0, 60)}: a quoted GUID is expected.`,
      );
    return quoted.toLowerCase();
  });
  if (parsed.length === 0)
    throw new HttpError(400, '0x80060888', 'PropertyValues of Microsoft.Dynamics.CRM.In is empty.');
  if (parsed.length > MAX_FILTER_IDS)
    throw notSupported(`Microsoft.Dynamics.CRM.In with more than ${MAX_FILTER_IDS} values`);
  return parsed;
}
