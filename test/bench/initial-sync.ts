/**
 * `npm run bench -- initial-sync [--accounts N] [--contacts N] [--fan-out F] [--seed S]`: the initial sync of
 * `account` (~40 columns, every type) and `contact` (200,000 rows each by default) from the emulator to a
 * PostgreSQL 15 server, end to end through one local host process, then — in the same run, on the same
 * server — a raw `COPY` of the same rows into empty copies of the same tables.
 *
 * Figures: end-to-end rows/s (activation to every table in delta phase); the apply stage's rows/s: rows over
 * the wall time during which at least one page was being applied (pages of different tables are applied at
 * the same time, `--fan-out`, so their apply times overlap), and per apply stream (rows over the summed apply
 * times, each stretched by the other table's read and apply and by the emulator on the same cores); the read
 * stage's per stream alike; raw COPY rows/s; and the ratios apply/COPY (target ≥ 0.70, the stage figure) and
 * end-to-end/COPY (target ≥ 0.50).
 */
import { loadavg } from 'node:os';
import { z } from 'zod';
import { assertComplete, withHostSync, type CopiedPage } from './host-sync';
import { rawCopy } from './raw-copy';
import { option } from './sample-upserts';

const TABLES = ['account', 'contact'];

const rate = (rows: number, seconds: number): number => Math.round(rows / seconds);
const ratio = (part: number, whole: number): number => Number((part / whole).toFixed(2));
const stageSeconds = (pages: CopiedPage[], stage: 'readMs' | 'applyMs'): number =>
  pages.reduce((sum, page) => sum + page[stage], 0) / 1000;

/** Wall time covered by at least one page's apply: the union of the [end − applyMs, end] intervals. */
function applyWallSeconds(pages: CopiedPage[]): number {
  const intervals = pages
    .map((page) => [page.loggedAt - page.applyMs, page.loggedAt] as const)
    .sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let reach = Number.NEGATIVE_INFINITY;
  for (const [start, end] of intervals) {
    covered += Math.max(0, end - Math.max(start, reach));
    reach = Math.max(reach, end);
  }
  return covered / 1000;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const accounts = option(args, 'accounts', 200_000);
  const contacts = option(args, 'contacts', 200_000);
  const seed = option(args, 'seed', 1);
  const fanOut = args.includes('--fan-out') ? option(args, 'fan-out', 4) : undefined;
  const loadBefore = loadavg()[0] ?? 0;
  return withHostSync({ accounts, contacts, seed, tables: TABLES, ...(fanOut ? { fanOut } : {}) }, async (sync) => {
    const rows = assertComplete(sync);
    const copied = await rawCopy(
      sync.product.postgres.connectionString,
      sync.schema,
      sync.product.emulator.store,
      TABLES,
    );
    z.literal(rows).parse(copied.rows);
    const endToEnd = rate(rows, sync.seconds);
    const apply = rate(rows, applyWallSeconds(sync.pages));
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
      readPerStreamRowsPerSecond: rate(rows, stageSeconds(sync.pages, 'readMs')),
      applyRowsPerSecond: apply,
      applyPerStreamRowsPerSecond: rate(rows, stageSeconds(sync.pages, 'applyMs')),
      rawCopyRowsPerSecond: copy,
      applyVsRawCopy: ratio(apply, copy),
      endToEndVsRawCopy: ratio(endToEnd, copy),
      hostPeakRssMb: sync.hostPeakRssMb,
      cpu: sync.cpu,
      target: 'applyVsRawCopy >= 0.70, endToEndVsRawCopy >= 0.50',
    };
  });
}
