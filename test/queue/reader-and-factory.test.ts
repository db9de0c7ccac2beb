import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../shared/config/settings';
import { ExportError } from '../../shared/errors';
import { blobClaimCheckStore, CLAIM_CHECK_CONTAINER } from '../../shared/queue/claim-checks';
import { createChangeBatchReader, createChangeQueue } from '../../shared/queue/create';
import { changeBatchReader, outgoingMessage } from '../../shared/queue/messages';
import { storageQueueReceiver } from '../../shared/queue/storage-queue';
import { useAzurite } from '../support/azurite';
import { changeBatch } from './contract';

const azurite = useAzurite();

const claimChecks = () => blobClaimCheckStore(azurite.clients.blobs.getContainerClient(CLAIM_CHECK_CONTAINER));

async function dataError(promise: Promise<unknown>): Promise<ExportError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ExportError);
  expect((error as ExportError).errorClass).toBe('data');
  return error as ExportError;
}

describe('change batch reader', () => {
  it('reads a body delivered as bytes or as JSON text', async () => {
    const reader = changeBatchReader(claimChecks());
    const batch = changeBatch();
    expect(await reader.readChangeBatch(Buffer.from(JSON.stringify(batch)))).toEqual(batch);
    expect(await reader.readChangeBatch(JSON.stringify(batch))).toEqual(batch);
  });

  it('reads upserts a previous deployment queued without `kind` as the row shape the destination takes', async () => {
    const batch = changeBatch({ rows: 2 });
    const written = {
      ...batch,
      upserts: batch.upserts.map(({ id, versionNumber, row }) => ({ id, versionNumber, row })),
    };
    const store = claimChecks();
    const claimCheck = await store.put(batch, JSON.stringify(written));
    const reader = changeBatchReader(store);
    expect(await reader.readChangeBatch(JSON.stringify(written))).toEqual(batch);
    expect(await reader.readChangeBatch(claimCheck)).toEqual(batch);
    expect(batch.upserts.every((upsert) => upsert.kind === 'upsert')).toBe(true);
  });

  it('refuses a claim check whose blob holds a different batch', async () => {
    const store = claimChecks();
    const batch = changeBatch();
    const claimCheck = await store.put(batch, JSON.stringify({ ...batch, attempt: 3 }));
    const error = await dataError(changeBatchReader(store).readChangeBatch(claimCheck));
    expect(error.message).toContain('attempt differ');
    expect(error.where).toBe(`${CLAIM_CHECK_CONTAINER}/${claimCheck.claimCheck.blobName}`);
  });

  it('refuses a claim check pointing outside the claim-check container', async () => {
    const store = claimChecks();
    const claimCheck = await store.put(changeBatch(), JSON.stringify(changeBatch()));
    const elsewhere = { ...claimCheck, claimCheck: { ...claimCheck.claimCheck, container: 'lake' } };
    expect((await dataError(changeBatchReader(store).readChangeBatch(elsewhere))).message).toContain(
      "container 'lake'",
    );
  });

  it('names every problem of an invalid batch, up to five', async () => {
    const batch = changeBatch({ rows: 8 });
    const broken = { ...batch, upserts: batch.upserts.map((upsert) => ({ ...upsert, versionNumber: -1 })) };
    const error = await dataError(changeBatchReader(claimChecks()).readChangeBatch(broken));
    expect(error.message).toContain('upserts.0.versionNumber');
    expect(error.message).toContain('upserts.4.versionNumber');
    expect(error.message).toContain('and 3 more');
    expect(() => outgoingMessage(broken)).toThrow(/upserts\.0\.versionNumber/);
  });
});

describe('createChangeQueue', () => {
  it('sends through a storage queue on AzureWebJobsStorage when no namespace is set', async () => {
    const settings = loadSettings({ AzureWebJobsStorage: azurite.connectionString, CHANGES_QUEUE: 'created-changes' });
    const queue = createChangeQueue(settings, azurite.clients);
    const batch = changeBatch();
    await queue.send([batch]);
    await queue.close();
    const receiver = storageQueueReceiver({
      queues: azurite.clients.queues,
      queueName: 'created-changes',
      subQueue: 'active',
      delivery: { lockSeconds: 30, retryDelaySeconds: 0, maxDeliveryCount: 3 },
    });
    const [message] = await receiver.receive(1, 5_000);
    expect(await createChangeBatchReader(azurite.clients).readChangeBatch(message?.body)).toEqual(batch);
  });
});
