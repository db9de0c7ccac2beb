import { describe, expect, it } from 'vitest';
import { ExportError } from '../../shared/errors';
import { createTableStatusStore } from '../../shared/state/table-status';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();

describe('table status store (Table storage)', () => {
  it('merges the fields each writer owns without clobbering the others', async () => {
    const status = createTableStatusStore(azurite.clients);
    expect(await status.read('p1', 'account')).toBeUndefined();

    // Initial sync, poller and applier write at the same time, each its own fields.
    await Promise.all([
      status.update('p1', 'account', { phase: 'initial', initialRowsCopied: 5000, pages: 1 }),
      status.update('p1', 'account', { oldestUnappliedChangeAt: '2026-11-21T10:00:00.000Z' }),
      status.update('p1', 'account', {
        rowsInDestination: 4_000_000_000,
        lastSuccessfulSyncAt: '2026-11-21T10:00:05.000Z',
      }),
    ]);
    await status.update('p1', 'account', { phase: 'delta' });

    expect(await status.read('p1', 'account')).toMatchObject({
      table: 'account',
      phase: 'delta',
      initialRowsCopied: 5000,
      pages: 1,
      oldestUnappliedChangeAt: '2026-11-21T10:00:00.000Z',
      rowsInDestination: 4_000_000_000,
      lastSuccessfulSyncAt: '2026-11-21T10:00:05.000Z',
      rowsApplied: 0,
      failedRecords: 0,
    });
  });

  it('records the last error as class and message only, and clears it and the lag when caught up', async () => {
    const status = createTableStatusStore(azurite.clients);
    const error = new ExportError('throttled', 'Dataverse asked to slow down', {
      cause: new Error('raw response with Authorization: Bearer abc'),
    });
    await status.update('p2', 'account', { lastError: error, oldestUnappliedChangeAt: '2026-11-21T10:00:00.000Z' });

    const failing = await status.read('p2', 'account');
    expect(failing?.lastError).toMatchObject({ errorClass: 'throttled', message: 'Dataverse asked to slow down' });
    expect(JSON.stringify(failing)).not.toContain('Bearer');

    await status.update('p2', 'account', { lastError: null, oldestUnappliedChangeAt: null });
    const recovered = await status.read('p2', 'account');
    expect(recovered?.lastError).toBeUndefined();
    expect(recovered?.oldestUnappliedChangeAt).toBeUndefined();
  });

  it('keeps who wrote the last error, and forgets it with an error written by someone who did not say', async () => {
    const status = createTableStatusStore(azurite.clients);
    const error = new ExportError('transient', 'WhoAmI: fetch failed');
    await status.update('p9', 'account', { lastError: error, lastErrorSource: 'poll' });
    expect((await status.read('p9', 'account'))?.lastError).toMatchObject({ source: 'poll' });

    await status.update('p9', 'account', { lastError: new ExportError('data', 'refused') });
    const unsourced = await status.read('p9', 'account');
    expect(unsourced?.lastError).toMatchObject({ message: 'refused' });
    expect(unsourced?.lastError?.source).toBeUndefined();
  });

  it('keeps the list of queued polls, in order, until it is replaced or emptied', async () => {
    const status = createTableStatusStore(azurite.clients);
    const polls = ['2026-11-21T10:00:00.000Z', '2026-11-21T10:01:00.000Z', '2026-11-21T10:02:00.000Z'];
    await status.update('p4', 'account', { queuedPolls: polls });
    expect((await status.read('p4', 'account'))?.queuedPolls).toEqual(polls);
    await status.update('p4', 'account', { lastSuccessfulSyncAt: '2026-11-21T10:03:00.000Z' });
    expect((await status.read('p4', 'account'))?.queuedPolls).toEqual(polls);
    await status.update('p4', 'account', { queuedPolls: [] });
    expect((await status.read('p4', 'account'))?.queuedPolls).toBeUndefined();
    await expect(status.update('p4', 'account', { queuedPolls: ['yesterday'] })).rejects.toThrow(/not valid/);
  });

  it('counts every one of 20 concurrent increments, interleaved with merges of other fields', async () => {
    const status = createTableStatusStore(azurite.clients);
    await Promise.all([
      ...Array.from({ length: 20 }, (_, index) =>
        status.increment('p3', 'contact', { rowsApplied: 100, failedRecords: index % 2 }),
      ),
      ...Array.from({ length: 5 }, (_, index) => status.update('p3', 'contact', { rowsInDestination: index })),
    ]);
    expect(await status.read('p3', 'contact')).toMatchObject({ rowsApplied: 2000, failedRecords: 10 });
  });

  it('keeps tables whose names share a prefix apart', async () => {
    const status = createTableStatusStore(azurite.clients);
    await status.increment('p6', 'account', { rowsApplied: 1 });
    await status.increment('p6', 'account2', { rowsApplied: 10 });
    await status.increment('p6', 'account_ext', { failedRecords: 100 });
    await status.update('p6', 'account2', { phase: 'delta' });
    expect(await status.read('p6', 'account')).toMatchObject({ table: 'account', rowsApplied: 1, failedRecords: 0 });
    expect((await status.read('p6', 'account'))?.phase).toBeUndefined();
    expect(await status.read('p6', 'account2')).toMatchObject({ table: 'account2', phase: 'delta', rowsApplied: 10 });
    expect((await status.listByProfile('p6')).map((entry) => entry.table)).toEqual([
      'account',
      'account2',
      'account_ext',
    ]);
  });

  it('refuses to count backwards and invalid fields', async () => {
    const status = createTableStatusStore(azurite.clients);
    await expect(status.increment('p4', 'contact', { rowsApplied: -1 })).rejects.toMatchObject({ errorClass: 'data' });
    await expect(status.update('p4', 'contact', { rowsInDestination: 1.5 })).rejects.toMatchObject({
      errorClass: 'data',
    });
    await expect(status.update('p4', 'contact', { lastSuccessfulSyncAt: 'yesterday' })).rejects.toMatchObject({
      errorClass: 'data',
    });
  });

  it('lists every table of one profile', async () => {
    const status = createTableStatusStore(azurite.clients);
    await status.update('p5', 'account', { phase: 'delta' });
    await status.increment('p5', 'contact', { rowsApplied: 3 });
    await status.update('p5x', 'account', { phase: 'initial' });
    const listed = await status.listByProfile('p5');
    expect(listed.map((entry) => [entry.table, entry.phase, entry.rowsApplied])).toEqual([
      ['account', 'delta', 0],
      ['contact', undefined, 3],
    ]);
  });
});
