import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../shared/errors';
import { keepRenewing } from '../../shared/storage/blob-lease';
import { createBlobPollLeases } from '../../shared/state/poll-leases';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();

describe('poll leases (blob leases)', () => {
  it('gives a table to one poller at a time, and to the next one after release', async () => {
    const leases = createBlobPollLeases(azurite.clients);
    const contenders = await Promise.all(Array.from({ length: 5 }, () => leases.tryAcquire('p1', 'account', 15)));
    const holders = contenders.filter((lease) => lease !== undefined);
    expect(holders).toHaveLength(1);
    expect(await leases.tryAcquire('p1', 'account', 15)).toBeUndefined();

    // Other tables and profiles are independent.
    const contact = await leases.tryAcquire('p1', 'contact', 15);
    const otherProfile = await leases.tryAcquire('p2', 'account', 15);
    expect(contact).toBeDefined();
    expect(otherProfile).toBeDefined();

    await holders[0]?.release();
    const next = await leases.tryAcquire('p1', 'account', 15);
    expect(next).toBeDefined();
    expect(next?.leaseId).not.toBe(holders[0]?.leaseId);
    await Promise.all([next?.release(), contact?.release(), otherProfile?.release()]);
  });

  it('rejects durations Azure does not accept', async () => {
    const leases = createBlobPollLeases(azurite.clients);
    await expect(leases.tryAcquire('p1', 'account', 14)).rejects.toMatchObject({ errorClass: 'config' });
    await expect(leases.tryAcquire('p1', 'account', 61)).rejects.toMatchObject({ errorClass: 'config' });
  });

  it('keeps a renewed lease past its first expiry (by hand or by its keeper) and frees an unrenewed one; the loser learns it on renew or check', async () => {
    const leases = createBlobPollLeases(azurite.clients);
    const renewed = await leases.tryAcquire('p3', 'account', 15);
    const abandoned = await leases.tryAcquire('p3', 'contact', 15);
    const kept = await leases.tryAcquire('p3', 'opportunity', 15);
    expect(renewed).toBeDefined();
    expect(abandoned).toBeDefined();
    if (!kept) throw new Error('the opportunity lease was not acquired');
    const keeper = keepRenewing(kept, 5_000);

    await sleep(8_000);
    await renewed?.renew();
    await sleep(9_000);

    // 17 s after acquiring: the renewed lease runs until about 23 s, the abandoned one expired at 15 s.
    expect(await leases.tryAcquire('p3', 'account', 15)).toBeUndefined();
    // Renewed by its keeper's timer alone, with no work done under it.
    expect(await leases.tryAcquire('p3', 'opportunity', 15)).toBeUndefined();
    expect(() => keeper.check()).not.toThrow();
    const taker = await leases.tryAcquire('p3', 'contact', 15);
    expect(taker).toBeDefined();

    const lost = await abandoned?.renew().catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(ExportError);
    expect((lost as ExportError).errorClass).toBe('transient');
    // Releasing a lost lease must not free the new holder's lease.
    await abandoned?.release();
    expect(await leases.tryAcquire('p3', 'contact', 15)).toBeUndefined();

    // A keeper whose lease was taken reports it on the next check.
    const lostKeeper = keepRenewing(abandoned as NonNullable<typeof abandoned>, 50);
    await sleep(300);
    expect(() => lostKeeper.check()).toThrow(ExportError);
    lostKeeper.stop();
    keeper.stop();
    await Promise.all([renewed?.release(), taker?.release(), kept.release()]);
  });
});
