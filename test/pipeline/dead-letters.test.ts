import { describe, expect, it } from 'vitest';
import { poisonQueueName } from '../../shared/queue/storage-queue';
import { CHANGE_BATCH_SCHEMA_VERSION, type ChangeBatch } from '../../shared/queue/change-batch';
import { sampleProfile, useProduct } from '../support/pipeline';
import { waitFor } from '../support/wait';

const product = useProduct({ sync: { pageSize: 100 } });

describe('dead-lettered batches', () => {
  it('puts every row of a batch the queue dead-lettered in the failed-records store, and an unreadable one in unprocessablemessages', async () => {
    const p = product();
    expect(
      (await p.call('PUT', 'profiles/deadletters', sampleProfile(p, { tables: ['account'], relationships: [] })))
        .status,
    ).toBe(201);
    const batch: ChangeBatch = {
      schemaVersion: CHANGE_BATCH_SCHEMA_VERSION,
      profile: 'deadletters',
      table: 'account',
      batchId: 'u-dead-lettered-1',
      watermark: 10,
      upserts: [
        {
          kind: 'upsert',
          id: '00000000-0000-4000-8000-000000000001',
          versionNumber: 5,
          row: { name: 'kept for resync' },
        },
      ],
      deletes: [{ id: '00000000-0000-4000-8000-000000000002' }],
      attempt: 3,
      readAt: new Date().toISOString(),
    };
    // What the local host does after maxDeliveryCount failed deliveries; Service Bus does the same into $deadletterqueue.
    const poison = p.deps.storage.queues.getQueueClient(poisonQueueName('dataverse-changes'));
    await poison.sendMessage(JSON.stringify(batch));
    await poison.sendMessage('{"not": "a change batch"}');

    const failures = await waitFor('two failed records', async () => {
      const listed = await p.deps.sync.failedRecords.list('deadletters');
      return listed.records.length === 2 ? listed.records : undefined;
    });
    expect(failures.map((record) => [record.id, record.changeType]).sort()).toEqual([
      ['00000000-0000-4000-8000-000000000001', 'upsert'],
      ['00000000-0000-4000-8000-000000000002', 'delete'],
    ]);
    const upsert = await p.deps.sync.failedRecords.download(
      failures.find((record) => record.changeType === 'upsert')?.key as string,
    );
    expect(upsert).toMatchObject({
      reason: 'dead-lettered by the queue: delivery count exceeded',
      attempt: 3,
      payload: { name: 'kept for resync' },
    });

    const container = p.deps.storage.blobs.getContainerClient('dvexport-state');
    const parked = await waitFor('the unreadable message in unprocessablemessages', async () => {
      for await (const blob of container.listBlobsFlat({ prefix: 'unprocessablemessages/' })) return blob.name;
      return undefined;
    });
    const text = (await container.getBlobClient(parked).downloadToBuffer()).toString('utf8');
    expect(text).toContain('dead-lettered by the queue');
    const left = await poison.peekMessages({ numberOfMessages: 5 });
    expect(left.peekedMessageItems).toHaveLength(0);
  });
});
