/**
 * Errors are values with a class, so retry, dead-letter and message logic can act on them
 * without parsing text. Every failure that crosses a module boundary is an ExportError.
 */
export type ErrorClass =
  /** Worth retrying as is: network blips, timeouts, 5xx, dropped connections. */
  | 'transient'
  /** The source asked us to slow down (429 / service-protection limits); retry after `retryAfterMs`. */
  | 'throttled'
  /** The shape of a table or response does not fit what we expect; retrying will not help until the schema changes. */
  | 'schema'
  /** One or more rows cannot be written as they are; isolate them and park them in the failed-records store. */
  | 'data'
  /** Settings, credentials or permissions are wrong; a person must fix them. */
  | 'config'
  /** A Dataverse change-tracking token is too old; the table must be re-baselined with a full resync. */
  | 'expired-token';

export interface ExportErrorOptions {
  cause?: unknown;
  /** Where the problem is: a setting name, a JSON path, a table, a URL without secrets. */
  where?: string;
  /** What a person can do about it. */
  fix?: string;
  retryAfterMs?: number;
}

export class ExportError extends Error {
  override readonly name = 'ExportError';
  readonly where?: string;
  readonly fix?: string;
  readonly retryAfterMs?: number;

  constructor(
    readonly errorClass: ErrorClass,
    message: string,
    options: ExportErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.where = options.where;
    this.fix = options.fix;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Safe to show to a person or return from the API: message, where and fix, never the cause chain. */
  toJSON(): { errorClass: ErrorClass; message: string; where?: string; fix?: string } {
    return { errorClass: this.errorClass, message: this.message, where: this.where, fix: this.fix };
  }
}

export const isRetryable = (error: ExportError): boolean =>
  error.errorClass === 'transient' || error.errorClass === 'throttled';

/** Wraps anything thrown into an ExportError; unknown failures count as transient so they are retried, never lost. */
export function toExportError(error: unknown, fallbackClass: ErrorClass = 'transient'): ExportError {
  if (error instanceof ExportError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ExportError(fallbackClass, message, { cause: error });
}
