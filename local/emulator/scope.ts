/**
 * What the emulator implements, and loud refusals for the rest: a query option or header it does not
 * act on is answered 501 (`notSupported`) rather than ignored, so a caller never gets every row back for
 * a `fetchXml`, `savedQuery` or `$apply` it thought was applied. Where Dataverse itself refuses an option
 * the refusal is Dataverse's.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError, notSupported } from './http-error';

/**
 * Dataverse does not support `$skip` (learn.microsoft.com/power-apps/developer/data-platform/webapi/query-data-web-api,
 * "Page results"); the message is the one it answers, the code its ODataQueryException code [inferred].
 */
const skipRefused = (): HttpError => new HttpError(400, '0x80060888', 'The query parameter $skip is not supported');

/** Refuses any query option of `query` outside `allowed`, naming `where` it was sent. */
export function checkQueryOptions(query: URLSearchParams, allowed: readonly string[], where: string): void {
  for (const name of new Set(query.keys())) {
    if (allowed.includes(name)) continue;
    if (name === '$skip') throw skipRefused();
    throw notSupported(`the query option '${name}' on ${where}`);
  }
}

/**
 * Request headers that change what Dataverse does and that the emulator would otherwise ignore:
 * impersonation (`MSCRMCallerID`, `CallerObjectId`: learn.microsoft.com/power-apps/developer/data-platform/webapi/impersonate-another-user-web-api)
 * and duplicate detection (`MSCRM.SuppressDuplicateDetection: false`: learn.microsoft.com/power-apps/developer/data-platform/optional-parameters).
 * `MSCRM.BypassCustomPluginExecution` is accepted: the emulator runs no plug-ins to bypass.
 */
export function checkHeaders(headers: IncomingHttpHeaders): void {
  if (headers.mscrmcallerid !== undefined || headers.callerobjectid !== undefined)
    throw notSupported('impersonation (MSCRMCallerID / CallerObjectId)');
  const duplicateDetection = headers['mscrm.suppressduplicatedetection'];
  if (duplicateDetection !== undefined && String(duplicateDetection).toLowerCase() === 'false')
    throw notSupported('duplicate detection (MSCRM.SuppressDuplicateDetection: false)');
}

/** `$top`: a non-negative integer; more than a page of 5000 is not implemented. */
export function parseTop(text: string | null, maxPageSize: number): number | undefined {
  if (text === null) return undefined;
  const top = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(top))
    throw new HttpError(400, '0x80060888', `Invalid value '${text}' for $top: a non-negative integer is expected.`);
  if (top > maxPageSize) throw notSupported(`$top above ${maxPageSize} (one page)`);
  return top;
}

/** `$count`: `true` or `false`. */
export function parseCount(text: string | null): boolean {
  if (text === null || text === 'false') return false;
  if (text === 'true') return true;
  throw new HttpError(400, '0x80060888', `Invalid value '${text}' for $count: true or false is expected.`);
}
