/**
 * The change-queue contract, run against every transport: the storage queue on Azurite, the in-memory
 * Service Bus double, and a real Service Bus namespace when SERVICEBUS_FQDN is set.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExportError } from '../../shared/errors';
import type { ChangeQueue, QueueReceiver, ReceivedQueueMessage } from '../../shared/queue/change-queue';
import { MissingClaimCheckError } from '../../shared/queue/claim-checks';
import type { ChangeBatchReader } from '../../shared/queue/messages';
import { CHANGE_BATCH_SCHEMA_VERSION, type ChangeBatch } from '../../shared/queue/change-batch';

export interface QueueUnderTest {
  queue: ChangeQueue;
  reader: ChangeBatchReader;
  receiver: QueueReceiver;
  deadLetters: QueueReceiver;
  /** Puts a body on the queue as another sender might, bypassing the ChangeQueue's own validation. */
  sendRaw(text: string): Promise<void>;
  maxDeliveryCount: number;
  maxMessageBytes: number;
  /** Shortest delay the transport can hold a message back for (storage queues count whole seconds). */
  deliveryDelayMs: number;
  /** Service Bus says why it dead-lettered; a storage poison queue only holds the text. */
  reportsDeadLetterReason: boolean;
  close(): Promise<void>;
}

/** Wait for messages that should arrive, and how long to listen for messages that must not. */
const ARRIVAL_TIMEOUT_MS = 10_000;
const SILENCE_MS = 400;

const guid = (index: number) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;

let sequence = 0;

export function changeBatch(overrides: Partial<ChangeBatch> & { rowText?: string; rows?: number } = {}): ChangeBatch {
  const { rowText = 'x', rows = 1, ...rest } = overrides;
  sequence += 1;
  return {
    schemaVersion: CHANGE_BATCH_SCHEMA_VERSION,
    profile: 'contract',
    table: 'account',
    batchId: `${randomUUID()}-${sequence}`,
    watermark: 1000 + sequence,
    upserts: Array.from({ length: rows }, (_, index) => ({
      kind: 'upsert' as const,
      id: guid(index + 1),
      versionNumber: 1000 + index,
      row: { accountid: guid(index + 1), name: `${rowText} ${index}`, numberofemployees: index },
    })),
    deletes: [{ id: guid(999_999) }],
    attempt: 0,
    readAt: new Date().toISOString(),
    ...rest,
  };
}

/** Receives until `count` messages arrived or the time is up; returns what arrived. */
async function receiveMany(
  receiver: QueueReceiver,
  count: number,
  timeoutMs = ARRIVAL_TIMEOUT_MS,
): Promise<ReceivedQueueMessage[]> {
  const deadline = Date.now() + timeoutMs;
  const received: ReceivedQueueMessage[] = [];
  while (received.length < count && Date.now() < deadline) {
    received.push(
      ...(await receiver.receive(count - received.length, Math.min(1_000, Math.max(1, deadline - Date.now())))),
    );
  }
  return received;
}

async function receiveOne(receiver: QueueReceiver): Promise<ReceivedQueueMessage> {
  const [message] = await receiveMany(receiver, 1);
  if (!message) throw new Error(`no message arrived within ${ARRIVAL_TIMEOUT_MS} ms`);
  return message;
}

async function expectNothing(receiver: QueueReceiver, listenMs = SILENCE_MS): Promise<void> {
  const received = await receiveMany(receiver, 1, listenMs);
  expect(received.map((message) => message.body)).toEqual([]);
}

async function expectDataError(promise: Promise<unknown>, ...fragments: string[]): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ExportError);
  expect((error as ExportError).errorClass).toBe('data');
  for (const fragment of fragments) expect((error as ExportError).message).toContain(fragment);
}

export interface QueueContractTarget {
  name: string;
  /** Why the target cannot run here; the suite is then skipped, visibly. */
  skipReason?: string;
  /** Known before the tests are collected, so the window-expiry case is skipped for hour-long windows. */
  duplicateDetectionWindowMs: number;
  /** A fresh, empty queue for each test. */
  create(): Promise<QueueUnderTest>;
}

/** Longest window the window-expiry case waits out. */
const MAX_WINDOW_WAITED_MS = 2_000;

