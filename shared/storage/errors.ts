/**
 * Azure Storage failures read and classified in one place. The SDKs throw RestError-like objects (one class per
 * package copy: @azure/storage-blob, @azure/data-tables and @azure/storage-queue each bundle their own, so
 * `instanceof RestError` misses the others); their status code and service error code are enough to classify them.
 */
import { z } from 'zod';
import { ExportError, type ErrorClass } from '../errors';

export interface StorageStatus {
  statusCode?: number;
  /** The service's error code, e.g. `ContainerNotFound`, `LeaseAlreadyPresent`. */
  code?: string;
}

const restErrorShape = z.object({ statusCode: z.number().optional(), code: z.string().optional() });

/** The HTTP status and service error code of a storage SDK error; empty for anything else. */
export function storageStatus(error: unknown): StorageStatus {
  const parsed = restErrorShape.safeParse(error);
  return parsed.success ? parsed.data : {};
}

/** True when the storage call failed with one of these HTTP statuses. */
export const hasStorageStatus = (error: unknown, ...statuses: number[]): boolean =>
  statuses.includes(storageStatus(error).statusCode ?? 0);

/** A blob (or entity) that is not there, as opposed to its whole container missing. */
export const isMissingItem = (error: unknown): boolean => {
  const { statusCode, code } = storageStatus(error);
  return statusCode === 404 && code !== 'ContainerNotFound';
};

/**
 * The class of a failed storage call: refused access (401/403) is a setting or a role a person must fix; 429 and
 * 503 are the service throttling (https://learn.microsoft.com/azure/storage/common/storage-scalability-targets);
 * everything else (5xx, dropped connections, conflicts) is worth retrying.
 */
export function storageErrorClass(error: unknown): Extract<ErrorClass, 'config' | 'throttled' | 'transient'> {
  const { statusCode } = storageStatus(error);
  if (statusCode === 401 || statusCode === 403) return 'config';
  if (statusCode === 429 || statusCode === 503) return 'throttled';
  return 'transient';
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

/** A failed call on the host storage account (state, leases) as an ExportError. */
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
  const errorClass = storageErrorClass(error);
  if (errorClass === 'config') {
    return new ExportError('config', message, {
      cause: error,
      where,
      fix: 'Give the function app identity "Storage Blob Data Owner" and "Storage Table Data Contributor" on the host storage account, or check the storage connection setting.',
    });
  }
  if (errorClass === 'throttled')
    return new ExportError('throttled', message, { cause: error, where, retryAfterMs: 1_000 });
  return new ExportError('transient', message, { cause: error, where });
}
