/**
 * What a benchmark's run would cost on Azure Functions Flex Consumption: the product process's CPU-seconds
 * and peak resident set, per million rows synced, turned into GB-seconds and dollars with Microsoft's
 * published on-demand prices (BENCHMARKS.md, "How the cost is estimated", says where they come from).
 *
 * Flex Consumption bills the instance memory size the app chose (512 MB, 2,048 MB or 4,096 MB) for the
 * seconds an instance is executing functions — not the process's resident set — so the estimate picks the
 * smallest instance size the measured peak fits in, and bills it for the seconds the product was busy.
 * The destination database, storage account and Service Bus are billed separately and are not in it.
 */
import { readFileSync } from 'node:fs';

/** On-demand Flex Consumption prices (USD, pay-as-you-go, East US), as cited in BENCHMARKS.md. */
export const FLEX_CONSUMPTION = {
  usdPerGbSecond: 0.000026,
  usdPerMillionExecutions: 0.4,
  instanceMemoryMb: [512, 2048, 4096] as const,
  pricesAsOf: '2025-05',
} as const;

export interface ProcessUsage {
  /** User + system CPU seconds the process used. */
  cpuSeconds: number;
  /** Peak resident set (MB). */
  peakRssMb: number;
  /** Seconds the process was measured while it worked: what an on-demand instance is billed for. */
  busySeconds: number;
}

export interface CostFigures {
  rows: number;
  /** The measured process(es): the host in a child process, or the benchmark process itself. */
  measured: string;
  cpuSeconds: number;
  peakRssMb: number;
  busySeconds: number;
  cpuSecondsPerMillionRows: number;
  /** Peak resident set × busy seconds: what the process itself held. */
  rssGbSecondsPerMillionRows: number;
  /** The smallest Flex Consumption instance memory the peak fits in (4,096 with `fits: false` when none does). */
  instanceMemoryMb: number;
  fitsInstance: boolean;
  /** Instance memory × busy seconds: what Flex Consumption bills. */
  billedGbSecondsPerMillionRows: number;
  /** The billed GB-seconds at the on-demand price; executions are not counted (see BENCHMARKS.md). */
  estimatedUsdPerMillionRows: number;
  /** The same if the instance were busy only for the CPU-seconds (an idle machine, one core): the floor. */
  estimatedUsdPerMillionRowsAtCpuTime: number;
}

const rounded = (value: number, digits: number): number => Number(value.toFixed(digits));

/** The smallest instance memory size at or above `peakRssMb`. */
export function instanceMemoryFor(peakRssMb: number): { instanceMemoryMb: number; fits: boolean } {
  const size = FLEX_CONSUMPTION.instanceMemoryMb.find((candidate) => candidate >= peakRssMb);
  return size === undefined ? { instanceMemoryMb: 4096, fits: false } : { instanceMemoryMb: size, fits: true };
}

/** Usage of one or more processes (instances) over `rows` rows, per million rows and in dollars. */
export function costPerMillionRows(rows: number, measured: string, usages: readonly ProcessUsage[]): CostFigures {
  const perMillion = (value: number) => (rows > 0 ? (value * 1_000_000) / rows : Number.NaN);
  let cpuSeconds = 0;
  let busySeconds = 0;
  let rssGbSeconds = 0;
  let billedGbSeconds = 0;
  let cpuGbSeconds = 0;
  let peakRssMb = 0;
  let fitsInstance = true;
  let instanceMemoryMb: number = FLEX_CONSUMPTION.instanceMemoryMb[0];
  for (const usage of usages) {
    const instance = instanceMemoryFor(usage.peakRssMb);
    cpuSeconds += usage.cpuSeconds;
    busySeconds += usage.busySeconds;
    rssGbSeconds += (usage.peakRssMb / 1024) * usage.busySeconds;
    billedGbSeconds += (instance.instanceMemoryMb / 1024) * usage.busySeconds;
    cpuGbSeconds += (instance.instanceMemoryMb / 1024) * usage.cpuSeconds;
    peakRssMb = Math.max(peakRssMb, usage.peakRssMb);
    instanceMemoryMb = Math.max(instanceMemoryMb, instance.instanceMemoryMb);
    fitsInstance &&= instance.fits;
  }
  const usd = (gbSeconds: number) => rounded(perMillion(gbSeconds) * FLEX_CONSUMPTION.usdPerGbSecond, 4);
  return {
    rows,
    measured,
    cpuSeconds: rounded(cpuSeconds, 2),
    peakRssMb: Math.round(peakRssMb),
    busySeconds: rounded(busySeconds, 1),
    cpuSecondsPerMillionRows: rounded(perMillion(cpuSeconds), 1),
    rssGbSecondsPerMillionRows: rounded(perMillion(rssGbSeconds), 1),
    instanceMemoryMb,
    fitsInstance,
    billedGbSecondsPerMillionRows: rounded(perMillion(billedGbSeconds), 1),
    estimatedUsdPerMillionRows: usd(billedGbSeconds),
    estimatedUsdPerMillionRowsAtCpuTime: usd(cpuGbSeconds),
  };
}

const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU seconds of another process from /proc (Linux); undefined once it has gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Peak resident set (VmHWM) of another process in MB (Linux); undefined once it has gone. */
export function processPeakRssMb(pid: number): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

export interface UsageMeter {
  /** The usage since the meter started; call it before the process ends (it keeps the last reading otherwise). */
  stop(): ProcessUsage;
}

/**
 * Meters another process (a host in a child process) from /proc, reading every `everyMs` so a process that
 * ends before `stop` still leaves its last reading (at most `everyMs` of CPU unseen).
 */
export function meterProcess(pid: number, everyMs = 250): UsageMeter {
  const started = performance.now();
  const startCpu = processCpuSeconds(pid) ?? 0;
  let last = { cpu: startCpu, peak: processPeakRssMb(pid) ?? 0, at: started };
  const read = () => {
    const cpu = processCpuSeconds(pid);
    const peak = processPeakRssMb(pid);
    if (cpu !== undefined && peak !== undefined) last = { cpu, peak, at: performance.now() };
  };
  const timer = setInterval(read, everyMs);
  timer.unref();
  return {
    stop() {
      read();
      clearInterval(timer);
      return { cpuSeconds: last.cpu - startCpu, peakRssMb: last.peak, busySeconds: (last.at - started) / 1000 };
    },
  };
}

/** Meters this process (benchmarks that run the product's code in-process): CPU since now, peak RSS of its life. */
export function meterThisProcess(): UsageMeter {
  const started = performance.now();
  const startCpu = process.cpuUsage();
  return {
    stop() {
      const cpu = process.cpuUsage(startCpu);
      return {
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        // resourceUsage().maxRSS is in kilobytes.
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        busySeconds: (performance.now() - started) / 1000,
      };
    },
  };
}

const recordedHostUsage: ProcessUsage[] = [];

/** Benchmarks whose product runs in host child processes leave each host's usage here for the runner. */
export function recordHostUsage(usage: ProcessUsage): void {
  recordedHostUsage.push(usage);
}

/** The host usages recorded since the last call, and forgets them. */
export function takeRecordedHostUsage(): ProcessUsage[] {
  return recordedHostUsage.splice(0);
}
