import { describe, expect, it } from 'vitest';
import { createBlobFailedRecordStore, type FailedRecord } from '../../shared/state/failed-records';
import { STATE_CONTAINER } from '../../shared/state/names';
import { sweepExpiredFailures } from '../../shared/state/retention';
import { createBlobUnprocessableMessageStore, MAX_RAW_BODY_CHARS } from '../../shared/state/unprocessable-messages';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();

const guid = (index: number) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;

function failure(
  profile: string,
  table: string,
  index: number,
  failedAt: string,
  changeType: FailedRecord['changeType'] = 'upsert',
): FailedRecord {
  return {
    profile,
    table,
    id: guid(index),
    changeType,
    failedAt,
    reason: `String or binary data would be truncated in column name (row ${index})`,
    errorClass: 'data',
    attempt: 12,
    batchId: `batch-${index}`,
    ...(changeType === 'upsert'
      ? { payload: { accountid: guid(index), name: 'x'.repeat(10), versionnumber: 1000 + index } }
      : {}),
  };
}

async function blobNamesUnder(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of azurite.clients.blobs.getContainerClient(STATE_CONTAINER).listBlobsFlat({ prefix }))
    names.push(blob.name);
  return names;
}

describe('failed-records store (blobs)', () => {
  it('stores each record as JSON in the DES-like hour layout and downloads it by its key', async () => {
    const store = createBlobFailedRecordStore(azurite.clients);
    const upsert = failure('p1', 'account', 1, '2026-11-21T10:05:03.123Z');
    const removal = failure('p1', 'account', 2, '2026-11-21T10:05:04.000Z', 'delete');
    const keys = await store.record([upsert, removal]);

    expect(keys).toEqual([
      `failurelog/2026/11/21/10/p1/account/20261121T100503123Z-${guid(1)}-upsert.json`,
      `failurelog/2026/11/21/10/p1/account/20261121T100504000Z-${guid(2)}-delete.json`,
    ]);
    expect(await blobNamesUnder('failurelog/2026/11/21/10/p1/')).toEqual(keys);
    expect(await store.download(keys[0] as string)).toEqual(upsert);
    expect(await store.download(keys[1] as string)).toEqual(removal);
  });

  it('refuses an upsert without its row, and keys that are not failed-record keys', async () => {
    const store = createBlobFailedRecordStore(azurite.clients);
    const { payload: _payload, ...withoutRow } = failure('p1', 'account', 3, '2026-11-21T10:00:00.000Z');
    await expect(store.record([withoutRow])).rejects.toMatchObject({ errorClass: 'data' });
    await expect(store.download('profiles/p1.json')).rejects.toMatchObject({ errorClass: 'config' });
    await expect(store.resolve(['failurelog/../profiles/p1.json'])).rejects.toMatchObject({ errorClass: 'config' });
  });

  it('lists a profile newest first across hours and days, in pages, optionally for one table', async () => {
    const store = createBlobFailedRecordStore(azurite.clients);
    const times = [
      '2026-11-19T23:59:59.999Z',
      '2026-11-20T00:00:00.000Z',
      '2026-11-20T00:30:00.000Z',
      '2026-11-20T13:00:00.000Z',
      '2026-11-21T08:00:00.000Z',
    ];
    const records = times.flatMap((time, index) => [
      failure('p2', 'account', index, time),
      failure('p2', 'contact', 100 + index, time, 'delete'),
    ]);
    await store.record([...records, failure('p2x', 'account', 999, times[4] as string)]);

    const pages: string[][] = [];
    let after: string | undefined;
    do {
      const page = await store.list('p2', { pageSize: 3, after });
      pages.push(page.records.map((record) => `${record.failedAt} ${record.table}`));
      after = page.next;
    } while (after !== undefined);

    const expected = [...times].reverse().flatMap((time) => [`${time} contact`, `${time} account`]);
    expect(pages.flat()).toEqual(expected);
    expect(pages.map((page) => page.length)).toEqual([3, 3, 3, 1]);

    const accounts = await store.list('p2', { table: 'account' });
    expect(accounts.next).toBeUndefined();
    expect(accounts.records.map((record) => record.failedAt)).toEqual([...times].reverse());
    expect(accounts.records[0]).toMatchObject({ profile: 'p2', table: 'account', id: guid(4), changeType: 'upsert' });
  });

  it('counts unresolved records per table and resolves them one by one or per table after a resync', async () => {
    const store = createBlobFailedRecordStore(azurite.clients);
    const keys = await store.record([
      failure('p3', 'account', 1, '2026-11-20T09:00:00.000Z'),
      failure('p3', 'account', 2, '2026-11-21T09:00:00.000Z'),
      failure('p3', 'account', 3, '2026-11-21T11:00:00.000Z'),
      failure('p3', 'contact', 4, '2026-11-21T09:00:00.000Z'),
    ]);
    expect(await store.countByTable('p3')).toEqual({ account: 3, contact: 1 });

    expect(await store.resolve([keys[3] as string, keys[3] as string])).toBe(1);
    expect(await store.countByTable('p3')).toEqual({ account: 3 });

    // A resync that started at 10:30 fixed what failed before it, not what failed during it.
    expect(await store.resolveTable('p3', 'account', '2026-11-21T10:30:00.000Z')).toBe(2);
    const left = await store.list('p3');
    expect(left.records.map((record) => record.key)).toEqual([keys[2]]);
    expect(await store.download(keys[0] as string)).toBeUndefined();
  });

  it('records the same failure twice as one record', async () => {
    const store = createBlobFailedRecordStore(azurite.clients);
    const record = failure('p4', 'account', 1, '2026-11-21T09:00:00.000Z');
    await store.record([record]);
    await store.record([record]);
    expect(await store.countByTable('p4')).toEqual({ account: 1 });
  });

  it('keeps an unprocessable message in its hour folder, truncating a huge body and noting its size', async () => {
    const messages = createBlobUnprocessableMessageStore(azurite.clients);
    const small = await messages.record({
      messageId: 'batch-1.0',
      receivedAt: '2026-11-21T10:00:00.000Z',
      reason: 'not JSON',
      rawBody: '{"schemaVersion":',
    });
    const huge = await messages.record({
      messageId: 'a/b?c',
      receivedAt: '2026-11-21T10:59:59.000Z',
      reason: 'unknown schema version 9',
      rawBody: 'y'.repeat(MAX_RAW_BODY_CHARS + 10),
    });
    expect(small).toBe('unprocessablemessages/2026/11/21/10/batch-1.0.json');
    expect(huge).toBe('unprocessablemessages/2026/11/21/10/a%2Fb%3Fc.json');

    const container = azurite.clients.blobs.getContainerClient(STATE_CONTAINER);
    const stored = JSON.parse((await container.getBlockBlobClient(huge).downloadToBuffer()).toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(stored).toMatchObject({
      messageId: 'a/b?c',
      reason: 'unknown schema version 9',
      rawBodyChars: MAX_RAW_BODY_CHARS + 10,
      truncated: true,
    });
    expect((stored.rawBody as string).length).toBe(MAX_RAW_BODY_CHARS);
  });

  it('sweeps away whole hours older than the retention period and keeps the rest', async () => {
    const store = createBlobFailedRecordStore(azurite.clients);
    const messages = createBlobUnprocessableMessageStore(azurite.clients);
    await store.record([
      failure('p5', 'account', 1, '2025-12-31T23:10:00.000Z'),
      failure('p5', 'account', 2, '2026-10-01T12:00:00.000Z'),
      failure('p5', 'contact', 3, '2026-10-22T09:59:59.999Z'),
      failure('p5', 'contact', 4, '2026-10-22T10:00:00.000Z'),
      failure('p5', 'contact', 5, '2026-11-21T09:00:00.000Z'),
    ]);
    await messages.record({
      messageId: 'old',
      receivedAt: '2026-10-01T00:00:00.000Z',
      reason: 'not JSON',
      rawBody: '',
    });

    // 30 days before 2026-11-21T10:30Z is 2026-10-22T10:30Z: the 09:00 hour has ended by then and goes; the 10:00
    // hour has not, so its record (30 days and 30 minutes old) stays until the whole hour has expired.
    const now = new Date('2026-11-21T10:30:00.000Z');
    const before = [...(await blobNamesUnder('failurelog/')), ...(await blobNamesUnder('unprocessablemessages/'))];
    const { deletedBlobs } = await sweepExpiredFailures(azurite.clients, { now });
    const after = [...(await blobNamesUnder('failurelog/')), ...(await blobNamesUnder('unprocessablemessages/'))];

    expect(deletedBlobs).toBe(4);
    expect(after).toHaveLength(before.length - 4);
    expect(after.filter((name) => name.includes('/p5/'))).toEqual([
      `failurelog/2026/10/22/10/p5/contact/20261022T100000000Z-${guid(4)}-upsert.json`,
      `failurelog/2026/11/21/09/p5/contact/20261121T090000000Z-${guid(5)}-upsert.json`,
    ]);
    expect(after.some((name) => name.includes('/2026/10/01/'))).toBe(false);
    await expect(sweepExpiredFailures(azurite.clients, { retentionDays: 0 })).rejects.toMatchObject({
      errorClass: 'config',
    });
  });
});
