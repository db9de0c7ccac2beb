/**
 * State store costs against an in-memory Azurite started here: a checkpoint read + conditional update cycle
 * (`--cycles`, default 200, one after another, as the poller does per page), `--workers` (default 20)
 * appliers each adding to one table's counters `--increments` times (default 10) at once (ETag retry loop
 * under contention), and `--records` (default 2,000) failed records written across 4 hours, then the first
 * listing page and a count per table. Azurite on loopback has no network latency: in Azure each round trip
 * adds a few milliseconds, so read these as the cost of the code and the protocol, not of Azure Storage.
 */
import { startAzurite } from '../../local/azurite/azurite';
import { createTableCheckpointStore } from '../../shared/state/checkpoints';
import { createBlobFailedRecordStore, type FailedRecord } from '../../shared/state/failed-records';
import { createTableStatusStore } from '../../shared/state/table-status';
import { createStorageClients } from '../../shared/storage/clients';

function option(args: string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const milliseconds = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e6;
const round = (value: number): number => Math.round(value * 10) / 10;

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const cycles = option(args, 'cycles', 200);
  const workers = option(args, 'workers', 20);
  const increments = option(args, 'increments', 10);
  const recordCount = option(args, 'records', 2_000);

  const azurite = await startAzurite({ inMemory: true });
  try {
    const clients = createStorageClients({ kind: 'connectionString', connectionString: azurite.connectionString });

    const checkpoints = createTableCheckpointStore(clients);
    let current = await checkpoints.create('bench', 'account', {
      phase: 'initial',
      nextLink: 'https://org/api/data/v9.2/accounts?$skiptoken=0',
      rowsCopied: 0,
      pages: 0,
      startedAt: new Date().toISOString(),
    });
    const cycleTimes: number[] = [];
    for (let page = 1; page <= cycles; page++) {
      const started = process.hrtime.bigint();
      const read = await checkpoints.read('bench', 'account');
      if (!read) throw new Error('checkpoint vanished');
      current = await checkpoints.update(
        'bench',
        'account',
        {
          ...read.value,
          nextLink: `https://org/api/data/v9.2/accounts?$skiptoken=${page}`,
          pages: page,
          rowsCopied: page * 5000,
        },
        read.etag,
      );
      cycleTimes.push(milliseconds(started));
    }
    cycleTimes.sort((a, b) => a - b);

    const status = createTableStatusStore(clients);
    const countersStarted = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let step = 0; step < increments; step++) await status.increment('bench', 'account', { rowsApplied: 1 });
      }),
    );
    const countersMs = milliseconds(countersStarted);
    const counted = (await status.read('bench', 'account'))?.rowsApplied;
    if (counted !== workers * increments) throw new Error(`counted ${counted}, expected ${workers * increments}`);

    const failures = createBlobFailedRecordStore(clients);
    const records: FailedRecord[] = Array.from({ length: recordCount }, (_, index) => ({
      profile: 'bench',
      table: index % 2 === 0 ? 'account' : 'contact',
      id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      changeType: 'upsert',
      failedAt: new Date(Date.UTC(2026, 10, 21, index % 4, 0, 0, index % 1000)).toISOString(),
      reason: 'String or binary data would be truncated',
      errorClass: 'data',
      attempt: 12,
      batchId: `batch-${index}`,
      payload: { accountid: index, name: 'x'.repeat(200) },
    }));
    const recordStarted = process.hrtime.bigint();
    await failures.record(records);
    const recordMs = milliseconds(recordStarted);
    const listStarted = process.hrtime.bigint();
    await failures.list('bench', { pageSize: 100 });
    const listMs = milliseconds(listStarted);
    const countStarted = process.hrtime.bigint();
    await failures.countByTable('bench');
    const countMs = milliseconds(countStarted);

    return {
      checkpointCycles: cycles,
      checkpointCycleMsP50: round(cycleTimes[Math.floor(cycles / 2)] ?? 0),
      checkpointCycleMsP95: round(cycleTimes[Math.floor(cycles * 0.95)] ?? 0),
      checkpointFinalPages: current.value.pages,
      counterWorkers: workers,
      counterIncrements: workers * increments,
      counterIncrementsPerSecond: round((workers * increments) / (countersMs / 1000)),
      failedRecordsWritten: recordCount,
      failedRecordsPerSecond: round(recordCount / (recordMs / 1000)),
      failedRecordsFirstPageMs: round(listMs),
      failedRecordsCountByTableMs: round(countMs),
    };
  } finally {
    await azurite.stop();
  }
}
