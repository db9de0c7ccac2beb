/**
 * One holder at a time of a named blob: a finite blob lease lasts 15 to 60 seconds and expires by itself when it is
 * not renewed (https://learn.microsoft.com/rest/api/storageservices/lease-blob), so a crashed holder never blocks
 * the others for long. Used for poll leases (shared/state/poll-leases.ts) and the lake's table lock
 * (shared/destinations/lake/table-lock.ts). Storage errors are thrown as they come; callers say what they mean.
 */
import type { BlockBlobClient } from '@azure/storage-blob';
import { hasStorageStatus } from './errors';

/** Azure accepts finite blob leases of 15 to 60 seconds. */
export const MIN_LEASE_SECONDS = 15;
export const MAX_LEASE_SECONDS = 60;

export interface BlobLease {
  readonly leaseId: string;
  /** Extends the lease by its duration; a lease already lost (expired and taken by another holder) throws a 409. */
  renew(): Promise<void>;
  /** Lets another holder take it now; a lease already lost is left alone. */
  release(): Promise<void>;
}

/** Renewing or releasing failed because another holder has the lease now (Lease ID mismatch: 409). */
export const isLeaseLost = (error: unknown): boolean => hasStorageStatus(error, 409);

/**
 * The blob's lease for `durationSeconds`, or undefined when another holder has it (409). A blob that does not exist
 * yet (404: nobody leased it before) is created empty first; a racing creator is fine, whoever leases it wins.
 */
export async function tryAcquireBlobLease(
  blob: BlockBlobClient,
  durationSeconds: number,
): Promise<BlobLease | undefined> {
  const leaseClient = blob.getBlobLeaseClient();
  const acquire = () =>
    leaseClient.acquireLease(durationSeconds).then(
      () => true,
      (error: unknown) => {
        if (hasStorageStatus(error, 409)) return false;
        throw error;
      },
    );
  const acquired = await acquire().catch(async (error: unknown) => {
    if (!hasStorageStatus(error, 404)) throw error;
    await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } }).catch((createError: unknown) => {
      if (!hasStorageStatus(createError, 409, 412)) throw createError;
    });
    return acquire();
  });
  if (!acquired) return undefined;
  return {
    leaseId: leaseClient.leaseId,
    async renew() {
      await leaseClient.renewLease();
    },
    async release() {
      try {
        await leaseClient.releaseLease();
      } catch (error) {
        if (!isLeaseLost(error)) throw error;
      }
    },
  };
}

export interface LeaseKeeper {
  /** Throws the renewal's failure once the lease is lost, so the holder stops before it saves anything. */
  check(): void;
  stop(): void;
}

/**
 * Renews a lease on a timer, not per unit of work: one throttled Dataverse page may wait longer than any lease
 * lasts, while a crashed holder's lease must lapse within one short duration so another holder takes over soon.
 */
export function keepRenewing(lease: { renew(): Promise<void> }, everyMs: number): LeaseKeeper {
  let lost: Error | undefined;
  let renewing = false;
  const timer = setInterval(() => {
    if (renewing || lost !== undefined) return;
    renewing = true;
    lease
      .renew()
      .catch(
        (error: unknown) =>
          (lost = error instanceof Error ? error : new Error('Lease renewal failed', { cause: error })),
      )
      .finally(() => (renewing = false));
  }, everyMs);
  timer.unref();
  return {
    check() {
      if (lost !== undefined) throw lost;
    },
    stop: () => clearInterval(timer),
  };
}
