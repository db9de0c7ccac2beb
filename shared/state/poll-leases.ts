/**
 * One change poller per (profile, table) at a time: a blob lease on `leases/<profile>/<table>` in the state
 * container. A lease that is not renewed expires by itself, so a crashed poller never blocks a table for long.
 */
import { ExportError } from '../errors';
import type { StorageClients } from '../storage/clients';
import { checkedName } from './names';
import { stateContainer } from './state-container';
import { storageFailure, storageStatus } from '../storage/errors';

/** Azure accepts finite blob leases of 15 to 60 seconds. */
export const MIN_LEASE_SECONDS = 15;
export const MAX_LEASE_SECONDS = 60;

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
}

export function createBlobPollLeases(clients: StorageClients): PollLeases {
  const container = stateContainer(clients);

  return {
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
      const blob = container.client.getBlockBlobClient(`leases/${profile}/${table}`);
      const leaseClient = blob.getBlobLeaseClient();
      /** True when leased, false when another poller holds it; the 404 of a table never polled before is thrown. */
      const acquire = () =>
        leaseClient.acquireLease(durationSeconds).then(
          () => true,
          (error: unknown) => {
            if (storageStatus(error).statusCode === 409) return false;
            throw error;
          },
        );
      try {
        await container.ready();
        const acquired = await acquire().catch(async (error: unknown) => {
          if (storageStatus(error).statusCode !== 404) throw error;
          // First poll of this table: create the lease blob. A racing creator is fine; whoever leases it wins.
          await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } }).catch((createError: unknown) => {
            if (![409, 412].includes(storageStatus(createError).statusCode ?? 0)) throw createError;
          });
          return acquire();
        });
        if (!acquired) return undefined;
      } catch (error) {
        throw storageFailure(error, 'Acquiring the poll lease', where);
      }
      return {
        profile,
        table,
        leaseId: leaseClient.leaseId,
        async renew() {
          try {
            await leaseClient.renewLease();
          } catch (error) {
            if (storageStatus(error).statusCode === 409) {
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
            await leaseClient.releaseLease();
          } catch (error) {
            if (storageStatus(error).statusCode === 409) return;
            throw storageFailure(error, 'Releasing the poll lease', where);
          }
        },
      };
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
 * lasts, while a crashed holder's lease must lapse within one short duration so another poller takes over soon.
 */
export function keepRenewing(lease: PollLease, everyMs: number): LeaseKeeper {
  let lost: unknown;
  let renewing = false;
  const timer = setInterval(() => {
    if (renewing || lost !== undefined) return;
    renewing = true;
    lease
      .renew()
      .catch((error: unknown) => (lost = error))
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
