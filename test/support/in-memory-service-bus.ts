/**
 * An in-memory Service Bus namespace behind the same ports as the real `ServiceBusClient`
 * (shared/queue/service-bus.ts), following the documented queue semantics (docs/reference/azure-functions-notes.md §2.4, §2.6):
 * peek-lock with a lock duration; an abandon or an expired lock counts a failed delivery; after
 * `maxDeliveryCount` failed deliveries the message moves to the dead-letter sub-queue with reason
 * `MaxDeliveryCountExceeded`; scheduled messages stay invisible until their time; a message id seen within the
 * duplicate-detection window is dropped; messages over the maximum size are refused; queues must be created
 * first (MessagingEntityNotFound otherwise). Like the JS SDK it reports
 * the raw AMQP delivery count (0 on the first delivery). No broker runs here (the emulator needs Docker).
 */
import { ServiceBusError, type ServiceBusMessage, type ServiceBusMessageBatch } from '@azure/service-bus';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  ServiceBusClientPort,
  ServiceBusReceivedMessagePort,
  ServiceBusReceiverPort,
  ServiceBusSenderPort,
} from '../../shared/queue/service-bus';

export interface InMemoryServiceBusOptions {
  lockDurationMs: number;
  maxDeliveryCount: number;
  duplicateDetectionWindowMs: number;
  /** Largest message, and largest batch, in bytes (Standard: 256 KB). */
  maxMessageBytes: number;
}

/** Per-message envelope (ids, properties, AMQP framing) added to the body size; a close stand-in for the SDK's encoding. */
const MESSAGE_OVERHEAD_BYTES = 64;
const RECEIVE_POLL_MS = 10;

interface StoredMessage {
  sequenceNumber: number;
  messageId: string;
  /** The body as the SDK encodes it: JSON in a data section. */
  json: string;
  visibleAt: number;
  failedDeliveries: number;
  lock?: { token: string; until: number };
  deadLetterReason?: string;
}

interface QueueState {
  active: StoredMessage[];
  deadLetter: StoredMessage[];
  /** Message id → when it was accepted, for duplicate detection. */
  seenIds: Map<string, number>;
}

interface InMemoryReceivedMessage extends ServiceBusReceivedMessagePort {
  messageId: string;
  sequenceNumber: number;
}

function encodedSize(message: ServiceBusMessage): number {
  return (
    Buffer.byteLength(encodeBody(message)) +
    Buffer.byteLength(String(message.messageId ?? '')) +
    Buffer.byteLength(message.contentType ?? '') +
    MESSAGE_OVERHEAD_BYTES
  );
}

function encodeBody(message: ServiceBusMessage): string {
  if (message.body instanceof Uint8Array) throw new Error('the in-memory Service Bus models JSON bodies only');
  return JSON.stringify(message.body ?? null);
}

class InMemoryMessageBatch implements ServiceBusMessageBatch {
  readonly messages: ServiceBusMessage[] = [];
  sizeInBytes = 0;

  constructor(readonly maxSizeInBytes: number) {}

  get count(): number {
    return this.messages.length;
  }

  tryAddMessage(message: ServiceBusMessage): boolean {
    const size = encodedSize(message);
    if (this.sizeInBytes + size > this.maxSizeInBytes) return false;
    this.messages.push(message);
    this.sizeInBytes += size;
    return true;
  }
}

export class InMemoryServiceBus implements ServiceBusClientPort {
  private readonly queues = new Map<string, QueueState>();
  private nextSequenceNumber = 1;
  /** Calls that reached the namespace (sendMessages + scheduleMessages), to check batching. */
  sendCalls = 0;

  constructor(readonly options: InMemoryServiceBusOptions) {}

  createSender(queueName: string): ServiceBusSenderPort {
    return {
      createMessageBatch: async (batchOptions = {}) => {
        this.queue(queueName);
        const maxSizeInBytes = batchOptions.maxSizeInBytes ?? this.options.maxMessageBytes;
        // As the SDK does: a batch may be smaller than the link allows, never larger.
        if (maxSizeInBytes > this.options.maxMessageBytes)
          throw new RangeError(
            `Max message size (${maxSizeInBytes} bytes) is greater than maximum message size (${this.options.maxMessageBytes} bytes) on the AMQP sender link.`,
          );
        return new InMemoryMessageBatch(maxSizeInBytes);
      },
      sendMessages: async (batch) => {
        if (!(batch instanceof InMemoryMessageBatch)) throw new Error('send batches created by this sender');
        this.sendCalls += 1;
        this.enqueue(queueName, batch.messages, Date.now());
      },
      scheduleMessages: async (messages, scheduledEnqueueTimeUtc) => {
        this.sendCalls += 1;
        return this.enqueue(queueName, messages, scheduledEnqueueTimeUtc.getTime());
      },
      close: async () => undefined,
    };
  }

