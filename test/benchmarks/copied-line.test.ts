/**
 * The benchmarks count copied rows from the host's log lines (test/bench/host-sync.ts): when the partition activity
 * started logging a lane ("copied partitions … stride= count="), the initial-sync benchmark waited for rows it could
 * not see and failed. Lines here are written by the product's logger as the activities write them.
 */
import { InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/telemetry/logger';
import { parseCopiedLine } from '../bench/host-sync';

function logged(message: string, fields: Record<string, number>): string {
  const lines: string[] = [];
  const context = new InvocationContext({ logHandler: (_level, ...args) => lines.push(args.join(' ')) });
  createLogger(context, { profile: 'bench', table: 'account' }).info(message, fields);
  // The local host's console prefix (local/host/console-log.ts).
  return `2026-12-02T07:40:00.000Z information CopyPartition: ${lines[0] ?? ''}`;
}

describe("the benchmarks' reading of copied-rows log lines", () => {
  it('reads a page, a partition and a lane of partitions', () => {
    const timing = { rows: 250, readMs: 12, applyMs: 34 };
    const expected = {
      table: 'account',
      rows: 250,
      readMs: 12,
      applyMs: 34,
      loggedAt: Date.parse('2026-12-02T07:40:00.000Z'),
    };
    expect(parseCopiedLine(logged('copied page', { page: 3, ...timing }))).toEqual(expected);
    expect(parseCopiedLine(logged('copied partition', { partition: 3, ...timing }))).toEqual(expected);
    expect(parseCopiedLine(logged('copied partitions', { partition: 3, stride: 8, count: 8, ...timing }))).toEqual(
      expected,
    );
    expect(parseCopiedLine(logged('applied batch', { batch: 1, ...timing }))).toBeUndefined();
  });
});
