import { describe, expect, it } from 'vitest';
import { poisonQueueName } from '../../shared/queue/storage-queue';
import { STATE_CONTAINER } from '../../shared/state/names';
import { UNPROCESSABLE_ROOT, type StoredUnprocessableMessage } from '../../shared/state/unprocessable-messages';
import { useProduct } from '../support/pipeline';
import { waitFor } from '../support/wait';

const product = useProduct();

const validBatch = {
  schemaVersion: 1,
  profile: 'sales',
  table: 'account',
  batchId: 'u-0123456789',
  watermark: 10,
  upserts: [],
  deletes: [],
  attempt: 0,
  readAt: '2026-01-01T00:00:00.000Z',
};

/** What was sent → what the stored reason must say. */
const broken: Array<{ body: string; reason: RegExp }> = [
  { body: 'this is plain text, not a change batch', reason: /^change-queue message body is not JSON: / },
  { body: '{"schemaVersion":1,"profile":"sales"', reason: /^change-queue message body is not JSON: / },
  { body: '[1,2,3]', reason: /^change-queue message is not a JSON object but an array$/ },
  {
    body: '{"hello":"world"}',
    reason: /^change-queue message is not a valid change batch: schemaVersion: .*profile: /,
  },
  {
    body: JSON.stringify({ ...validBatch, upserts: [{ id: 'not-a-guid', versionNumber: 5, row: {} }] }),
    reason: /^change-queue message is not a valid change batch: upserts\.0\.id: must be a GUID$/,
  },
  {
    body: JSON.stringify({ ...validBatch, schemaVersion: 2 }),
    reason: /^change-queue message has schemaVersion 2; this deployment reads version 1$/,
  },
];

describe('messages the applier cannot read', () => {
  it('are parked in unprocessablemessages/ with the reason and the raw body, and leave neither the queue nor its poison queue holding them', async () => {
    const p = product();
    const queue = p.deps.storage.queues.getQueueClient('dataverse-changes');
    await queue.createIfNotExists();
    const sent = new Map<string, { body: string; reason: RegExp }>();
    for (const message of broken) {
      const receipt = await queue.sendMessage(message.body);
      sent.set(receipt.messageId, message);
    }

    const container = p.deps.storage.blobs.getContainerClient(STATE_CONTAINER);
    const parked = await waitFor('every broken message parked', async () => {
      const found: StoredUnprocessableMessage[] = [];
      if (!(await container.exists())) return undefined;
      for await (const blob of container.listBlobsFlat({ prefix: `${UNPROCESSABLE_ROOT}/` })) {
        const text = (await container.getBlockBlobClient(blob.name).downloadToBuffer()).toString('utf8');
        found.push(JSON.parse(text) as StoredUnprocessableMessage);
      }
      return found.length >= broken.length ? found : undefined;
    });
    expect(parked).toHaveLength(broken.length);
    for (const stored of parked) {
      const original = sent.get(stored.messageId);
      expect(original, `a parked message ${stored.messageId} that was sent`).toBeDefined();
      expect(stored.rawBody).toBe(original?.body);
      expect(stored.reason).toMatch(original?.reason ?? /never/);
      expect(stored).toMatchObject({ rawBodyChars: original?.body.length, truncated: false });
    }

    const emptied = await waitFor('the queue emptied', async () => {
      const properties = await queue.getProperties();
      return properties.approximateMessagesCount === 0 ? properties : undefined;
    });
    expect(emptied.approximateMessagesCount).toBe(0);
    const poison = await p.deps.storage.queues
      .getQueueClient(poisonQueueName('dataverse-changes'))
      .peekMessages({ numberOfMessages: 32 });
    expect(poison.peekedMessageItems).toEqual([]);
  });
});
