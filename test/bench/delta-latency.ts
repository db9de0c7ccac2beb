/**
 * Delta latency: `--rate` (default 500) changes per second for `--seconds` (default 60) through the
 * emulator's Web API — the seeded workload's creates, updates, deletes and re-creates of `account` rows,
 * up to `--concurrency` (default 32) requests in flight — while one host process polls every second
 * (POLL_SCHEDULE `* * * * * *`) and applies to PostgreSQL 15. Per change: the destination's commit time
 * (PostgreSQL commit timestamp of the transaction that wrote the version or its tombstone) minus the
 * emulator's commit time of the write. Reports p50/p95/p99/max, the rate achieved, the backlog at the end of
 * the window (changes not yet in the destination, queue messages) and how long it took to reach zero, the
 * backlog over the window, the emulator's own write rate alone (no host running), and the CPU each part used.
 * The latency is split at the start of the poller's delta read that covered the change (the emulator reports it).
 */
import { QueueServiceClient } from '@azure/storage-queue';
import { setTimeout as sleep } from 'node:timers/promises';
import { sampleCounts } from '../../local/sample-org';
import { createWorkload, type Workload } from '../../local/workload/workload';
import { PROCESS_EMULATOR_TOKEN, type ProcessProduct } from '../support/product-processes';
import {
  activateAndWait,
  arrivalTimes,
  installArrivalLog,
  loadAverage,
  postmasterPid,
  round,
  SAMPLE_SEED,
  startBenchProduct,
  startCpuMeter,
  type TimedWrite,
} from './product-bench';
import { option } from './sample-upserts';
import { costPerMillionRows, meterProcess } from './cost';
import { backlogTrend, latencySummary, maxOf, type BacklogSample } from './stats';

/** How long the emulator's own write rate is measured, before the host starts. */
const ALONE_SECONDS = 3;
const DRAIN_TIMEOUT_MS = 180_000;

/**
 * Sends `rate` steps per second for `seconds`, never more than `concurrency` at once: a step that is due
 * while all slots are busy waits for one, so a source that cannot keep up shows as a lower achieved rate.
 */
async function paced(
  workload: Workload,
  rate: number,
  seconds: number,
  concurrency: number,
): Promise<{ sent: number; failed: string[]; seconds: number }> {
  const started = performance.now();
  const failed: string[] = [];
  let launched = 0;
  let inFlight = 0;
  const running = new Set<Promise<void>>();
  for (;;) {
    const elapsed = performance.now() - started;
    if (elapsed >= seconds * 1000) break;
    const due = Math.floor((elapsed * rate) / 1000) + 1;
    while (launched < due && inFlight < concurrency) {
      launched++;
      inFlight++;
      const step: Promise<void> = workload
        .step()
        .then(
          () => undefined,
          (error: unknown) => void failed.push(error instanceof Error ? error.message : String(error)),
        )
        .finally(() => {
          inFlight--;
          running.delete(step);
        });
      running.add(step);
    }
    await sleep(2);
  }
  await Promise.all(running);
  return { sent: launched, failed, seconds: (performance.now() - started) / 1000 };
}

interface DeltaRead {
  at: number;
  upToVersion: number;
}

/** When the poller's delta read that first covered each write started (writes and reads both in time order). */
function readTimes(writes: readonly TimedWrite[], reads: readonly DeltaRead[]): Array<number | undefined> {
  let next = 0;
  return writes.map((write) => {
    while (
      next < reads.length &&
      !((reads[next] as DeltaRead).upToVersion >= write.version && (reads[next] as DeltaRead).at >= write.at)
    )
      next++;
    return reads[next]?.at;
  });
}

const TARGET_P99_MS = 2_000;