export function describeQueueContract(target: QueueContractTarget): void {
  const { name, skipReason, duplicateDetectionWindowMs, create } = target;
  describe.skipIf(skipReason !== undefined)(
    `change queue contract: ${name}${skipReason ? ` (skipped: ${skipReason})` : ''}`,
    () => {
      let q: QueueUnderTest;
      beforeEach(async () => {
        q = await create();
      });
      afterEach(async () => {
        await q.close();
      });

      it('delivers a sent batch once, with deliveryCount 1, and the reader returns it', async () => {
        const batch = changeBatch();
        await q.queue.send([batch]);
        const message = await receiveOne(q.receiver);
        expect(message.deliveryCount).toBe(1);
        expect(await q.reader.readChangeBatch(message.body)).toEqual(batch);
        await q.receiver.complete(message);
        await expectNothing(q.receiver);
      });

      it('delivers every batch of a large send (order not assumed)', async () => {
        const batches = Array.from({ length: 40 }, () => changeBatch({ rows: 3, rowText: 'y'.repeat(200) }));
        await q.queue.send(batches);
        const received = await receiveMany(q.receiver, batches.length);
        const read = await Promise.all(received.map((message) => q.reader.readChangeBatch(message.body)));
        expect(read.map((batch) => batch.batchId).sort()).toEqual(batches.map((batch) => batch.batchId).sort());
        await Promise.all(received.map((message) => q.receiver.complete(message)));
        await expectNothing(q.receiver);
      });

      it('redelivers an abandoned message with deliveryCount incremented', async () => {
        const batch = changeBatch();
        await q.queue.send([batch]);
        const first = await receiveOne(q.receiver);
        await q.receiver.abandon(first);
        const second = await receiveOne(q.receiver);
        expect(second.deliveryCount).toBe(first.deliveryCount + 1);
        expect((await q.reader.readChangeBatch(second.body)).batchId).toBe(batch.batchId);
        await q.receiver.complete(second);
      });

      it('holds a message back until deliverAt', async () => {
        const batch = changeBatch({ attempt: 1 });
        const deliverAt = new Date(Date.now() + q.deliveryDelayMs);
        await q.queue.send([batch], { deliverAt });
        await expectNothing(q.receiver, q.deliveryDelayMs / 2);
        const message = await receiveOne(q.receiver);
        // A little slack for clock skew between this machine and a live namespace.
        expect(Date.now()).toBeGreaterThanOrEqual(deliverAt.getTime() - 250);
        expect((await q.reader.readChangeBatch(message.body)).batchId).toBe(batch.batchId);
        await q.receiver.complete(message);
      });

      it('dead-letters a message after maxDeliveryCount failed deliveries', async () => {
        const batch = changeBatch();
        await q.queue.send([batch]);
        for (let delivery = 1; delivery <= q.maxDeliveryCount; delivery += 1) {
          const message = await receiveOne(q.receiver);
          expect(message.deliveryCount).toBe(delivery);
          await q.receiver.abandon(message);
        }
        await expectNothing(q.receiver);
        const deadLettered = await receiveOne(q.deadLetters);
        expect((await q.reader.readChangeBatch(deadLettered.body)).batchId).toBe(batch.batchId);
        if (q.reportsDeadLetterReason) expect(deadLettered.deadLetterReason).toBe('MaxDeliveryCountExceeded');
        await q.deadLetters.complete(deadLettered);
      });

      it('drops a batch sent again with the same message id within the window, but not its retry', async () => {
        const batch = changeBatch();
        await q.queue.send([batch]);
        await q.queue.send([batch]);
        const retry = { ...batch, attempt: 1 };
        await q.queue.send([retry]);
        const received = await receiveMany(q.receiver, 3, SILENCE_MS * 3);
        const read = await Promise.all(received.map((message) => q.reader.readChangeBatch(message.body)));
        expect(read.map((item) => item.attempt).sort()).toEqual([0, 1]);
        await Promise.all(received.map((message) => q.receiver.complete(message)));
      });

      it.skipIf(duplicateDetectionWindowMs > MAX_WINDOW_WAITED_MS)(
        'accepts the same message id again once the window has passed',
        async () => {
          const batch = changeBatch();
          await q.queue.send([batch]);
          await q.receiver.complete(await receiveOne(q.receiver));
          await sleep(duplicateDetectionWindowMs + 50);
          await q.queue.send([batch]);
          const again = await receiveOne(q.receiver);
          expect((await q.reader.readChangeBatch(again.body)).batchId).toBe(batch.batchId);
          await q.receiver.complete(again);
        },
      );

      it('sends a batch over the size limit as a claim check, and the reader returns the whole batch', async () => {
        const rowText = 'z'.repeat(1_000);
        const rows = Math.ceil((q.maxMessageBytes * 1.2) / rowText.length);
        const big = changeBatch({ rows, rowText });
        const small = changeBatch();
        await q.queue.send([big, small]);
        const received = await receiveMany(q.receiver, 2);
        const claimChecked = received.filter(
          (message) => typeof message.body === 'object' && message.body !== null && 'claimCheck' in message.body,
        );
        expect(claimChecked).toHaveLength(1);
        const [message] = claimChecked as [ReceivedQueueMessage];
        expect(await q.reader.readChangeBatch(message.body)).toEqual(big);
        await q.reader.releaseClaimCheck(message.body);
        await expectDataError(q.reader.readChangeBatch(message.body), 'does not exist');
        await expect(q.reader.readChangeBatch(message.body)).rejects.toBeInstanceOf(MissingClaimCheckError);
        await Promise.all(received.map((item) => q.receiver.complete(item)));
      });

      it('rejects bodies that are not change batches with a data error naming the problem', async () => {
        const valid = changeBatch();
        const bodies: [string, string[]][] = [
          ['this is not json', ['not JSON']],
          ['[1,2,3]', ['not a JSON object but an array']],
          [
            JSON.stringify({ ...valid, upserts: [{ id: 'not-a-guid', versionNumber: 1, row: {} }] }),
            ['upserts.0.id', 'must be a GUID'],
          ],
          [
            JSON.stringify({ ...valid, schemaVersion: CHANGE_BATCH_SCHEMA_VERSION + 1 }),
            [`schemaVersion ${CHANGE_BATCH_SCHEMA_VERSION + 1}`],
          ],
          [JSON.stringify({ ...valid, watermark: undefined }), ['watermark']],
        ];
        for (const [text] of bodies) await q.sendRaw(text);
        const received = await receiveMany(q.receiver, bodies.length);
        expect(received).toHaveLength(bodies.length);
        for (const [text, fragments] of bodies) {
          // Bodies come back parsed when they are JSON; match each received one to what was sent.
          const message = received.find(
            (item) =>
              (typeof item.body === 'string' ? item.body : JSON.stringify(item.body)) ===
              (isJson(text) ? JSON.stringify(JSON.parse(text)) : text),
          );
          expect(message, text.slice(0, 60)).toBeDefined();
          await expectDataError(q.reader.readChangeBatch((message as ReceivedQueueMessage).body), ...fragments);
        }
        await Promise.all(received.map((item) => q.receiver.complete(item)));
      });
    },
  );
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
