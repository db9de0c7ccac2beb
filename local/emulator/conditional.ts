/**
 * Conditional requests as Dataverse answers them, from
 * learn.microsoft.com/power-apps/developer/data-platform/webapi/perform-conditional-operations-using-web-api:
 * a GET whose `If-None-Match` holds the row's current ETag is 304 Not Modified (never when annotations
 * are asked for); `If-Match` with another ETag fails an update or delete with 412; `If-Match: *` keeps
 * an upsert from creating (404) and `If-None-Match: *` keeps it from updating (412).
 * The documented bodies show an empty code; the codes here are Dataverse's for the same faults in
 * learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes:
 * ConcurrencyVersionMismatch 0x80060882 and DuplicateRecord 0x80040237.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError, notSupported } from './http-error';

/** The row's ETag: `W/"<versionnumber>"`, as `@odata.etag` carries it. */
export const etagOf = (version: number): string => `W/"${version}"`;

const versionMismatch = (): HttpError =>
  new HttpError(
    412,
    '0x80060882',
    "The version of the existing record doesn't match the RowVersion property provided.",
  );
const duplicateRecord = (): HttpError =>
  new HttpError(412, '0x80040237', 'A record with matching key values already exists.');

type Condition = { any: true } | { any: false; tags: string[] };

/** `*`, or the opaque tags of a comma list; weak and strong tags compare alike (ETags here are all weak). */
function condition(header: string | string[] | undefined): Condition | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(',') : header;
  if (text.trim() === '*') return { any: true };
  // Anything that is not an entity-tag (such as the `If-None-Match: null` browsers are told to send) matches nothing.
  const tags = [...text.matchAll(/(?:W\/)?"([^"]*)"/g)].map((match) => match[1] ?? '');
  return { any: false, tags };
}

const matches = (wanted: Condition, version: number | undefined): boolean =>
  version !== undefined && (wanted.any || wanted.tags.includes(String(version)));

/**
 * PATCH and DELETE of one row. `current` is the row's version, undefined when it does not exist;
 * `notFound` is the 404 to answer when `If-Match` names a row that is not there.
 */
export function checkWrite(headers: IncomingHttpHeaders, current: number | undefined, notFound: () => HttpError): void {
  const ifMatch = condition(headers['if-match']);
  const ifNoneMatch = condition(headers['if-none-match']);
  if (ifMatch) {
    if (current === undefined) throw notFound();
    if (!matches(ifMatch, current)) throw versionMismatch();
  }
  // RFC 7232 §3.2 fails a write whose If-None-Match matches; Dataverse documents the `*` case.
  if (ifNoneMatch && matches(ifNoneMatch, current)) throw duplicateRecord();
}

/** GET of one row: true when the answer is 304 Not Modified. */
export function notModified(headers: IncomingHttpHeaders, current: number, annotations: boolean): boolean {
  const ifMatch = condition(headers['if-match']);
  // Undocumented for Dataverse GETs [inferred]: RFC 7232 §3.1 answers a failed If-Match with 412.
  if (ifMatch && !matches(ifMatch, current)) throw versionMismatch();
  const ifNoneMatch = condition(headers['if-none-match']);
  return ifNoneMatch !== undefined && !annotations && matches(ifNoneMatch, current);
}

/** Requests other than one row's GET/PATCH/DELETE: conditions there are not implemented, except the no-op `If-None-Match: null`. */
export function refuseConditions(headers: IncomingHttpHeaders, where: string): void {
  const ifNoneMatch = headers['if-none-match'];
  if (headers['if-match'] !== undefined || (ifNoneMatch !== undefined && ifNoneMatch.trim() !== 'null')) {
    throw notSupported(`If-Match or If-None-Match on ${where}`);
  }
}
