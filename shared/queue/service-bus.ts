/**
 * The change queue on Azure Service Bus. The Functions output binding carries bodies only (no messageId, no
 * scheduled time), so batches are sent with the SDK's sender; the Functions host receives for the applier.
 * The ports below are the slice of `ServiceBusClient` we use: the real client satisfies them, and so does the
 * in-memory double the contract suite runs against.
 */
import {
  isServiceBusError,
  type ServiceBusMessage,
  type ServiceBusMessageBatch,
  type ServiceBusReceivedMessage,
} from '@azure/service-bus';
import { ExportError, toExportError } from '../errors';
import type { ChangeBatch } from './change-batch';
import type { ChangeQueue, QueueReceiver, ReceivedQueueMessage, SendOptions, SubQueue } from './change-queue';
import type { ClaimCheckStore } from './claim-checks';
import { claimCheckedMessage, outgoingMessage, type OutgoingMessage } from './messages';

/** Standard tier (infra/modules/servicebus.bicep); the SDK measures the encoded size against the link's real limit. */
export const SERVICE_BUS_MAX_MESSAGE_BYTES = 256 * 1024;

export interface ServiceBusSenderPort {
  createMessageBatch(options?: { maxSizeInBytes?: number }): Promise<ServiceBusMessageBatch>;
  sendMessages(batch: ServiceBusMessageBatch): Promise<void>;
  scheduleMessages(messages: ServiceBusMessage[], scheduledEnqueueTimeUtc: Date): Promise<unknown[]>;
  close(): Promise<void>;
}

export type ServiceBusReceivedMessagePort = Pick<
  ServiceBusReceivedMessage,
  'body' | 'deliveryCount' | 'deadLetterReason' | 'lockToken'
>;

export interface ServiceBusReceiverPort {
  receiveMessages(
    maxMessageCount: number,
    options?: { maxWaitTimeInMs?: number },
  ): Promise<ServiceBusReceivedMessagePort[]>;
  completeMessage(message: ServiceBusReceivedMessagePort): Promise<void>;
  abandonMessage(message: ServiceBusReceivedMessagePort): Promise<void>;
  close(): Promise<void>;
}

export interface ServiceBusClientPort {
  createSender(queueName: string): ServiceBusSenderPort;
  createReceiver(queueName: string, options?: { subQueueType?: 'deadLetter' }): ServiceBusReceiverPort;
  close(): Promise<void>;
}

/**
 * `scheduleMessages` goes over the management link, which wraps every message in a map with its id (about 100
 * bytes the batch does not count), so scheduled groups are filled to this share of the batch limit only. A
 * message that no longer fits travels as a claim check, which is always correct.
 */
const SCHEDULED_BATCH_SHARE = 0.75;

const toServiceBusMessage = (message: OutgoingMessage): ServiceBusMessage => ({
  messageId: message.messageId,
  body: message.body,
  contentType: 'application/json',
});

export function serviceBusChangeQueue(options: {
  client: ServiceBusClientPort;
  queueName: string;
  claimChecks: ClaimCheckStore;
}): ChangeQueue {
  const { client, queueName, claimChecks } = options;
  const sender = client.createSender(queueName);

  return {
    async send(batches: readonly ChangeBatch[], sendOptions: SendOptions = {}) {
      if (batches.length === 0) return;
      const messages = batches.map(outgoingMessage);
      try {
        // Fill each SDK batch until it is full; the SDK measures the AMQP-encoded size exactly.
        const batchOptions = sendOptions.deliverAt
          ? { maxSizeInBytes: Math.floor((await sender.createMessageBatch()).maxSizeInBytes * SCHEDULED_BATCH_SHARE) }
          : {};
        let batch = await sender.createMessageBatch(batchOptions);
        let inBatch: ServiceBusMessage[] = [];
        const flush = async () => {
          if (inBatch.length === 0) return;
          if (sendOptions.deliverAt) await sender.scheduleMessages(inBatch, sendOptions.deliverAt);
          else await sender.sendMessages(batch);
          batch = await sender.createMessageBatch(batchOptions);
          inBatch = [];
        };
        for (const message of messages) {
          let candidate = toServiceBusMessage(message);
          if (!batch.tryAddMessage(candidate)) {
            await flush();
            // Too big even for an empty batch: over the message size limit, so it travels as a claim check.
            if (!batch.tryAddMessage(candidate)) {
              candidate = toServiceBusMessage(await claimCheckedMessage(message, claimChecks));
              if (!batch.tryAddMessage(candidate)) {
                throw new ExportError(
                  'config',
                  `even the claim check of batch '${message.messageId}' does not fit into a Service Bus message`,
                  {
                    where: queueName,
                    fix: "The queue's maximum message size is unusually small; use the Standard or Premium tier.",
                  },
                );
              }
            }
          }
          inBatch.push(candidate);
        }
        await flush();
      } catch (error) {
        throw serviceBusError(
          error,
          `sending ${messages.length} change batch(es) to Service Bus queue '${queueName}' failed`,
          queueName,
        );
      }
    },

    async close() {
      await sender.close();
    },
  };
}

