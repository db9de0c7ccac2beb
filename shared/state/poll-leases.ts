/**
 * One change poller per (profile, table) at a time: a blob lease on `leases/<profile>/<table>` in the state
 * container. A lease that is not renewed expires by itself, so a crashed poller never blocks a table for long.
 */
import { ExportError } from '../errors';
import { MAX_LEASE_SECONDS, MIN_LEASE_SECONDS, isLeaseLost, tryAcquireBlobLease } from '../storage/blob-lease';
import type { StorageClients } from '../storage/clients';
import { hasStorageStatus, storageFailure } from '../storage/errors';
import { checkedName } from './names';
import { stateContainer } from './state-container';

export interface PollLease {
  readonly profile: string;
  readonly table: string;
  readonly leaseId: string;
  /** Extends the lease by its duration; an ExportError('transient') if it was lost (expired and taken by another poller). */
  renew(): Promise<void>;
  /** Lets another poller take the table now; a lease already lost is left alone. */
  release(): Promise<void>;
}

export interface PollLeases {
  /** The lease, or undefined when another poller holds it. */
  tryAcquire(profile: string, table: string, durationSeconds: number): Promise<PollLease | undefined>;
  /**
   * Breaks and deletes every lease of a deleted profile: a poller of it still running fails its next renewal and
   * stops, instead of holding a table of a profile created again under the name.
   */
  deleteByProfile(profile: string): Promise<void>;
}

export function createBlobPollLeases(clients: StorageClients): PollLeases {
  const container = stateContainer(clients);

  return {
    async deleteByProfile(profile) {
      const where = `poll leases of ${checkedName('profile', profile)}`;
      try {
        await container.ready();
        for await (const item of container.client.listBlobsFlat({ prefix: `leases/${profile}/` })) {
          const blob = container.client.getBlockBlobClient(item.name);
          // A break period of 0 ends the lease at once; a blob without a lease answers 409, and is deleted all the
          // same (https://learn.microsoft.com/rest/api/storageservices/lease-blob).
          await blob
            .getBlobLeaseClient()
            .breakLease(0)
            .catch((error: unknown) => {
              if (!hasStorageStatus(error, 409)) throw error;
            });
          await blob.deleteIfExists();
        }
      } catch (error) {
        throw storageFailure(error, 'Deleting the poll leases', where);
      }
    },

    async tryAcquire(profile, table, durationSeconds) {
      const where = `poll lease ${checkedName('profile', profile)}/${checkedName('table', table)}`;
      if (
        !Number.isInteger(durationSeconds) ||
        durationSeconds < MIN_LEASE_SECONDS ||
        durationSeconds > MAX_LEASE_SECONDS
      ) {
        throw new ExportError(
          'config',
          `A poll lease lasts ${MIN_LEASE_SECONDS} to ${MAX_LEASE_SECONDS} whole seconds, not ${durationSeconds}`,
          { where },
        );
      }
      let lease;
      try {
        await container.ready();
        lease = await tryAcquireBlobLease(
          container.client.getBlockBlobClient(`leases/${profile}/${table}`),
          durationSeconds,
        );
      } catch (error) {
        throw storageFailure(error, 'Acquiring the poll lease', where);
      }
      if (!lease) return undefined;
      const held = lease;
      return {
        profile,
        table,
        leaseId: held.leaseId,
        async renew() {
          try {
            await held.renew();
          } catch (error) {
            if (isLeaseLost(error)) {
              throw new ExportError(
                'transient',
                'The poll lease was lost: another poller took the table after the lease expired',
                {
                  cause: error,
                  where,
                  fix: 'Stop polling this table now; renew the lease more often than its duration.',
                },
              );
            }
            throw storageFailure(error, 'Renewing the poll lease', where);
          }
        },
        async release() {
          try {
            await held.release();
          } catch (error) {
            throw storageFailure(error, 'Releasing the poll lease', where);
          }
        },
      };
    },
  };
}
