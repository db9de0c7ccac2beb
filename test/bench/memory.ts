/**
 * `npm run bench -- memory [--small N] [--large N] [--seed S] [--host-heap-mb M]`: peak resident set (Linux VmHWM) of one
 * local host process through the initial sync of `--small` (default 50,000) and then `--large` (default
 * 500,000) `account` rows — the widest sample table, ~40 columns of every type — from the emulator into a
 * PostgreSQL 15 server. Each size gets a fresh product and host, so each peak is its own. A host that
 * streams page by page peaks at the same height whatever the table's size.
 * Targets: each peak ≤ 400 MB, and the large run's peak less than 50 MB above the small one's.
 *
 * V8 sizes the host's heap from the machine's memory and collects lazily, so the peak shows how far the
 * garbage of a few pages piles up between full collections as much as what is live. `--host-heap-mb`
 * caps the old space (`--max-old-space-size`), which makes the collector keep the heap near its live size:
 * the same runs then show the working set itself.
 */
import { loadavg } from 'node:os';
import { assertComplete, withHostSync } from './host-sync';
import { option } from './sample-upserts';

async function peakFor(accounts: number, seed: number, hostHeapLimitMb: number | undefined) {
  return withHostSync(
    { accounts, seed, tables: ['account'], ...(hostHeapLimitMb ? { hostHeapLimitMb } : {}) },
    async (sync) => {
      assertComplete(sync);
      return {
        rows: accounts,
        seconds: Number(sync.seconds.toFixed(1)),
        idleRssMb: sync.hostIdleRssMb,
        peakRssMb: sync.hostPeakRssMb,
      };
    },
  );
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const small = option(args, 'small', 50_000);
  const large = option(args, 'large', 500_000);
  const seed = option(args, 'seed', 1);
  const hostHeapLimitMb = args.includes('--host-heap-mb') ? option(args, 'host-heap-mb', 0) : undefined;
  const loadBefore = loadavg()[0] ?? 0;
  const smallRun = await peakFor(small, seed, hostHeapLimitMb);
  const largeRun = await peakFor(large, seed, hostHeapLimitMb);
  return {
    benchmark: 'memory',
    table: 'account',
    process: 'local host (node --import tsx local/host/main.ts), PostgreSQL 15 server destination',
    hostHeapLimitMb: hostHeapLimitMb ?? 'V8 default for this machine',
    loadAverageBefore: Number(loadBefore.toFixed(1)),
    loadAverageAfter: Number((loadavg()[0] ?? 0).toFixed(1)),
    small: smallRun,
    large: largeRun,
    smallPeakRssMb: smallRun.peakRssMb,
    largePeakRssMb: largeRun.peakRssMb,
    peakDifferenceMb: largeRun.peakRssMb - smallRun.peakRssMb,
    target: 'each peak <= 400 MB, peakDifferenceMb < 50',
  };
}
