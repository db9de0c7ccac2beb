/** Console logging for the local host, in the levels the Functions host uses. */
import type { LogHandler, LogLevel } from '@azure/functions';
import { format } from 'node:util';

const order: Record<LogLevel, number> = {
  trace: 0,
  debug: 1,
  information: 2,
  warning: 3,
  error: 4,
  critical: 5,
  none: 6,
};

export type MinimumLogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'none';

export interface HostLog {
  handlerFor(functionName: string): LogHandler;
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

export function consoleLog(
  minimum: MinimumLogLevel,
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): HostLog {
  const emit = (level: LogLevel, source: string, args: unknown[]) => {
    if (order[level] < order[minimum] || level === 'none') return;
    write(`${new Date().toISOString()} ${level.padEnd(11)} ${source}: ${format(...args)}`);
  };
  return {
    handlerFor:
      (functionName) =>
      (level, ...args) =>
        emit(level, functionName, args),
    info: (message) => emit('information', 'host', [message]),
    warn: (message) => emit('warning', 'host', [message]),
    error: (message, error) => emit('error', 'host', error === undefined ? [message] : [message, error]),
  };
}
