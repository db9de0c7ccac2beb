/**
 * Azure Storage failures as ExportErrors. The SDKs throw RestError-like objects (one class per package copy, so
 * `instanceof` is unreliable); their status code and service error code are enough to classify them.
 */
import { z } from 'zod';
import { ExportError, type ErrorClass } from '../errors';

/** Error classes as stored in status and failed records, read back with a check. */
export const errorClassSchema = z.enum([
  'transient',
  'throttled',
  'schema',
  'data',
  'config',
  'expired-token',
] satisfies ErrorClass[]);

const restErrorShape = z.object({ statusCode: z.number().optional(), code: z.string().optional() });

export function storageStatus(error: unknown): { statusCode?: number; code?: string } {
  const parsed = restErrorShape.safeParse(error);
  return parsed.success ? parsed.data : {};
}

/**
 * Another writer changed the item since it was read (ETag mismatch) or created it first. Transient: re-read
 * and decide again. Its own class so callers (an HTTP API answering 412, a retry loop) can tell it apart.
 */
export class WriteConflict extends ExportError {
  constructor(what: string, where: string) {
    super('transient', `${what}: someone else changed it since it was read; re-read it and try again`, { where });
  }
}

export function storageFailure(error: unknown, what: string, where: string): ExportError {
  if (error instanceof ExportError) return error;
  const { statusCode, code } = storageStatus(error);
  const detail =
    statusCode === undefined
      ? error instanceof Error
        ? error.message
        : String(error)
      : `HTTP ${statusCode}${code ? ` ${code}` : ''}`;
  const message = `${what} failed (${detail})`;
  if (statusCode === 401 || statusCode === 403) {
    return new ExportError('config', message, {
      cause: error,
      where,
      fix: 'Give the function app identity "Storage Blob Data Owner" and "Storage Table Data Contributor" on the host storage account, or check the storage connection setting.',
    });
  }
  if (statusCode === 429 || statusCode === 503)
    return new ExportError('throttled', message, { cause: error, where, retryAfterMs: 1_000 });
  return new ExportError('transient', message, { cause: error, where });
}