async function queueLength(product: ProcessProduct): Promise<number> {
  const queue = QueueServiceClient.fromConnectionString(product.azurite.connectionString).getQueueClient(
    product.env.CHANGES_QUEUE as string,
  );
  return (await queue.getProperties()).approximateMessagesCount ?? 0;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const rate = option(args, 'rate', 1_000);
  const seconds = option(args, 'seconds', 180);
  const accounts = option(args, 'accounts', 2_000);
  const concurrency = option(args, 'concurrency', 32);

  const writes: TimedWrite[] = [];
  const deltaReads: DeltaRead[] = [];
  let recording = false;
  const product = await startBenchProduct({
    accounts,
    observers: {
      onWrite: (write) => {
        if (recording && write.table === 'account') writes.push({ ...write, at: Date.now() });
      },
      onDeltaRead: (read) => {
        if (read.table === 'account') deltaReads.push({ at: Date.now(), upToVersion: read.upToVersion });
      },
    },
  });
  try {
    const workload = createWorkload({
      baseUrl: product.emulator.baseUrl,
      token: PROCESS_EMULATOR_TOKEN,
      seed: 1,
      sampleSeed: SAMPLE_SEED,
      rows: { account: sampleCounts(accounts).account },
    });
    // The source alone, as fast as it goes with the same concurrency: the most this machine can send.
    const alone = await paced(workload, 1_000_000, Math.min(ALONE_SECONDS, seconds), concurrency);

    const host = await product.startHost();
    await activateAndWait(product, host, { tables: ['account'], timeoutMs: 300_000 });
    const arrivals = await installArrivalLog(product.postgres.connectionString);
    const postgres = await postmasterPid(product.postgres.connectionString);
    try {
      const loadBefore = loadAverage();
      const queueSamples: number[] = [];
      // A sample that fails (storage busy) is only a missing point in the maximum.
      const sampling = setInterval(
        () =>
          void queueLength(product).then(
            (length) => queueSamples.push(length),
            () => undefined,
          ),
        1_000,
      );
      const cpu = startCpuMeter({ host: host.pid, azurite: product.azurite.pid, ...(postgres ? { postgres } : {}) });
      const hostUsage = meterProcess(host.pid);
      recording = true;
      const windowStart = Date.now();
      const sent = await paced(workload, rate, seconds, concurrency);
      const windowEnd = Date.now();
      recording = false;
      clearInterval(sampling);
      const cpuFigures = cpu.stop();
      const hostWindowUsage = hostUsage.stop();
      const queueAtEnd = await queueLength(product);
      const loadAtEnd = loadAverage();

      let arrived: Array<number | undefined> = [];
      const drainDeadline = Date.now() + DRAIN_TIMEOUT_MS;
      do {
        // Each read fetches every arrival (180,000 rows in a full run): once a second is often enough.
        await sleep(1_000);
        arrived = arrivalTimes(writes, await arrivals.read());
      } while (arrived.some((time) => time === undefined) && Date.now() < drainDeadline);

      const latenciesOf = (kinds: ReadonlyArray<TimedWrite['kind']>) =>
        writes.flatMap((write, index) =>
          kinds.includes(write.kind) && arrived[index] !== undefined ? [arrived[index] - write.at] : [],
        );
      // The split: write → the start of the delta read that covered it (poll tick + the poll's own steps before
      // reading), then that read → destination commit (rest of the poll, the queue, the apply).
      const read = readTimes(writes, deltaReads);
      const untilRead = writes.flatMap((write, index) => (read[index] === undefined ? [] : [read[index] - write.at]));
      const readToCommit = writes.flatMap((_, index) =>
        read[index] === undefined || arrived[index] === undefined ? [] : [arrived[index] - read[index]],
      );
      const readsInWindow = deltaReads.filter((entry) => entry.at >= windowStart && entry.at <= windowEnd).length;
      const pendingWritesAt = (time: number) =>
        writes.filter((write, index) => write.at <= time && !((arrived[index] ?? Infinity) <= time));
      const pendingAt = (time: number) => pendingWritesAt(time).length;
      const lastArrival = maxOf(
        arrived.map((time) => time ?? Infinity),
        -Infinity,
      );
      const backlogEverySecond: BacklogSample[] = Array.from({ length: Math.floor(seconds) }, (_, index) => ({
        atSeconds: index + 1,
        backlog: pendingAt(windowStart + (index + 1) * 1_000),
      }));
      const backlogEvery10Seconds = backlogEverySecond
        .filter((sample) => sample.atSeconds % 10 === 0)
        .map((sample) => sample.backlog);
      // The first seconds fill the pipeline up to its steady backlog (rate × latency): the trend starts after them.
      const trend = backlogTrend(
        backlogEverySecond.filter((sample) => sample.atSeconds > 5),
        rate,
      );
      const overall = latencySummary(latenciesOf(['upsert', 'delete']));
      return {
        benchmark: 'delta-latency',
        targetRate: rate,
        seconds,
        concurrency,
        accounts,
        pollSchedule: product.env.POLL_SCHEDULE,
        sourceAloneWritesPerSecond: round(alone.sent / alone.seconds),
        changesSent: sent.sent,
        writesFailed: sent.failed.length,
        ...(sent.failed.length > 0 ? { firstFailure: sent.failed[0] } : {}),
        writesCommitted: writes.length,
        achievedRatePerSecond: round(writes.length / ((windowEnd - windowStart) / 1000)),
        upserts: writes.filter((write) => write.kind === 'upsert').length,
        deletes: writes.filter((write) => write.kind === 'delete').length,
        latencyMs: overall,
        upsertLatencyMs: latencySummary(latenciesOf(['upsert'])),
        deleteLatencyMs: latencySummary(latenciesOf(['delete'])),
        writeToDeltaReadMs: latencySummary(untilRead),
        deltaReadToCommitMs: latencySummary(readToCommit),
        deltaReadsPerSecond: round(readsInWindow / ((windowEnd - windowStart) / 1000), 2),
        notArrived: arrived.filter((time) => time === undefined).length,
        backlogChangesAtEnd: pendingAt(windowEnd),
        backlogRowsAtEnd: new Set(pendingWritesAt(windowEnd).map((write) => write.id)).size,
        backlogChangesEvery10Seconds: backlogEvery10Seconds,
        backlogSlopePerSecond: trend.slopePerSecond,
        backlogGrowthOverWindow: trend.growthOverWindow,
        backlogTrend: trend.verdict,
        queueMessagesAtEnd: queueAtEnd,
        queueMessagesMax: maxOf(queueSamples, 0),
        secondsUntilBacklogZero: Number.isFinite(lastArrival)
          ? round(Math.max(0, lastArrival - windowEnd) / 1000, 1)
          : null,
        loadAverageBefore: loadBefore,
        loadAverageAtEnd: loadAtEnd,
        cpu: cpuFigures,
        // The host over the window only (its initial sync before is the initial-sync benchmark's cost).
        cost: costPerMillionRows(writes.length, 'the host process over the window', [hostWindowUsage]),
        target: `p99 <= ${TARGET_P99_MS} ms at ${rate} changes/s (95% achieved) for ${seconds} s, backlog flat`,
        targetMet:
          writes.length / ((windowEnd - windowStart) / 1000) >= rate * 0.95 &&
          overall.p99 <= TARGET_P99_MS &&
          trend.verdict === 'flat',
      };
    } finally {
      await arrivals.close();
    }
  } finally {
    await product.stop();
  }
}
