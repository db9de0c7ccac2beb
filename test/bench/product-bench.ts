/**
 * What the delta-latency and scale-out benchmarks share: the product as processes with one `account`
 * profile in delta phase, a log of what reaches the destination with each row's commit time, the CPU each
 * part used, and percentiles.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { Client } from 'pg';
import { z } from 'zod';
import type { EmulatorOptions, SourceWrite } from '../../local/emulator/server';
import type { HostProcess } from '../../local/host/process';
import { startProcessProduct, type ProcessProduct } from '../support/product-processes';
import { waitFor } from '../support/wait';

export const PROFILE = 'bench';
export const SCHEMA = 'bench';
/** The emulator's seed: the workload needs it to address the generated rows. */
export const SAMPLE_SEED = 3;

/** Starts the product with commit timestamps on, so a row's arrival is the commit of the transaction that wrote it. */
export function startBenchProduct(options: {
  accounts: number;
  observers?: Pick<EmulatorOptions, 'onWrite' | 'onDeltaRead'>;
  env?: Record<string, string>;
}): Promise<ProcessProduct> {
  return startProcessProduct({
    emulator: { seed: SAMPLE_SEED, accounts: options.accounts, ...options.observers },
    postgres: { settings: { track_commit_timestamp: 'on' } },
    ...(options.env ? { env: options.env } : {}),
  });
}

const statusSchema = z.object({
  tables: z.array(
    z.object({
      table: z.string(),
      phase: z.string(),
      initialRowsCopied: z.number(),
      rowsInDestination: z.number().nullable(),
    }),
  ),
});
export type TableSyncStatus = z.infer<typeof statusSchema>['tables'][number];

/**
 * Creates the benchmark profile for `tables` through `host`, activates it, and waits until every table is in
 * delta phase; returns the tables' status then. `onActivating` runs just before the activation request (the
 * start of an initial-sync measurement).
 */
export async function activateAndWait(
  product: ProcessProduct,
  host: HostProcess,
  options: { tables: string[]; timeoutMs?: number; onActivating?: () => void },
): Promise<TableSyncStatus[]> {
  const put = await host.call(
    'PUT',
    `profiles/${PROFILE}`,
    product.postgresProfile(SCHEMA, { tables: options.tables }),
  );
  if (put.status >= 300)
    throw new Error(`Creating the benchmark profile failed (${put.status}): ${JSON.stringify(put.body)}`);
  options.onActivating?.();
  const activated = await host.call('POST', `profiles/${PROFILE}/activate`);
  if (activated.status !== 202)
    throw new Error(`Activating the benchmark profile failed (${activated.status}): ${JSON.stringify(activated.body)}`);
  return waitFor(
    `the initial sync of ${options.tables.join(', ')} to finish`,
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      // A busy host can stall past its keep-alive timeout and reset the reused connection: ask again.
      const answer = await host.call('GET', `profiles/${PROFILE}/status`).catch((error: unknown) => {
        if (!product.hosts.includes(host))
          throw new Error('The host process ended during the initial sync', { cause: error });
        return undefined;
      });
      if (answer === undefined) return undefined;
      const { tables } = statusSchema.parse(answer.body);
      return tables.length > 0 && tables.every((table) => table.phase === 'delta') ? tables : undefined;
    },
    options.timeoutMs ?? 1_800_000,
  );
}

/** A row version that reached the destination, and when its transaction committed (ms since the epoch). */
export interface Arrival {
  id: string;
  version: number;
  committedAt: number;
}

