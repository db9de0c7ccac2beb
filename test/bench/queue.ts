/**
 * Change-queue figures: send throughput of the storage-queue adapter on Azurite (local transport), how many
 * calls the Service Bus adapter needs for a poll's batches (in-memory Service Bus with the Standard 256 KB
 * limit: counts calls, not network time), and the reader's validation cost. Rows are sample-org accounts as
 * the Web API returns them. Args: [batches=200] [rowsPerBatch=50].
 */
import { performance } from 'node:perf_hooks';
import { startAzurite } from '../../local/azurite/azurite';
import { sampleCounts, sampleRow, sampleTable, toWebApiRow } from '../../local/sample-org';
import { blobClaimCheckStore, CLAIM_CHECK_CONTAINER } from '../../shared/queue/claim-checks';
import {
  SENT_MARKERS_TABLE,
  tableDuplicateDetection,
  DEFAULT_DUPLICATE_DETECTION_WINDOW_MS,
} from '../../shared/queue/duplicate-detection';
import { changeBatchReader } from '../../shared/queue/messages';
import { SERVICE_BUS_MAX_MESSAGE_BYTES, serviceBusChangeQueue } from '../../shared/queue/service-bus';
import { storageQueueChangeQueue, storageQueueReceiver } from '../../shared/queue/storage-queue';
import { createStorageClients } from '../../shared/storage/clients';
import { CHANGE_BATCH_SCHEMA_VERSION, type ChangeBatch } from '../../shared/queue/change-batch';
import { InMemoryServiceBus } from '../support/in-memory-service-bus';

function accountBatches(batches: number, rowsPerBatch: number): ChangeBatch[] {
  const table = sampleTable('account');
  const counts = sampleCounts(batches * rowsPerBatch);
  return Array.from({ length: batches }, (_, batchIndex) => ({
    schemaVersion: CHANGE_BATCH_SCHEMA_VERSION,
    profile: 'bench',
    table: 'account',
    batchId: `bench-${batchIndex}`,
    watermark: 1_000_000 + batchIndex,
    upserts: Array.from({ length: rowsPerBatch }, (_, rowIndex) => {
      const index = batchIndex * rowsPerBatch + rowIndex;
      const row = toWebApiRow(table, sampleRow('account', index, 1, counts), { versionNumber: 2_000_000 + index });
      return { kind: 'upsert' as const, id: row.accountid as string, versionNumber: 2_000_000 + index, row };
    }),
    deletes: [],
    attempt: 0,
    readAt: new Date().toISOString(),
  }));
}

const perSecond = (count: number, ms: number) => Math.round((count / ms) * 1000);

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const batchCount = Number(args[0] ?? 200);
  const rowsPerBatch = Number(args[1] ?? 50);
  const batches = accountBatches(batchCount, rowsPerBatch);
  const bodyBytes = batches.map((batch) => Buffer.byteLength(JSON.stringify(batch)));
  const azurite = await startAzurite({ inMemory: true });
  try {
    const clients = createStorageClients({ kind: 'connectionString', connectionString: azurite.connectionString });
    const claimChecks = blobClaimCheckStore(clients.blobs.getContainerClient(CLAIM_CHECK_CONTAINER));
    const reader = changeBatchReader(claimChecks);

    const storage = storageQueueChangeQueue({
      queues: clients.queues,
      queueName: 'bench-changes',
      claimChecks,
      duplicates: tableDuplicateDetection({
        table: clients.table(SENT_MARKERS_TABLE),
        queueName: 'bench-changes',
        windowMs: DEFAULT_DUPLICATE_DETECTION_WINDOW_MS,
      }),
    });
    await storage.send(accountBatches(1, 1).map((batch) => ({ ...batch, batchId: 'warm-up' })));
    let started = performance.now();
    await storage.send(batches);
    const storageSendMs = performance.now() - started;
    started = performance.now();
    await storage.send(batches);
    const storageDuplicateSendMs = performance.now() - started;

    const receiver = storageQueueReceiver({
      queues: clients.queues,
      queueName: 'bench-changes',
      subQueue: 'active',
      delivery: { lockSeconds: 60, retryDelaySeconds: 0, maxDeliveryCount: 3 },
    });
    let received = 0;
    let claimChecked = 0;
    started = performance.now();
    while (received < batchCount + 1) {
      const messages = await receiver.receive(32, 1_000);
      for (const message of messages) {
        if (typeof message.body === 'object' && message.body !== null && 'claimCheck' in message.body)
          claimChecked += 1;
        await reader.readChangeBatch(message.body);
      }
      await Promise.all(messages.map((message) => receiver.complete(message)));
      received += messages.length;
    }
    const storageReceiveMs = performance.now() - started;

    const bus = new InMemoryServiceBus({
      lockDurationMs: 60_000,
      maxDeliveryCount: 10,
      duplicateDetectionWindowMs: 3_600_000,
      maxMessageBytes: SERVICE_BUS_MAX_MESSAGE_BYTES,
    });
    bus.createQueue('bench-changes');
    const serviceBus = serviceBusChangeQueue({ client: bus, queueName: 'bench-changes', claimChecks });
    started = performance.now();
    await serviceBus.send(batches);
    const serviceBusAdapterMs = performance.now() - started;

    started = performance.now();
    for (const batch of batches) await reader.readChangeBatch(batch);
    const readMs = performance.now() - started;

    return {
      batches: batchCount,
      rowsPerBatch,
      meanBodyKiB: Math.round(bodyBytes.reduce((sum, bytes) => sum + bytes, 0) / bodyBytes.length / 102.4) / 10,
      storageQueueSendBatchesPerSecond: perSecond(batchCount, storageSendMs),
      storageQueueSendRowsPerSecond: perSecond(batchCount * rowsPerBatch, storageSendMs),
      storageQueueDuplicateSendBatchesPerSecond: perSecond(batchCount, storageDuplicateSendMs),
      storageQueueReceiveReadCompleteBatchesPerSecond: perSecond(batchCount, storageReceiveMs),
      storageQueueClaimChecks: claimChecked,
      serviceBusCallsForAllBatches: bus.sendCalls,
      serviceBusAdapterMsWithoutNetwork: Math.round(serviceBusAdapterMs),
      readerValidateMsPerBatch: Math.round((readMs / batchCount) * 100) / 100,
    };
  } finally {
    await azurite.stop();
  }
}
