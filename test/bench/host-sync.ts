/**
 * What the initial-sync and memory benchmarks share: the product as processes (Azurite, the emulator,
 * PostgreSQL 15 server, one local host as a child process) doing a whole initial sync of the sample org,
 * watched from outside — the status route for progress, the host's `copied page` log lines for the
 * stages' times, and /proc for the host's memory. The emulator lives in this process, so the host's
 * resident set is the product's alone.
 */
import { readFileSync } from 'node:fs';
import { startProcessProduct, type ProcessProduct } from '../support/product-processes';
import { waitFor } from '../support/wait';
import type { HostProcess } from '../../local/host/process';
import { meterProcess, recordHostUsage, type UsageMeter } from './cost';
import { activateAndWait, postmasterPid, SCHEMA, startCpuMeter } from './product-bench';

export interface HostSyncOptions {
  accounts: number;
  /** Generated contacts; the sample org's 1.5 per account when absent. */
  contacts?: number;
  tables: string[];
  /** Tables copying a page at the same time; the product's default when absent. */
  fanOut?: number;
  seed?: number;
  /** V8's old-space limit for the host (`--max-old-space-size`); V8 sizes it from the machine's memory when absent. */
  hostHeapLimitMb?: number;
  timeoutMs?: number;
}

/** One `copied page` log line of the host. */
export interface CopiedPage {
  table: string;
  rows: number;
  readMs: number;
  applyMs: number;
  /** When the host logged the line (the page's apply had just ended), ms since the epoch. */
  loggedAt: number;
}

export interface HostSync {
  product: ProcessProduct;
  host: HostProcess;
  /** The destination schema the profile writes to. */
  schema: string;
  /** From the activation request to every table in delta phase, as the status route reports it. */
  seconds: number;
  /** Per table: rows the initial sync copied, and rows the destination holds. */
  tables: Array<{ table: string; rowsCopied: number; rowsInDestination: number | null }>;
  pages: CopiedPage[];
  /** The host's resident set before activation (started and idle), and its peak by the end. */
  hostIdleRssMb: number;
  hostPeakRssMb: number;
  /** CPU over the sync: the machine's, and this process (the emulator serving the pages), the host and PostgreSQL as shares of one core. */
  cpu: Record<string, number>;
}

/** A copied page's log line, or a copied partition's (a table read in partitions, docs/notes/parallel-initial-sync.md). */
const copiedPageLine =
  /(\d{4}-\d\d-\d\dT[\d:.]+Z) .*copied (?:page|partitions?) profile="[^"]+" table="([^"]+)" (?:page|partition)=\d+ (?:stride=\d+ count=\d+ )?rows=(\d+) readMs=(\d+) applyMs=(\d+)$/;

/** A host log line of a copied page or lane of partitions (functions/copy-page.ts, functions/copy-partition.ts). */
export function parseCopiedLine(line: string): CopiedPage | undefined {
  const match = copiedPageLine.exec(line);
  if (!match) return undefined;
  const [, loggedAt, table, rows, readMs, applyMs] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    table,
    rows: Number(rows),
    readMs: Number(readMs),
    applyMs: Number(applyMs),
    loggedAt: Date.parse(loggedAt),
  };
}

/** A `/proc/<pid>/status` figure (VmRSS, VmHWM) in MB: Linux only, as the benchmarks' memory figures are. */
export function procMemoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`/proc/${pid}/status has no ${field}: the memory figures need Linux`);
  return Math.round(Number(kb) / 1024);
}

/** Runs the initial sync of `options.tables` through one host process, hands the result to `use`, then stops everything. */
export async function withHostSync<T>(options: HostSyncOptions, use: (sync: HostSync) => Promise<T>): Promise<T> {
  const pages: CopiedPage[] = [];
  const product = await startProcessProduct({
    emulator: {
      seed: options.seed ?? 1,
      accounts: options.accounts,
      ...(options.contacts === undefined ? {} : { contacts: options.contacts }),
    },
    ...(options.fanOut ? { fanOut: options.fanOut } : {}),
    env: {
      LOG_LEVEL: 'information',
      ...(options.hostHeapLimitMb ? { NODE_OPTIONS: `--max-old-space-size=${options.hostHeapLimitMb}` } : {}),
    },
    log: (line) => {
      const page = parseCopiedLine(line);
      if (page) pages.push(page);
    },
  });
  let hostMeter: UsageMeter | undefined;
  try {
    const host = await product.startHost();
    // From its start (start-up is billed too) to the end of the sync, for the runner's cost per million rows (test/bench/run.ts).
    hostMeter = meterProcess(host.pid);
    const postgres = await postmasterPid(product.postgres.connectionString);
    const measuring: { idleRssMb?: number; cpu?: ReturnType<typeof startCpuMeter>; started?: bigint } = {};
    const tables = await activateAndWait(product, host, {
      tables: options.tables,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      onActivating: () => {
        measuring.idleRssMb = procMemoryMb(host.pid, 'VmRSS');
        measuring.cpu = startCpuMeter({ host: host.pid, ...(postgres === undefined ? {} : { postgres }) });
        measuring.started = process.hrtime.bigint();
      },
    });
    const started = measuring.started as bigint;
    const hostIdleRssMb = measuring.idleRssMb as number;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = (measuring.cpu as ReturnType<typeof startCpuMeter>).stop();
    // Up to the end of the sync: what the benchmark does with the result afterwards is not the host's work.
    recordHostUsage(hostMeter.stop());
    hostMeter = undefined;
    // A page's log line follows its status update, so the last lines may still be on their way.
    const copied = tables.reduce((sum, table) => sum + table.initialRowsCopied, 0);
    await waitFor(
      "the last pages' log lines",
      () => (pages.reduce((sum, page) => sum + page.rows, 0) >= copied ? true : undefined),
      10_000,
    );
    return await use({
      product,
      host,
      schema: SCHEMA,
      seconds,
      tables: tables.map((table) => ({
        table: table.table,
        rowsCopied: table.initialRowsCopied,
        rowsInDestination: table.rowsInDestination,
      })),
      pages,
      hostIdleRssMb,
      hostPeakRssMb: procMemoryMb(host.pid, 'VmHWM'),
      cpu,
    });
  } finally {
    if (hostMeter) recordHostUsage(hostMeter.stop());
    await product.stop();
  }
}

/** Fails unless every table holds exactly the rows the emulator generated for it, so no figure rests on a short sync. */
export function assertComplete(sync: HostSync): number {
  let total = 0;
  for (const { table, rowsCopied, rowsInDestination } of sync.tables) {
    const expected = sync.product.emulator.store.counts[table as keyof typeof sync.product.emulator.store.counts];
    if (rowsCopied !== expected || rowsInDestination !== expected) {
      throw new Error(
        `${table}: the source has ${expected} rows, the sync copied ${rowsCopied} and the destination holds ${rowsInDestination}`,
      );
    }
    const logged = sync.pages.filter((page) => page.table === table).reduce((sum, page) => sum + page.rows, 0);
    if (logged !== expected)
      throw new Error(`${table}: the host logged ${logged} copied rows, the source has ${expected}`);
    total += expected;
  }
  return total;
}
