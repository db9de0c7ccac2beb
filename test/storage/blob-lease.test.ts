/** Blob leases against Azurite: one holder at a time, the blob made on first use, and a lost lease noticed. */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isLeaseLost, keepRenewing, tryAcquireBlobLease } from '../../shared/storage/blob-lease';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();

async function blob(name: string) {
  const container = azurite.clients.blobs.getContainerClient('leases-test');
  await container.createIfNotExists();
  return container.getBlockBlobClient(name);
}

describe('blob leases', () => {
  it('creates the blob on first use and gives it to one of many contenders, then to the next after release', async () => {
    const target = await blob('first-use');
    expect(await target.exists()).toBe(false);
    const contenders = await Promise.all(Array.from({ length: 5 }, () => tryAcquireBlobLease(target, 15)));
    const holders = contenders.filter((lease) => lease !== undefined);
    expect(holders).toHaveLength(1);
    expect(await target.exists()).toBe(true);
    expect(await tryAcquireBlobLease(target, 15)).toBeUndefined();

    await holders[0]?.release();
    const next = await tryAcquireBlobLease(target, 15);
    expect(next?.leaseId).toBeDefined();
    expect(next?.leaseId).not.toBe(holders[0]?.leaseId);
    await next?.release();
  });

  it('tells a holder whose lease was taken: renew fails as lost, release leaves the new holder alone, the keeper reports it', async () => {
    const target = await blob('taken');
    const first = await tryAcquireBlobLease(target, 15);
    if (!first) throw new Error('the first lease was not acquired');
    // As if the lease had expired: break it at once, so another holder can take it.
    await target.getBlobLeaseClient().breakLease(0);
    const second = await tryAcquireBlobLease(target, 15);
    expect(second).toBeDefined();

    const lost = await first.renew().catch((error: unknown) => error);
    expect(isLeaseLost(lost)).toBe(true);
    await first.release();
    expect(await tryAcquireBlobLease(target, 15)).toBeUndefined();

    const keeper = keepRenewing(first, 20);
    await sleep(300);
    expect(() => keeper.check()).toThrow();
    keeper.stop();

    const kept = keepRenewing(second as NonNullable<typeof second>, 20);
    await sleep(300);
    expect(() => kept.check()).not.toThrow();
    kept.stop();
    await second?.release();
  });

  it('throws storage errors other than a held lease as they come', async () => {
    const missing = azurite.clients.blobs.getContainerClient('nosuchcontainer').getBlockBlobClient('x');
    const error = await tryAcquireBlobLease(missing, 15).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ statusCode: 404 });
  });
});