  createReceiver(queueName: string, options: { subQueueType?: 'deadLetter' } = {}): ServiceBusReceiverPort {
    const subQueue = options.subQueueType === 'deadLetter' ? 'deadLetter' : 'active';
    const locked = (message: ServiceBusReceivedMessagePort): StoredMessage => {
      this.expireLocks(queueName);
      const stored = this.queue(queueName)[subQueue].find(
        (candidate) => candidate.lock !== undefined && candidate.lock.token === message.lockToken,
      );
      if (!stored)
        throw new ServiceBusError(
          'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.',
          'MessageLockLost',
        );
      return stored;
    };
    return {
      receiveMessages: async (maxMessageCount, receiveOptions = {}) => {
        this.queue(queueName);
        const deadline = Date.now() + (receiveOptions.maxWaitTimeInMs ?? 60_000);
        for (;;) {
          const received = this.lockAvailable(queueName, subQueue, maxMessageCount);
          if (received.length > 0 || Date.now() >= deadline) return received;
          await sleep(RECEIVE_POLL_MS);
        }
      },
      completeMessage: async (message) => {
        const stored = locked(message);
        const state = this.queue(queueName);
        state[subQueue] = state[subQueue].filter((candidate) => candidate !== stored);
      },
      abandonMessage: async (message) => {
        this.failDelivery(queueName, subQueue, locked(message));
      },
      close: async () => undefined,
    };
  }

  async close(): Promise<void> {
    this.queues.clear();
  }

  /** Queues exist only once created, as in a namespace provisioned by infra/. */
  createQueue(queueName: string): void {
    if (!this.queues.has(queueName)) this.queues.set(queueName, { active: [], deadLetter: [], seenIds: new Map() });
  }

  private queue(queueName: string): QueueState {
    const state = this.queues.get(queueName);
    if (!state)
      throw new ServiceBusError(`The messaging entity '${queueName}' could not be found.`, 'MessagingEntityNotFound');
    return state;
  }

  private enqueue(queueName: string, messages: ServiceBusMessage[], visibleAt: number): number[] {
    const state = this.queue(queueName);
    const now = Date.now();
    return messages.map((message) => {
      if (encodedSize(message) > this.options.maxMessageBytes) {
        throw new ServiceBusError(
          `The received message (size ${encodedSize(message)} bytes) exceeds the limit (${this.options.maxMessageBytes} bytes).`,
          'MessageSizeExceeded',
        );
      }
      const sequenceNumber = this.nextSequenceNumber++;
      const messageId = String(message.messageId ?? randomUUID());
      const seenAt = state.seenIds.get(messageId);
      // Accepted, then silently dropped: that is what duplicate detection does.
      if (seenAt !== undefined && now - seenAt < this.options.duplicateDetectionWindowMs) return sequenceNumber;
      state.seenIds.set(messageId, now);
      state.active.push({ sequenceNumber, messageId, json: encodeBody(message), visibleAt, failedDeliveries: 0 });
      return sequenceNumber;
    });
  }

  private expireLocks(queueName: string): void {
    const state = this.queue(queueName);
    const now = Date.now();
    for (const subQueue of ['active', 'deadLetter'] as const) {
      for (const message of [...state[subQueue]]) {
        if (message.lock !== undefined && message.lock.until <= now) this.failDelivery(queueName, subQueue, message);
      }
    }
  }

  private failDelivery(queueName: string, subQueue: 'active' | 'deadLetter', message: StoredMessage): void {
    const state = this.queue(queueName);
    message.lock = undefined;
    message.failedDeliveries += 1;
    if (subQueue === 'active' && message.failedDeliveries >= this.options.maxDeliveryCount) {
      state.active = state.active.filter((candidate) => candidate !== message);
      message.deadLetterReason = 'MaxDeliveryCountExceeded';
      state.deadLetter.push(message);
    }
  }

  private lockAvailable(
    queueName: string,
    subQueue: 'active' | 'deadLetter',
    maxMessageCount: number,
  ): InMemoryReceivedMessage[] {
    this.expireLocks(queueName);
    const now = Date.now();
    const messages = this.queue(queueName)[subQueue];
    return messages
      .filter((message) => message.lock === undefined && message.visibleAt <= now)
      .sort((a, b) => a.sequenceNumber - b.sequenceNumber)
      .slice(0, maxMessageCount)
      .map((message) => {
        message.lock = { token: randomUUID(), until: now + this.options.lockDurationMs };
        return {
          body: JSON.parse(message.json) as unknown,
          messageId: message.messageId,
          sequenceNumber: message.sequenceNumber,
          deliveryCount: message.failedDeliveries,
          lockToken: message.lock.token,
          ...(message.deadLetterReason === undefined ? {} : { deadLetterReason: message.deadLetterReason }),
        };
      });
  }
}
