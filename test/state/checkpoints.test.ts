import { describe, expect, it } from 'vitest';
import { ExportError } from '../../shared/errors';
import { createTableCheckpointStore, MAX_LINK_CHARS, type CheckpointFields } from '../../shared/state/checkpoints';
import { WriteConflict } from '../../shared/storage/errors';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();

const initial: CheckpointFields = {
  phase: 'initial',
  nextLink: 'https://org.crm.dynamics.com/api/data/v9.2/accounts?$skiptoken=abc',
  rowsCopied: 0,
  pages: 0,
  startedAt: '2026-11-21T10:00:00.000Z',
};

describe('checkpoint store (Table storage)', () => {
  it('creates, reads back and updates a checkpoint, stamping updatedAt and moving the ETag', async () => {
    const store = createTableCheckpointStore(azurite.clients);
    expect(await store.read('p1', 'account')).toBeUndefined();

    const created = await store.create('p1', 'account', initial);
    const read = await store.read('p1', 'account');
    expect(read).toEqual(created);
    expect(read?.value).toMatchObject(initial);

    const delta: CheckpointFields = {
      phase: 'delta',
      deltaLink: 'https://org.crm.dynamics.com/api/data/v9.2/accounts?$deltatoken=919042!11/21/2026',
      watermark: 5_000_000_000,
      rowsCopied: 12_345,
      pages: 3,
      startedAt: initial.startedAt,
      initialSyncCompletedAt: '2026-11-21T10:05:00.000Z',
    };
    const updated = await store.update('p1', 'account', delta, created.etag);
    expect(updated.etag).not.toBe(created.etag);
    const reread = await store.read('p1', 'account');
    // Replace semantics: the finished initial sync's nextLink is gone, not left behind.
    expect(reread?.value).toEqual({ ...delta, updatedAt: updated.value.updatedAt });
    expect(reread?.value.nextLink).toBeUndefined();
  });

  it('lets only one of two writers holding the same ETag advance the checkpoint', async () => {
    const store = createTableCheckpointStore(azurite.clients);
    const { etag } = await store.create('p2', 'contact', initial);
    const advance = (pages: number) =>
      store.update('p2', 'contact', { ...initial, pages, rowsCopied: pages * 5000 }, etag);

    const results = await Promise.allSettled([advance(1), advance(2)]);
    const won = results.filter((result) => result.status === 'fulfilled');
    const lost = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(WriteConflict);
    expect(lost[0]).toBeInstanceOf(ExportError);
    expect((lost[0] as ExportError).errorClass).toBe('transient');
    expect((await store.read('p2', 'contact'))?.value.pages).toBe(won[0]?.value.value.pages);
  });

  it('refuses to create a checkpoint twice', async () => {
    const store = createTableCheckpointStore(azurite.clients);
    await store.create('p3', 'account', initial);
    await expect(store.create('p3', 'account', initial)).rejects.toBeInstanceOf(WriteConflict);
  });

  it('resets a table to its first page so a worker holding the old ETag loses', async () => {
    const store = createTableCheckpointStore(azurite.clients);
    const created = await store.create('p4', 'account', {
      ...initial,
      phase: 'delta',
      nextLink: undefined,
      deltaLink: 'https://x/delta',
      watermark: 7,
      rowsCopied: 10,
      pages: 1,
    });

    const reset = await store.reset('p4', 'account', 'resync');
    expect(reset.value).toMatchObject({ phase: 'resync', rowsCopied: 0, pages: 0 });
    expect(reset.value.deltaLink).toBeUndefined();
    expect(reset.value.watermark).toBeUndefined();
    expect((await store.read('p4', 'account'))?.value).toEqual(reset.value);
    await expect(store.update('p4', 'account', initial, created.etag)).rejects.toBeInstanceOf(WriteConflict);
  });

  it('lists the checkpoints of one profile only', async () => {
    const store = createTableCheckpointStore(azurite.clients);
    await store.create('p5', 'account', initial);
    await store.create('p5', 'contact', initial);
    await store.create('p5x', 'account', initial);
    const listed = await store.listByProfile('p5');
    expect(listed.map((entry) => entry.table).sort()).toEqual(['account', 'contact']);
    expect(listed[0]?.value).toMatchObject(initial);
  });

  it('keeps a link longer than one Table string property (32K characters) intact, and replaces it atomically', async () => {
    const store = createTableCheckpointStore(azurite.clients);
    const cookie = encodeURIComponent(
      `<cookie page="2">${'<accountid last="{0B3D0F41-5C6E-4F51-9F0C-3C1A22D1E7C3}" />'.repeat(2_000)}</cookie>`,
    );
    const longLink = `https://org.crm.dynamics.com/api/data/v9.2/accounts?$skiptoken=${cookie}`;
    expect(longLink.length).toBeGreaterThan(100_000);
    expect(longLink.length).toBeLessThan(MAX_LINK_CHARS);

    const created = await store.create('p6', 'account', { ...initial, nextLink: longLink });
    expect((await store.read('p6', 'account'))?.value.nextLink).toBe(longLink);

    // A shorter link afterwards leaves no stale chunk of the long one behind.
    const shorter = `${longLink.slice(0, 40_000)}&page=3`;
    await store.update('p6', 'account', { ...initial, nextLink: shorter, pages: 2 }, created.etag);
    expect((await store.read('p6', 'account'))?.value.nextLink).toBe(shorter);
  });

  it('keeps a surrogate pair whole when it sits on a chunk boundary', async () => {
    const store = createTableCheckpointStore(azurite.clients);
    const link = `${'a'.repeat(29_999)}😀${'b'.repeat(31_000)}`;
    await store.create('p7', 'account', { ...initial, nextLink: link });
    expect((await store.read('p7', 'account'))?.value.nextLink).toBe(link);
  });

  it('refuses a link too long for one entity with a data error that says how to fix it', async () => {
    const store = createTableCheckpointStore(azurite.clients);
    const error = await store
      .create('p8', 'account', { ...initial, nextLink: 'x'.repeat(MAX_LINK_CHARS + 1) })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).errorClass).toBe('data');
    expect((error as ExportError).fix).toMatch(/maxpagesize/);
  });

  it('rejects names that cannot be storage keys, and invalid fields', async () => {
    const store = createTableCheckpointStore(azurite.clients);
    await expect(store.create('p9', 'account', { ...initial, rowsCopied: -1 })).rejects.toMatchObject({
      errorClass: 'data',
    });
    await expect(store.read('a/b', 'account')).rejects.toMatchObject({ errorClass: 'config' });
  });
});
