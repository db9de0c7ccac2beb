/**
 * Structured logs with profile/table/batch ids, written through the invocation's own logger (so the
 * Functions host routes them to Application Insights) and always redacted: no secret reaches a log line.
 */
import { redactor } from './redaction';

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, error?: unknown, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  with(fields: LogFields): Logger;
}

/** The part of InvocationContext (or any host log) a logger writes to. */
export interface LogSink {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

function line(message: string, fields: LogFields): string {
  const present = Object.entries(fields).filter(([, value]) => value !== undefined);
  const suffix =
    present.length === 0 ? '' : ` ${present.map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(' ')}`;
  return redactor.redact(`${message}${suffix}`);
}

const describeError = (error: unknown): string =>
  error instanceof Error
    ? `${error.name}: ${error.message}${error.cause instanceof Error ? ` (cause: ${error.cause.message})` : ''}`
    : String(error);

export function createLogger(sink: LogSink, base: LogFields = {}): Logger {
  return {
    info: (message, fields = {}) => sink.log(line(message, { ...base, ...fields })),
    warn: (message, fields = {}) => sink.warn(line(message, { ...base, ...fields })),
    error: (message, error, fields = {}) =>
      sink.error(line(error === undefined ? message : `${message}: ${describeError(error)}`, { ...base, ...fields })),
    with: (fields) => createLogger(sink, { ...base, ...fields }),
  };
}
