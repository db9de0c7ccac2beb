/**
 * What the queue dead-lettered on its own (after maxDeliveryCount failed deliveries, an expired message):
 * every row of the batch goes to the failed-records store with the queue's reason, so it shows in status and
 * can be resynced; a body that cannot be read goes to `unprocessablemessages/`.
 */
import { toExportError } from '../../errors';
import { recordFailures, type RecordFailuresServices } from '../apply/record-failures';
import type { SyncServices } from '../wiring/services';

export type DeadLetterServices = Pick<SyncServices, 'batches' | 'unprocessable' | 'metrics' | 'now'> &
  RecordFailuresServices;

export type DeadLetterOutcome = { outcome: 'recorded'; rows: number } | { outcome: 'unprocessable'; reason: string };

export async function recordDeadLetter(
  services: DeadLetterServices,
  message: unknown,
  delivery: { messageId: string; reason: string },
): Promise<DeadLetterOutcome> {
  services.metrics.deadLettered(1);
  let batch;
  try {
    batch = await services.batches.readChangeBatch(message);
  } catch (error) {
    const failure = toExportError(error, 'data');
    const reason = `dead-lettered by the queue (${delivery.reason}); the body cannot be read: ${failure.message}`;
    await services.unprocessable.record({
      messageId: delivery.messageId,
      receivedAt: services.now().toISOString(),
      reason,
      rawBody: typeof message === 'string' ? message : (JSON.stringify(message) ?? String(message)),
    });
    return { outcome: 'unprocessable', reason };
  }
  const reason = `dead-lettered by the queue: ${delivery.reason}`;
  await recordFailures(services, batch, [
    ...batch.upserts.map((upsert) => ({
      id: upsert.id,
      changeType: 'upsert' as const,
      reason,
      errorClass: 'transient' as const,
      payload: upsert.row,
    })),
    ...batch.deletes.map((remove) => ({
      id: remove.id,
      changeType: 'delete' as const,
      reason,
      errorClass: 'transient' as const,
    })),
  ]);
  await services.batches.releaseClaimCheck(message);
  return { outcome: 'recorded', rows: batch.upserts.length + batch.deletes.length };
}
