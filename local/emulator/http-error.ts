/**
 * Failures the emulator answers with Dataverse's error body, `{"error":{"code":"0x…","message":"…"}}`
 * (learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors).
 */
import type { TableMetadata } from '../../shared/dataverse/metadata';

export const CRM = 'Microsoft.Dynamics.CRM.';

/** A failure answered with a Dataverse error body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Something Dataverse does that the emulator does not: 501 and a message saying so, never a silent
 * approximation. Dataverse has no code for "not implemented here"; 0x80040203 (InvalidArgument) is the
 * closest of its documented codes.
 */
export const notSupported = (what: string): HttpError =>
  new HttpError(501, '0x80040203', `The emulator does not implement ${what}`);

export const unknownProperty = (name: string, type: string): HttpError =>
  new HttpError(400, '0x80060888', `Could not find a property named '${name}' on type '${CRM}${type}'.`);

/** ObjectDoesNotExist, as Dataverse answers a missing row. */
export const rowNotFound = (table: TableMetadata, id: string): HttpError =>
  new HttpError(404, '0x80040217', `Entity '${table.logicalName}' With Id = ${id} Does Not Exist`);

/**
 * A first segment that is no entity set of the sample org. An unknown set is Dataverse's 404; batches,
 * `$metadata`, the service document, functions and actions exist in Dataverse but not here.
 */
export function unknownSegment(segment: string, method: string): HttpError {
  if (segment === '') return notSupported('the service document');
  if (segment.startsWith('$')) return notSupported(`'${segment}'`);
  if (segment.includes('(') || method === 'POST') return notSupported(`'${segment}': unbound functions and actions`);
  return new HttpError(404, '0x8006088a', `Resource not found for the segment '${segment}'.`);
}
