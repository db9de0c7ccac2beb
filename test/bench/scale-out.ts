/**
 * Scale-out: applier throughput with 1 and with 2 host processes on the same queue and database. Each run
 * starts from an identical backlog: `--rows` (default 50,000) `account` rows changed in the emulator, read
 * by the product's own poller (`pollTable`, in this process) into a side queue, then moved onto the change
 * queue at once while the hosts wait on it. The hosts' own poll timer is off (a yearly schedule), so they
 * only apply. Runs alternate 1, 2, 2, 1, … for `--pairs` pairs (default 2) so drift on a shared machine hits
 * both sides; the figures are medians. Throughput is rows over the time from the backlog appearing on the
 * queue to the last destination commit (PostgreSQL commit timestamps), and over the first-to-last commit span.
 */
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import type { ActivityFunction, OrchestrationFunction } from '../../functions/definition';
import { functionTable } from '../../functions/table';
import { consoleLog } from '../../local/host/console-log';
import { ORCHESTRATION_INSTANCES_TABLE } from '../../local/host/host';
import { createOrchestrationDriver } from '../../local/host/orchestrations';
import { sampleRowId } from '../../local/sample-org';
import { pollTable } from '../../shared/sync/capture/poller';
import type { ProcessProduct } from '../support/product-processes';
import { waitFor } from '../support/wait';
import {
  activateAndWait,
  installArrivalLog,
  loadAverage,
  percentile,
  postmasterPid,
  PROFILE,
  round,
  SAMPLE_SEED,
  startBenchProduct,
  startCpuMeter,
} from './product-bench';
import { option } from './sample-upserts';

const STAGED_QUEUE = 'dvx-bench-staged-changes';
/** Never within a benchmark: the hosts only apply. */
const NO_POLLING = '0 0 0 1 1 *';

/** The product's poller, in this process, writing its batches to the side queue instead of the change queue. */
async function stagingPoller(product: ProcessProduct): Promise<{ poll(): Promise<number>; close(): Promise<void> }> {
  const env = { ...product.env, CHANGES_QUEUE: STAGED_QUEUE };
  const deps = createFunctionDeps(env, () => driver.client);
  // A resync after an expired delta token would start an orchestration: a real driver, never used in practice.
  const driver = await createOrchestrationDriver({
    orchestrations: functionTable.filter(
      (definition): definition is OrchestrationFunction => definition.kind === 'orchestration',
    ),
    activities: functionTable.filter(
      (definition): definition is ActivityFunction<FunctionDeps> => definition.kind === 'activity',
    ),
    deps: () => deps,
    instances: deps.storage.table(ORCHESTRATION_INSTANCES_TABLE),
    log: consoleLog('warning'),
  });
  return {
    async poll() {
      const result = await pollTable(deps.sync, driver.client, PROFILE, 'account');
      if (result.outcome !== 'changes')
        throw new Error(
          `The staging poll found no changes (${result.outcome}${result.error ? `: ${result.error}` : ''})`,
        );
      return result.upserts;
    },
    async close() {
      await driver.stop();
      await deps.sync.runtimes.closeAll();
      await deps.sync.queue.close();
    },
  };
}

/** Moves every message from `from` to `to` as is (claim-checked bodies stay where they are). */
async function moveAll(from: QueueClient, to: QueueClient): Promise<number> {
  let moved = 0;
  for (;;) {
    const { receivedMessageItems } = await from.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
    if (receivedMessageItems.length === 0) return moved;
    await Promise.all(
      receivedMessageItems.map(async (message) => {
        await to.sendMessage(message.messageText);
        await from.deleteMessage(message.messageId, message.popReceipt);
      }),
    );
    moved += receivedMessageItems.length;
  }
}

async function useHosts(product: ProcessProduct, count: number): Promise<void> {
  while (product.hosts.length > count) await product.hosts.at(-1)?.stop();
  while (product.hosts.length < count) await product.startHost();
}

const median = (values: number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const rows = option(args, 'rows', 50_000);
  const pairs = option(args, 'pairs', 2);
  const product = await startBenchProduct({ accounts: rows, env: { POLL_SCHEDULE: NO_POLLING } });
  try {
    await activateAndWait(product, await product.startHost(), { tables: ['account'], timeoutMs: 300_000 });
    const arrivals = await installArrivalLog(product.postgres.connectionString);
    const poller = await stagingPoller(product);
    const queues = QueueServiceClient.fromConnectionString(product.azurite.connectionString);
    const staged = queues.getQueueClient(STAGED_QUEUE);
    const changes = queues.getQueueClient(product.env.CHANGES_QUEUE as string);
    const postgres = await postmasterPid(product.postgres.connectionString);
    const loadBefore = loadAverage();
    const runs: Array<Record<string, number>> = [];
    try {
      const order = Array.from({ length: pairs }, (_, pair) => (pair % 2 === 0 ? [1, 2] : [2, 1])).flat();
      for (const [index, hosts] of order.entries()) {
        await useHosts(product, hosts);
        for (let row = 0; row < rows; row++) {
          product.emulator.store.update('account', sampleRowId(SAMPLE_SEED, 'account', row), {
            name: `Scale-out run ${index} row ${row}`,
          });
        }
        const pollStarted = performance.now();
        const polled = await poller.poll();
        const pollSeconds = (performance.now() - pollStarted) / 1000;
        if (polled !== rows) throw new Error(`The poll read ${polled} changes, expected ${rows}`);
        await arrivals.clear();
        const cpu = startCpuMeter({
          ...Object.fromEntries(product.hosts.map((host, number) => [`host${number + 1}`, host.pid])),
          ...(postgres ? { postgres } : {}),
        });
        const queued = Date.now();
        const messages = await moveAll(staged, changes);
        const done = await waitFor(
          `${rows} rows applied by ${hosts} host(s)`,
          async () => {
            const summary = await arrivals.summary();
            return summary.rows >= rows ? summary : undefined;
          },
          300_000,
        );
        const usage = cpu.stop();
        const wallSeconds = (done.lastCommit - queued) / 1000;
        const spanSeconds = (done.lastCommit - done.firstCommit) / 1000;
        runs.push({
          hosts,
          messages,
          pollSeconds: round(pollSeconds, 2),
          drainSeconds: round(wallSeconds, 2),
          rowsPerSecond: round(rows / wallSeconds),
          commitSpanRowsPerSecond: round(rows / spanSeconds),
          ...usage,
        });
      }
    } finally {
      await poller.close();
      await arrivals.close();
    }
    const rate = (hosts: number, key: string) =>
      median(runs.filter((entry) => entry.hosts === hosts).map((entry) => entry[key] as number));
    const one = rate(1, 'rowsPerSecond');
    const two = rate(2, 'rowsPerSecond');
    return {
      benchmark: 'scale-out',
      rows,
      pairs,
      database: 'PostgreSQL 15 (throwaway, fsync off)',
      oneHostRowsPerSecond: one,
      twoHostsRowsPerSecond: two,
      twoToOneRatio: round(two / one, 2),
      commitSpanTwoToOneRatio: round(rate(2, 'commitSpanRowsPerSecond') / rate(1, 'commitSpanRowsPerSecond'), 2),
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAverage(),
      runs,
    };
  } finally {
    await product.stop();
  }
}
