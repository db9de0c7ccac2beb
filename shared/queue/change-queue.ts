/**
 * The change queue between the poller and the applier: Service Bus in Azure, an Azure Storage queue locally.
 * Both transports keep one contract (test/queue/contract.ts): message id = changeBatchMessageId, a second
 * message with the same id within the duplicate-detection window is dropped, bodies over the transport's
 * limit travel as claim checks, and a message that keeps failing is dead-lettered after maxDeliveryCount.
 */
import type { ChangeBatch } from './change-batch';

export interface SendOptions {
  /** Not delivered before this time (a delayed retry). */
  deliverAt?: Date;
}

export interface ChangeQueue {
  /** Durably enqueued when this resolves; throws an ExportError otherwise (then nothing or some were sent: send again). */
  send(batches: readonly ChangeBatch[], options?: SendOptions): Promise<void>;
  close(): Promise<void>;
}

/** A received message, the same shape for both transports. */
export interface ReceivedQueueMessage {
  /** As the trigger would hand it to a handler: parsed JSON. */
  readonly body: unknown;
  /** 1 on the first delivery, as `triggerMetadata.deliveryCount` in Azure and `dequeueCount` on Storage queues. */
  readonly deliveryCount: number;
  /** Service Bus only: why the message was dead-lettered (`MaxDeliveryCountExceeded`, …). */
  readonly deadLetterReason?: string;
}

/**
 * Receives from the queue or from its dead-letter queue. Used by the dead-letter replay and by tests; in Azure
 * the Functions host receives for the applier.
 */
export interface QueueReceiver {
  /** Up to `maxMessages`, waiting at most `maxWaitMs` for the first; each is locked until completed or abandoned. */
  receive(maxMessages: number, maxWaitMs: number): Promise<ReceivedQueueMessage[]>;
  /** Removes the message for good. */
  complete(message: ReceivedQueueMessage): Promise<void>;
  /** Gives it back for another delivery; dead-letters it once maxDeliveryCount deliveries have failed. */
  abandon(message: ReceivedQueueMessage): Promise<void>;
  close(): Promise<void>;
}

export type SubQueue = 'active' | 'deadLetter';
