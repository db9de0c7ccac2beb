/**
 * The change queue on an Azure Storage queue: the local transport (Azurite), polled by the local host
 * (local/host/queues.ts), and the fallback when no Service Bus namespace is configured. Bodies are plain JSON
 * text, as the local host expects. Storage queues have no duplicate detection, no scheduled messages and no
 * dead-letter queue; duplicate-detection.ts, the initial visibility timeout and `<queue>-poison` stand in.
 */
import type { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import pLimit from 'p-limit';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExportError, toExportError } from '../errors';
import type { ChangeBatch } from './change-batch';
import type { ChangeQueue, QueueReceiver, ReceivedQueueMessage, SendOptions, SubQueue } from './change-queue';
import type { ClaimCheckStore } from './claim-checks';
import type { DuplicateDetection } from './duplicate-detection';
import { claimCheckedMessage, outgoingMessage, utf8Bytes } from './messages';
import { ensureOnce } from '../storage/ensure-once';

/**
 * The service limits the message text to 64 KiB of UTF-8 after XML decoding (what the SDK's own tests and
 * Azurite check), so count UTF-8 bytes, not characters. The SDK sends text as is (no base64), so JSON keeps it.
 */
export const STORAGE_QUEUE_MAX_MESSAGE_BYTES = 64 * 1024;

/** The longest visibility timeout a message may be given when it is sent. */
const MAX_DELAY_SECONDS = 7 * 24 * 60 * 60;

/** Parallel sends per call: storage queues take one message per request. */
const SEND_CONCURRENCY = 16;

/** How often an empty queue is polled while `receive` waits (storage queues have no long polling). */
const RECEIVE_POLL_MS = 50;

export const poisonQueueName = (queueName: string): string => `${queueName}-poison`;

export function storageQueueChangeQueue(options: {
  queues: QueueServiceClient;
  queueName: string;
  claimChecks: ClaimCheckStore;
  duplicates: DuplicateDetection;
}): ChangeQueue {
  const { claimChecks, duplicates, queueName } = options;
  const queue = options.queues.getQueueClient(queueName);
  const ensureQueue = ensureOnce(() => queue.createIfNotExists());
  const limit = pLimit(SEND_CONCURRENCY);

  return {
    async send(batches: readonly ChangeBatch[], sendOptions: SendOptions = {}) {
      if (batches.length === 0) return;
      const messages = batches.map(outgoingMessage);
      const visibilityTimeout = delaySeconds(sendOptions.deliverAt);
      try {
        await ensureQueue();
        await Promise.all(
          messages.map((message) =>
            limit(async () => {
              if (await duplicates.sentRecently(message.messageId)) return;
              const sent =
                utf8Bytes(message.json) <= STORAGE_QUEUE_MAX_MESSAGE_BYTES
                  ? message
                  : await claimCheckedMessage(message, claimChecks);
              // A message that expires is a change lost without a trace; Service Bus dead-letters instead.
              await queue.sendMessage(sent.json, { visibilityTimeout, messageTimeToLive: -1 });
              await duplicates.recordSent(message.messageId);
            }),
          ),
        );
        await duplicates.pruneExpired();
      } catch (error) {
        if (error instanceof ExportError) throw error;
        throw new ExportError(
          'transient',
          `sending ${messages.length} change batch(es) to storage queue '${queueName}' failed: ${toExportError(error).message}`,
          {
            cause: error,
            where: queueName,
          },
        );
      }
    },

    async close() {
      // HTTP clients hold no connection to close.
    },
  };
}

function delaySeconds(deliverAt: Date | undefined): number | undefined {
  if (deliverAt === undefined) return undefined;
  // Whole seconds, rounded up: the message must not be visible before deliverAt.
  const seconds = Math.max(0, Math.ceil((deliverAt.getTime() - Date.now()) / 1000));
  if (seconds > MAX_DELAY_SECONDS) {
    throw new ExportError(
      'data',
      `deliverAt ${deliverAt.toISOString()} is more than 7 days ahead, the longest a storage queue can hold a message back`,
      {
        where: 'deliverAt',
        fix: 'Retry sooner; retry intervals are at most an hour.',
      },
    );
  }
  return seconds;
}

