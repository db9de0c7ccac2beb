/**
 * `npm run bench -- initial-sync [--accounts N] [--contacts N] [--fan-out F] [--seed S]`: the initial sync of
 * `account` (~40 columns, every type) and `contact` (200,000 rows each by default) from the emulator to a
 * PostgreSQL 15 server, end to end through one local host process, then — in the same run, on the same
 * server — a raw `COPY` of the same rows into empty copies of the same tables.
 *
 * Figures: end-to-end rows/s (activation to every table in delta phase); the apply stage's rows/s (rows
 * over the summed apply time the host logs per page); the read stage's alike; raw COPY rows/s; and the
 * ratios apply/COPY (target ≥ 0.70) and end-to-end/COPY (target ≥ 0.50). Pages of different tables are
 * copied at the same time (`--fan-out`, the product's default 4), so each apply shares the cores with the
 * other table's read and apply and with the emulator: the apply figure is per apply stream, under the
 * sync's own load.
 */
import { loadavg } from 'node:os';
import { z } from 'zod';
import { assertComplete, withHostSync, type CopiedPage } from './host-sync';
import { rawCopy } from './raw-copy';
import { option } from './sample-upserts';

const TABLES = ['account', 'contact'];

const rate = (rows: number, seconds: number): number => Math.round(rows / seconds);
const ratio = (part: number, whole: number): number => Number((part / whole).toFixed(2));
const stageSeconds = (pages: CopiedPage[], stage: 'readMs' | 'applyMs'): number => pages.reduce((sum, page) => sum + page[stage], 0) / 1000;

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const accounts = option(args, 'accounts', 200_000);
  const contacts = option(args, 'contacts', 200_000);
  const seed = option(args, 'seed', 1);
  const fanOut = args.includes('--fan-out') ? option(args, 'fan-out', 4) : undefined;
  const loadBefore = loadavg()[0] ?? 0;
  return withHostSync({ accounts, contacts, seed, tables: TABLES, ...(fanOut ? { fanOut } : {}) }, async (sync) => {
    const rows = assertComplete(sync);
    const copied = await rawCopy(sync.product.postgres.connectionString, sync.schema, sync.product.emulator.store, TABLES);
    z.literal(rows).parse(copied.rows);
    const endToEnd = rate(rows, sync.seconds);
    const apply = rate(rows, stageSeconds(sync.pages, 'applyMs'));
    const copy = rate(rows, copied.seconds);
    return {
      benchmark: 'initial-sync',
      destination: 'PostgreSQL 15 server (throwaway, fsync off), through one local host process',
      tables: Object.fromEntries(sync.tables.map((table) => [table.table, table.rowsCopied])),
      rows,
      pages: sync.pages.length,
      fanOut: fanOut ?? 'product default (4)',
      loadAverageBefore: Number(loadBefore.toFixed(1)),
      loadAverageAfter: Number((loadavg()[0] ?? 0).toFixed(1)),
      endToEndSeconds: Number(sync.seconds.toFixed(1)),
      endToEndRowsPerSecond: endToEnd,
      readRowsPerSecond: rate(rows, stageSeconds(sync.pages, 'readMs')),
      applyRowsPerSecond: apply,
      rawCopyRowsPerSecond: copy,
      applyVsRawCopy: ratio(apply, copy),
      endToEndVsRawCopy: ratio(endToEnd, copy),
      hostPeakRssMb: sync.hostPeakRssMb,
      target: 'applyVsRawCopy >= 0.70, endToEndVsRawCopy >= 0.50',
    };
  });
}
