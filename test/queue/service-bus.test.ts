import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../shared/errors';
import { blobClaimCheckStore, CLAIM_CHECK_CONTAINER } from '../../shared/queue/claim-checks';
import { changeBatchReader } from '../../shared/queue/messages';
import { serviceBusChangeQueue, serviceBusReceiver } from '../../shared/queue/service-bus';
import { useAzurite } from '../support/azurite';
import { InMemoryServiceBus, type InMemoryServiceBusOptions } from '../support/in-memory-service-bus';
import { changeBatch, describeQueueContract } from './contract';

const azurite = useAzurite();

/** Upper bound of what the in-memory bus adds per message to its JSON body (id, content type, framing). */
const ENVELOPE_BYTES = 200;

const contractOptions: InMemoryServiceBusOptions = {
  lockDurationMs: 5_000,
  maxDeliveryCount: 3,
  duplicateDetectionWindowMs: 300,
  maxMessageBytes: 64 * 1024,
};

function onBus(bus: InMemoryServiceBus) {
  const queueName = `changes-${randomUUID().slice(0, 8)}`;
  bus.createQueue(queueName);
  const claimChecks = blobClaimCheckStore(azurite.clients.blobs.getContainerClient(CLAIM_CHECK_CONTAINER));
  return {
    queueName,
    claimChecks,
    queue: serviceBusChangeQueue({ client: bus, queueName, claimChecks }),
    receiver: serviceBusReceiver({ client: bus, queueName, subQueue: 'active' }),
    deadLetters: serviceBusReceiver({ client: bus, queueName, subQueue: 'deadLetter' }),
  };
}

describeQueueContract({
  name: 'Service Bus adapter on the in-memory Service Bus',
  duplicateDetectionWindowMs: contractOptions.duplicateDetectionWindowMs,
  async create() {
    const bus = new InMemoryServiceBus(contractOptions);
    const target = onBus(bus);
    const rawSender = bus.createSender(target.queueName);
    return {
      ...target,
      reader: changeBatchReader(target.claimChecks),
      sendRaw: async (text: string) => {
        const batch = await rawSender.createMessageBatch();
        batch.tryAddMessage({ body: text });
        await rawSender.sendMessages(batch);
      },
      maxDeliveryCount: contractOptions.maxDeliveryCount,
      maxMessageBytes: contractOptions.maxMessageBytes,
      deliveryDelayMs: 300,
      reportsDeadLetterReason: true,
      close: () => bus.close(),
    };
  },
});

describe('Service Bus adapter', () => {
  it('fills each message batch before sending, so a large send takes few calls', async () => {
    const bus = new InMemoryServiceBus({ ...contractOptions, maxMessageBytes: 8 * 1024 });
    const target = onBus(bus);
    const batches = Array.from({ length: 40 }, () => changeBatch({ rowText: 'a'.repeat(500) }));
    const bytes = batches.reduce((sum, batch) => sum + Buffer.byteLength(JSON.stringify(batch)), 0);
    await target.queue.send(batches);
    expect(bus.sendCalls).toBeGreaterThanOrEqual(Math.ceil(bytes / (8 * 1024)));
    expect(bus.sendCalls).toBeLessThanOrEqual(Math.ceil((bytes + batches.length * ENVELOPE_BYTES) / (8 * 1024)) + 1);
    expect(await target.receiver.receive(100, 100)).toHaveLength(40);
  });

  it('schedules a delayed send in groups filled to three quarters of the limit, leaving room for the request envelope', async () => {
    const bus = new InMemoryServiceBus({ ...contractOptions, maxMessageBytes: 8 * 1024 });
    const target = onBus(bus);
    const batches = Array.from({ length: 40 }, () => changeBatch({ rowText: 'a'.repeat(500) }));
    const bytes = batches.reduce((sum, batch) => sum + Buffer.byteLength(JSON.stringify(batch)), 0);
    await target.queue.send(batches, { deliverAt: new Date(Date.now() + 60_000) });
    expect(bus.sendCalls).toBeGreaterThanOrEqual(Math.ceil(bytes / (6 * 1024)));
    expect(bus.sendCalls).toBeLessThanOrEqual(Math.ceil((bytes + batches.length * ENVELOPE_BYTES) / (6 * 1024)) + 1);
  });

  it('sends nothing for a poll without changes', async () => {
    const bus = new InMemoryServiceBus(contractOptions);
    await onBus(bus).queue.send([]);
    expect(bus.sendCalls).toBe(0);
  });

  it('refuses an invalid batch with a data error and sends nothing', async () => {
    const bus = new InMemoryServiceBus(contractOptions);
    const target = onBus(bus);
    const invalid = { ...changeBatch(), deletes: [{ id: 'nope' }] };
    const error = await target.queue.send([changeBatch(), invalid]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).errorClass).toBe('data');
    expect((error as ExportError).message).toContain('deletes.0.id');
    expect(bus.sendCalls).toBe(0);
  });

  it('reports a queue that does not exist as a configuration error naming the settings', async () => {
    const bus = new InMemoryServiceBus(contractOptions);
    const queue = serviceBusChangeQueue({
      client: bus,
      queueName: 'missing',
      claimChecks: blobClaimCheckStore(azurite.clients.blobs.getContainerClient(CLAIM_CHECK_CONTAINER)),
    });
    const error = await queue.send([changeBatch()]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).errorClass).toBe('config');
    expect((error as ExportError).where).toBe('missing');
    expect((error as ExportError).fix).toContain('CHANGES_QUEUE');
  });
});

describe('in-memory Service Bus', () => {
  it('counts an expired lock as a failed delivery and refuses to complete the message afterwards', async () => {
    const bus = new InMemoryServiceBus({ ...contractOptions, lockDurationMs: 200 });
    const target = onBus(bus);
    await target.queue.send([changeBatch()]);
    const [first] = await target.receiver.receive(1, 1_000);
    expect(first?.deliveryCount).toBe(1);
    expect(await target.receiver.receive(1, 50)).toEqual([]);
    await sleep(250);
    const [second] = await target.receiver.receive(1, 1_000);
    expect(second?.deliveryCount).toBe(2);
    const error = await target.receiver.complete(first!).catch((caught: unknown) => caught);
    expect((error as ExportError).message).toContain('lock supplied is invalid');
    await target.receiver.complete(second!);
  });

  it('dead-letters after maxDeliveryCount expired locks too', async () => {
    const bus = new InMemoryServiceBus({ ...contractOptions, lockDurationMs: 50, maxDeliveryCount: 2 });
    const target = onBus(bus);
    await target.queue.send([changeBatch()]);
    for (let delivery = 1; delivery <= 2; delivery += 1) {
      expect((await target.receiver.receive(1, 1_000))[0]?.deliveryCount).toBe(delivery);
      await sleep(80);
    }
    expect(await target.receiver.receive(1, 50)).toEqual([]);
    expect((await target.deadLetters.receive(1, 50))[0]?.deadLetterReason).toBe('MaxDeliveryCountExceeded');
  });

  it('refuses a single message over the maximum size', async () => {
    const bus = new InMemoryServiceBus({ ...contractOptions, maxMessageBytes: 1024 });
    bus.createQueue('q');
    const sender = bus.createSender('q');
    const error = await sender
      .scheduleMessages([{ body: 'x'.repeat(2048) }], new Date())
      .catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe('MessageSizeExceeded');
  });
});
