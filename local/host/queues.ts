/**
 * Feeds queue functions from Azure Storage queues (Azurite locally) with the delivery semantics the
 * handlers rely on in Azure: peek-lock (a received message is invisible until settled), `deliveryCount`
 * in the trigger metadata, redelivery after a failure, and dead-lettering to `<queue>-poison` once the
 * delivery count is used up.
 */
import type { DequeuedMessageItem, QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { setTimeout as sleep } from 'node:timers/promises';
import { poisonQueueName } from '../../shared/queue/storage-queue';
import type { HostLog } from './console-log';
import type { CapturedFunction } from './functions-core';
import { triggerBinding, type TriggerInput } from './invoke';
import { serviceBusTrigger } from './trigger-data';

export interface QueuePolling {
  /** How long a received message stays invisible while its handler runs (the lock). */
  lockSeconds: number;
  /** How long a failed message waits before it is delivered again. */
  retryDelaySeconds: number;
  /** Polling backs off from `minPollMs` to this while the queue is empty. */
  maxPollMs: number;
  minPollMs: number;
  batchSize: number;
}

// Service Bus triggers in Azure receive a message within milliseconds of its sending. An idle backoff of up to
// a second here added up to a second to every change's latency at one poll a second (npm run bench --
// delta-latency), so idle polling stops at 250 ms: four cheap receives a second against local storage.
export const defaultQueuePolling: QueuePolling = {
  lockSeconds: 30,
  retryDelaySeconds: 0,
  maxPollMs: 250,
  minPollMs: 50,
  batchSize: 16,
};

const DEAD_LETTER_SUFFIX = '/$deadletterqueue';

/** A Service Bus dead-letter path (`<queue>/$deadletterqueue`) is the poison queue here, as for Storage queue triggers. */
export const localQueueName = (queueName: string): string =>
  queueName.endsWith(DEAD_LETTER_SUFFIX) ? poisonQueueName(queueName.slice(0, -DEAD_LETTER_SUFFIX.length)) : queueName;

export interface RunningQueues {
  stop(): Promise<void>;
}

/** A Service Bus-triggered function and its queue's delivery limit (Azure: `maxDeliveryCount` in infra/). */
export interface QueueSubscriber {
  fn: CapturedFunction;
  maxDeliveryCount: number;
}

export async function startQueues(options: {
  subscribers: readonly QueueSubscriber[];
  invoke(fn: CapturedFunction, trigger: TriggerInput): Promise<unknown>;
  queues: QueueServiceClient;
  resolve: (value: string) => string;
  polling: QueuePolling;
  log: HostLog;
}): Promise<RunningQueues> {
  const controller = new AbortController();
  const loops = await Promise.all(
    options.subscribers.map(async (subscriber) => {
      const declared = triggerBinding(subscriber.fn).queueName;
      const queueName = localQueueName(options.resolve(typeof declared === 'string' ? declared : ''));
      const queue = options.queues.getQueueClient(queueName);
      const poison = options.queues.getQueueClient(poisonQueueName(queueName));
      await queue.createIfNotExists();
      await poison.createIfNotExists();
      // Wrapped so Promise.all waits for the queues to exist, not for the endless polling loops.
      return {
        loop: pollQueue({
          ...subscriber,
          invoke: options.invoke,
          queue,
          poison,
          polling: options.polling,
          log: options.log,
          signal: controller.signal,
        }),
      };
    }),
  );
  return {
    async stop() {
      controller.abort();
      await Promise.all(loops.map((started) => started.loop));
    },
  };
}

/** One queue function's delivery loop: its handler, its queue and the poison queue beside it. */
interface QueueLoop extends QueueSubscriber {
  invoke(fn: CapturedFunction, trigger: TriggerInput): Promise<unknown>;
  queue: QueueClient;
  poison: QueueClient;
  polling: QueuePolling;
  log: HostLog;
}

async function pollQueue(options: QueueLoop & { signal: AbortSignal }): Promise<void> {
  const { polling, signal } = options;
  let idleMs = polling.minPollMs;
  while (!signal.aborted) {
    let messages: DequeuedMessageItem[];
    try {
      const received = await options.queue.receiveMessages({
        numberOfMessages: polling.batchSize,
        visibilityTimeout: polling.lockSeconds,
        abortSignal: signal,
      });
      messages = received.receivedMessageItems;
    } catch (error) {
      if (signal.aborted) return;
      options.log.error(`receiving from queue '${options.queue.name}' failed; retrying`, error);
      messages = [];
    }
    if (messages.length === 0) {
      await sleep(idleMs, undefined, { signal }).catch(() => undefined);
      idleMs = Math.min(idleMs * 2, polling.maxPollMs);
      continue;
    }
    idleMs = polling.minPollMs;
    await Promise.all(messages.map((message) => deliver(options, message)));
  }
}

async function deliver(options: QueueLoop, message: DequeuedMessageItem): Promise<void> {
  const trigger = serviceBusTrigger({
    body: message.messageText,
    deliveryCount: message.dequeueCount,
    messageId: message.messageId,
    enqueuedTimeUtc: message.insertedOn,
  });
  const log = options.log.handlerFor(options.fn.name);
  try {
    await options.invoke(options.fn, trigger);
    await options.queue.deleteMessage(message.messageId, message.popReceipt);
  } catch (error) {
    if (message.dequeueCount >= options.maxDeliveryCount) {
      log(
        'error',
        `delivery ${message.dequeueCount} of ${options.maxDeliveryCount} failed; moving message ${message.messageId} to ${options.poison.name}`,
        error,
      );
      await options.poison.sendMessage(message.messageText);
      await options.queue.deleteMessage(message.messageId, message.popReceipt);
    } else {
      log(
        'warning',
        `delivery ${message.dequeueCount} of ${options.maxDeliveryCount} failed; it will be delivered again`,
        error,
      );
      await options.queue.updateMessage(
        message.messageId,
        message.popReceipt,
        undefined,
        options.polling.retryDelaySeconds,
      );
    }
  }
}