export interface StorageQueueDelivery {
  /** How long a received message stays invisible while it is handled (the lock), in whole seconds, at least 1. */
  lockSeconds: number;
  /** How long an abandoned message waits before it is delivered again. */
  retryDelaySeconds: number;
  /** Deliveries after which an abandoned message moves to `<queue>-poison`, as the local host does. */
  maxDeliveryCount: number;
}

interface ReceivedHandle {
  messageId: string;
  popReceipt: string;
  messageText: string;
}

/** Receives with the local host's semantics (local/host/queues.ts): dequeueCount as deliveryCount, poison after N. */
export function storageQueueReceiver(options: {
  queues: QueueServiceClient;
  queueName: string;
  subQueue: SubQueue;
  delivery: StorageQueueDelivery;
}): QueueReceiver {
  const { delivery, subQueue } = options;
  const poison = options.queues.getQueueClient(poisonQueueName(options.queueName));
  const queue: QueueClient = subQueue === 'deadLetter' ? poison : options.queues.getQueueClient(options.queueName);
  const ensureQueues = ensureOnce(() => Promise.all([queue.createIfNotExists(), poison.createIfNotExists()]));
  const received = new WeakMap<ReceivedQueueMessage, ReceivedHandle>();
  const handle = (message: ReceivedQueueMessage) => {
    const found = received.get(message);
    if (!found) throw new ExportError('data', 'this message was not received by this receiver', { where: queue.name });
    return found;
  };
  const failed = (what: string, error: unknown) =>
    new ExportError('transient', `${what} on storage queue '${queue.name}' failed: ${toExportError(error).message}`, {
      cause: error,
      where: queue.name,
    });

  return {
    async receive(maxMessages, maxWaitMs) {
      const deadline = Date.now() + maxWaitMs;
      try {
        await ensureQueues();
        for (;;) {
          const response = await queue.receiveMessages({
            numberOfMessages: Math.min(maxMessages, 32),
            visibilityTimeout: delivery.lockSeconds,
          });
          if (response.receivedMessageItems.length > 0 || Date.now() >= deadline) {
            return response.receivedMessageItems.map((item) => {
              const message: ReceivedQueueMessage = {
                body: parseQueueMessageText(item.messageText),
                deliveryCount: item.dequeueCount,
              };
              received.set(message, {
                messageId: item.messageId,
                popReceipt: item.popReceipt,
                messageText: item.messageText,
              });
              return message;
            });
          }
          await sleep(Math.min(RECEIVE_POLL_MS, Math.max(0, deadline - Date.now())));
        }
      } catch (error) {
        throw failed('receiving', error);
      }
    },

    async complete(message) {
      const { messageId, popReceipt } = handle(message);
      try {
        await queue.deleteMessage(messageId, popReceipt);
      } catch (error) {
        throw failed('completing a message', error);
      }
    },

    async abandon(message) {
      const { messageId, popReceipt, messageText } = handle(message);
      try {
        if (subQueue === 'active' && message.deliveryCount >= delivery.maxDeliveryCount) {
          await poison.sendMessage(messageText, { messageTimeToLive: -1 });
          await queue.deleteMessage(messageId, popReceipt);
        } else {
          await queue.updateMessage(messageId, popReceipt, undefined, delivery.retryDelaySeconds);
        }
      } catch (error) {
        throw failed('abandoning a message', error);
      }
    },

    async close() {
      // HTTP clients hold no connection to close.
    },
  };
}

/** JSON bodies arrive parsed, as the Service Bus trigger does; anything else as the text it is. */
function parseQueueMessageText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