export interface ArrivalLog {
  read(): Promise<Arrival[]>;
  /** How many versions arrived since the last clear, and the first and last commit among them. */
  summary(): Promise<{ rows: number; firstCommit: number; lastCommit: number }>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Row triggers on the destination's `account` table and its tombstones record every version written, and
 * PostgreSQL's commit timestamp of the writing transaction dates it: `SinkModifiedOn` is `now()`, the
 * transaction's start, which would under-report by the apply's own duration. The triggers are the
 * benchmark's, added after the initial sync; they cost one small insert per applied row.
 */
export async function installArrivalLog(connectionString: string): Promise<ArrivalLog> {
  const client = new Client({ connectionString });
  await client.connect();
  const setting = await client.query<{ track_commit_timestamp: string }>('SHOW track_commit_timestamp');
  if (setting.rows[0]?.track_commit_timestamp !== 'on') {
    await client.end();
    throw new Error(
      'The benchmark needs track_commit_timestamp = on on the PostgreSQL server (set it in postgresql.conf and restart, or leave PG_CONNECTION_STRING unset).',
    );
  }
  await client.query(`
    DROP SCHEMA IF EXISTS dvx_bench CASCADE;
    CREATE SCHEMA dvx_bench;
    CREATE UNLOGGED TABLE dvx_bench.arrivals (id uuid NOT NULL, version bigint NOT NULL);
    CREATE FUNCTION dvx_bench.log_row() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO dvx_bench.arrivals VALUES (NEW."Id", NEW."versionnumber"); RETURN NULL; END $$;
    CREATE FUNCTION dvx_bench.log_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO dvx_bench.arrivals VALUES (NEW."RecordId", NEW."VersionNumber"); RETURN NULL; END $$;
    CREATE TRIGGER dvx_bench_arrival AFTER INSERT OR UPDATE ON "${SCHEMA}"."account"
      FOR EACH ROW EXECUTE FUNCTION dvx_bench.log_row();
    CREATE TRIGGER dvx_bench_arrival AFTER INSERT OR UPDATE ON "${SCHEMA}"."Tombstone"
      FOR EACH ROW WHEN (NEW."EntityName" = 'account') EXECUTE FUNCTION dvx_bench.log_tombstone();
  `);
  return {
    async read() {
      const result = await client.query<{ id: string; version: string; committed: number }>(
        `SELECT id::text AS id, version::text AS version, extract(epoch FROM pg_xact_commit_timestamp(xmin))::float8 * 1000 AS committed FROM dvx_bench.arrivals`,
      );
      return result.rows.map((row) => ({ id: row.id, version: Number(row.version), committedAt: row.committed }));
    },
    async summary() {
      const result = await client.query<{ rows: string; first: number | null; last: number | null }>(
        `SELECT count(*)::text AS rows, extract(epoch FROM min(pg_xact_commit_timestamp(xmin)))::float8 * 1000 AS first,
           extract(epoch FROM max(pg_xact_commit_timestamp(xmin)))::float8 * 1000 AS last FROM dvx_bench.arrivals`,
      );
      const row = result.rows[0];
      return { rows: Number(row?.rows ?? 0), firstCommit: row?.first ?? NaN, lastCommit: row?.last ?? NaN };
    },
    async clear() {
      await client.query('TRUNCATE dvx_bench.arrivals');
    },
    async close() {
      await client.end();
    },
  };
}

export interface TimedWrite extends SourceWrite {
  /** When the emulator committed it (ms since the epoch). */
  at: number;
}

/**
 * When each write reached the destination: the first commit of a version at or above the write's (a later
 * write to the same row that arrived first covers it, as Dataverse's delta only has a row's latest state).
 */
export function arrivalTimes(writes: readonly TimedWrite[], arrivals: readonly Arrival[]): Array<number | undefined> {
  const byId = new Map<string, Arrival[]>();
  for (const arrival of arrivals) {
    const list = byId.get(arrival.id) ?? [];
    list.push(arrival);
    byId.set(arrival.id, list);
  }
  // Per id, by version, with the earliest commit of that version or any higher one.
  const earliestFrom = new Map<string, Array<{ version: number; earliest: number }>>();
  for (const [id, list] of byId) {
    list.sort((a, b) => a.version - b.version);
    const suffix: Array<{ version: number; earliest: number }> = new Array(list.length);
    let earliest = Infinity;
    for (let index = list.length - 1; index >= 0; index--) {
      const arrival = list[index] as Arrival;
      earliest = Math.min(earliest, arrival.committedAt);
      suffix[index] = { version: arrival.version, earliest };
    }
    earliestFrom.set(id, suffix);
  }
  return writes.map((write) => earliestFrom.get(write.id)?.find((entry) => entry.version >= write.version)?.earliest);
}

export { percentile } from './stats';

const CLOCK_TICKS_PER_SECOND = 100;

/** A process's parent and its user + system CPU seconds so far, from /proc (Linux). */
function processStat(pid: number): { parent: number; cpuSeconds: number } | undefined {
  try {
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return {
      parent: Number(fields[1]),
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND,
    };
  } catch {
    return undefined;
  }
}

/** A process and its children (PostgreSQL's backends), summed; children that exited in between are not counted. */
function treeCpuSeconds(pid: number): number | undefined {
  const own = processStat(pid);
  if (!own) return undefined;
  let total = own.cpuSeconds;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = processStat(Number(entry));
    if (stat?.parent === pid) total += stat.cpuSeconds;
  }
  return total;
}

/** The PostgreSQL server's main process: the parent of any backend. */
export async function postmasterPid(connectionString: string): Promise<number | undefined> {
  const client = new Client({ connectionString });
  await client.connect();
  try {
    const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    return backend === undefined ? undefined : processStat(backend)?.parent;
  } finally {
    await client.end();
  }
}

function machineTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, irq, idle } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + irq + idle;
  }
  return { busy, total };
}

/**
 * CPU use over a window: the whole machine (all cores, whoever uses them), and named processes with their
 * children (PostgreSQL's backends) as a share of one core. On a shared 2-core machine this says whether the machine, not the product, was the limit.
 */
export function startCpuMeter(processes: Record<string, number>): { stop(): Record<string, number> } {
  const started = performance.now();
  const machine = machineTimes();
  const self = process.cpuUsage();
  const before = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, treeCpuSeconds(pid)]));
  return {
    stop() {
      const wallSeconds = (performance.now() - started) / 1000;
      const now = machineTimes();
      const percentOfOneCore = (cpuSeconds: number) => Math.round((cpuSeconds / wallSeconds) * 100);
      const selfUsage = process.cpuUsage(self);
      const figures: Record<string, number> = {
        machineBusyPercentOfAllCores: Math.round(((now.busy - machine.busy) / (now.total - machine.total)) * 100),
        benchmarkProcessPercentOfOneCore: percentOfOneCore((selfUsage.user + selfUsage.system) / 1e6),
      };
      for (const [name, pid] of Object.entries(processes)) {
        const after = treeCpuSeconds(pid);
        const earlier = before[name];
        if (after !== undefined && earlier !== undefined)
          figures[`${name}PercentOfOneCore`] = percentOfOneCore(after - earlier);
      }
      return figures;
    },
  };
}

export const round = (value: number, digits = 0): number => Number(value.toFixed(digits));

export const loadAverage = (): number => round(os.loadavg()[0] ?? 0, 1);
