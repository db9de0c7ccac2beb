import { randomUUID } from 'node:crypto';
import { recordDeadLetter } from '../shared/sync/admin/dead-letters';
import { createLogger } from '../shared/telemetry/logger';
import type { QueueFunction } from './definition';
import type { FunctionDeps } from './deps';

/** Queue: the change queue's dead-letter queue (the `-poison` queue locally) into the failed-records store. */
export const deadLetters: QueueFunction<FunctionDeps> = {
  kind: 'queue',
  name: 'recordDeadLetters',
  queueName: '%CHANGES_QUEUE%/$deadletterqueue',
  maxDeliveryCount: 10,
  handler: (deps) =>
    async function handleRecordDeadLetters(message, context) {
      const metadata = context.triggerMetadata ?? {};
      const messageId = typeof metadata.messageId === 'string' ? metadata.messageId : randomUUID();
      const reason =
        typeof metadata.deadLetterReason === 'string' ? metadata.deadLetterReason : 'delivery count exceeded';
      const result = await recordDeadLetter(deps.sync, message, { messageId, reason });
      createLogger(context, { messageId }).warn(
        `dead-lettered batch ${result.outcome}`,
        result.outcome === 'recorded' ? { rows: result.rows } : { reason: result.reason },
      );
    },
};
