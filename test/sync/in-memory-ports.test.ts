/**
 * The in-memory ports the applier and poller tests run on keep the contracts of the real stores: the checkpoint
 * cases are those of test/state/checkpoints.test.ts, the lease cases those of test/state/poll-leases.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../shared/errors';
import type { CheckpointFields } from '../../shared/state/checkpoints';
import { WriteConflict } from '../../shared/storage/errors';
import { activationSchema } from '../../shared/sync/wiring/services';
import { inMemoryCheckpointStore, inMemoryDocumentStore, inMemoryPollLeases } from '../support/in-memory-state';
import { fixedClock } from '../support/in-memory-sync';

const initial: CheckpointFields = {
  phase: 'initial',
  nextLink: 'https://org.crm.dynamics.com/api/data/v9.2/accounts?$skiptoken=abc',
  rowsCopied: 0,
  pages: 0,
  startedAt: '2026-11-21T10:00:00.000Z',
};

describe('in-memory checkpoint store', () => {
  it('creates, reads back and replaces a checkpoint, stamping updatedAt and moving the ETag', async () => {
    const clock = fixedClock();
    const store = inMemoryCheckpointStore(clock.now);
    expect(await store.read('p1', 'account')).toBeUndefined();
    const created = await store.create('p1', 'account', initial);
    expect(await store.read('p1', 'account')).toEqual(created);
    expect(created.value.updatedAt).toBe(clock.now().toISOString());

    const delta: CheckpointFields = { ...initial, phase: 'delta', nextLink: undefined, deltaLink: 'd', watermark: 9 };
    const updated = await store.update('p1', 'account', delta, created.etag);
    expect(updated.etag).not.toBe(created.etag);
    expect((await store.read('p1', 'account'))?.value.nextLink).toBeUndefined();
  });

  it('lets only one of two writers holding the same ETag advance the checkpoint', async () => {
    const store = inMemoryCheckpointStore(fixedClock().now);
    const { etag } = await store.create('p2', 'contact', initial);
    const results = await Promise.allSettled(
      [1, 2].map((pages) => store.update('p2', 'contact', { ...initial, pages }, etag)),
    );
    const lost = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(WriteConflict);
    expect((lost[0] as ExportError).errorClass).toBe('transient');
  });

  it('refuses to create a checkpoint twice, and an invalid one', async () => {
    const store = inMemoryCheckpointStore(fixedClock().now);
    await store.create('p3', 'account', initial);
    await expect(store.create('p3', 'account', initial)).rejects.toBeInstanceOf(WriteConflict);
    await expect(store.create('p3', 'contact', { ...initial, pages: -1 })).rejects.toBeInstanceOf(ExportError);
  });

  it('resets a table to its first page so a worker holding the old ETag loses', async () => {
    const store = inMemoryCheckpointStore(fixedClock().now);
    const created = await store.create('p4', 'account', { ...initial, phase: 'delta', deltaLink: 'd', watermark: 7 });
    const reset = await store.reset('p4', 'account', 'resync');
    expect(reset.value).toMatchObject({ phase: 'resync', rowsCopied: 0, pages: 0 });
    expect(reset.value.deltaLink).toBeUndefined();
    await expect(store.update('p4', 'account', initial, created.etag)).rejects.toBeInstanceOf(WriteConflict);
  });

  it('lists the checkpoints of one profile only', async () => {
    const store = inMemoryCheckpointStore(fixedClock().now);
    await store.create('p5', 'account', initial);
    await store.create('p5', 'contact', initial);
    await store.create('p5x', 'account', initial);
    expect((await store.listByProfile('p5')).map((entry) => entry.table).sort()).toEqual(['account', 'contact']);
  });
});

describe('in-memory poll leases', () => {
  it('gives a table to one poller at a time, to the next after release or expiry, and a lost lease fails renew', async () => {
    const clock = fixedClock();
    const leases = inMemoryPollLeases(clock.now);
    const first = await leases.tryAcquire('p', 'account', 15);
    expect(first).toBeDefined();
    expect(await leases.tryAcquire('p', 'account', 15)).toBeUndefined();
    expect(await leases.tryAcquire('p', 'contact', 15)).toBeDefined();
    await first?.release();
    const second = await leases.tryAcquire('p', 'account', 15);
    expect(second).toBeDefined();

    clock.advance(15_000);
    const third = await leases.tryAcquire('p', 'account', 15);
    expect(third).toBeDefined();
    await expect(second?.renew()).rejects.toMatchObject({ errorClass: 'transient' });
    await third?.renew();
  });

  it('rejects durations Azure does not accept', async () => {
    const leases = inMemoryPollLeases(fixedClock().now);
    for (const seconds of [14, 61, 15.5])
      await expect(leases.tryAcquire('p', 'account', seconds)).rejects.toMatchObject({ errorClass: 'config' });
  });
});

describe('in-memory document store', () => {
  it('keeps the ETag conditions: replace only the version read, create only if free', async () => {
    const store = inMemoryDocumentStore('activation', activationSchema);
    const value = { state: 'active' as const, tables: ['account'], activatedAt: '2026-11-21T10:00:00.000Z' };
    const created = await store.put('p', value, { ifNoneMatch: '*' });
    await expect(store.put('p', value, { ifNoneMatch: '*' })).rejects.toBeInstanceOf(WriteConflict);
    const replaced = await store.put('p', { ...value, state: 'inactive' }, { ifMatch: created.etag });
    await expect(store.put('p', value, { ifMatch: created.etag })).rejects.toBeInstanceOf(WriteConflict);
    await expect(store.delete('p', { ifMatch: created.etag })).rejects.toBeInstanceOf(WriteConflict);
    expect(await store.delete('p', { ifMatch: replaced.etag })).toBe(true);
    await expect(store.put('q', { ...value, state: 'asleep' } as never)).rejects.toMatchObject({
      errorClass: 'config',
    });
  });
});
