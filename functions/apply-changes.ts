import { randomUUID } from 'node:crypto';
import { applyChanges } from '../shared/sync/apply/applier';
import { createLogger } from '../shared/telemetry/logger';
import type { QueueFunction } from './definition';
import type { FunctionDeps } from './deps';

/** Deliveries before the queue dead-letters a batch whose handler keeps throwing (infra sets the same on Service Bus). */
export const APPLY_MAX_DELIVERY_COUNT = 10;

/** Queue: applies one change batch (retries, failed records and unprocessable messages are handled inside). */
export const apply: QueueFunction<FunctionDeps> = {
  kind: 'queue',
  name: 'applyChanges',
  queueName: '%CHANGES_QUEUE%',
  maxDeliveryCount: APPLY_MAX_DELIVERY_COUNT,
  handler: (deps) =>
    async function handleApplyChanges(message, context) {
      const messageId =
        typeof context.triggerMetadata?.messageId === 'string' ? context.triggerMetadata.messageId : randomUUID();
      const deliveryCount = Number(context.triggerMetadata?.deliveryCount ?? 1);
      const result = await applyChanges(deps.sync, message, { messageId, deliveryCount });
      const logger = createLogger(context, { messageId, deliveryCount });
      if (result.outcome === 'applied')
        logger.info('applied batch', {
          upserted: result.upserted,
          deleted: result.deleted,
          stale: result.stale,
          failed: result.failed,
        });
      else logger.warn(`batch ${result.outcome}`, 'reason' in result ? { reason: result.reason } : {});
    },
};