/** Receives for the dead-letter replay and tests. Service Bus counts deliveries and dead-letters by itself. */
export function serviceBusReceiver(options: {
  client: ServiceBusClientPort;
  queueName: string;
  subQueue: SubQueue;
}): QueueReceiver {
  const { client, queueName, subQueue } = options;
  const receiver = client.createReceiver(queueName, subQueue === 'deadLetter' ? { subQueueType: 'deadLetter' } : {});
  const received = new WeakMap<ReceivedQueueMessage, ServiceBusReceivedMessagePort>();
  const where = subQueue === 'deadLetter' ? `${queueName}/$deadletterqueue` : queueName;
  const original = (message: ReceivedQueueMessage) => {
    const found = received.get(message);
    if (!found) throw new ExportError('data', 'this message was not received by this receiver', { where });
    return found;
  };

  return {
    async receive(maxMessages, maxWaitMs) {
      try {
        const messages = await receiver.receiveMessages(maxMessages, { maxWaitTimeInMs: maxWaitMs });
        return messages.map((message) => {
          const mapped: ReceivedQueueMessage = {
            body: message.body,
            // The JS SDK hands over the raw AMQP delivery-count (prior failed deliveries); the Functions host, like
            // .NET, adds one. Report it the way handlers see it.
            deliveryCount: message.deliveryCount === undefined ? 1 : message.deliveryCount + 1,
            ...(message.deadLetterReason === undefined ? {} : { deadLetterReason: message.deadLetterReason }),
          };
          received.set(mapped, message);
          return mapped;
        });
      } catch (error) {
        throw serviceBusError(error, `receiving from '${where}' failed`, where);
      }
    },
    async complete(message) {
      try {
        await receiver.completeMessage(original(message));
      } catch (error) {
        throw serviceBusError(error, `completing a message on '${where}' failed`, where);
      }
    },
    async abandon(message) {
      try {
        await receiver.abandonMessage(original(message));
      } catch (error) {
        throw serviceBusError(error, `abandoning a message on '${where}' failed`, where);
      }
    },
    async close() {
      await receiver.close();
    },
  };
}

/** Service Bus errors as ExportErrors: permissions and missing queues need a person, the rest is retried. */
function serviceBusError(error: unknown, what: string, where: string): ExportError {
  if (error instanceof ExportError) return error;
  const reason = toExportError(error).message;
  if (isServiceBusError(error)) {
    switch (error.code) {
      case 'UnauthorizedAccess':
        return new ExportError('config', `${what}: not authorized (${reason})`, {
          cause: error,
          where,
          fix: 'Give the app\'s identity the "Azure Service Bus Data Sender" and "Data Receiver" roles on the namespace.',
        });
      case 'MessagingEntityNotFound':
      case 'MessagingEntityDisabled':
        return new ExportError('config', `${what}: the queue does not exist or is disabled (${reason})`, {
          cause: error,
          where,
          fix: 'Check CHANGES_QUEUE and ServiceBus__fullyQualifiedNamespace against the deployed namespace.',
        });
      case 'ServiceBusy':
      case 'QuotaExceeded':
        return new ExportError('throttled', `${what}: Service Bus is busy (${reason})`, {
          cause: error,
          where,
          retryAfterMs: 10_000,
        });
      default:
        break;
    }
  }
  return new ExportError('transient', `${what}: ${reason}`, { cause: error, where });
}
