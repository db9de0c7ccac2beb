/**
 * One writer per in-place table across instances. An in-place batch reads the table's partitions and tombstones,
 * decides, and writes them back; ETags on the files it writes cannot see a tombstone another instance added
 * meanwhile for a row this batch creates (or the reverse), so the row and its delete would both stand. A blob
 * lease on `dataverse-export-state/locks/<table>` makes the read-decide-write exclusive; it is renewed while held
 * and expires by itself when its holder dies.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExportError } from '../../errors';
import { keepRenewing, tryAcquireBlobLease, type BlobLease } from '../../storage/blob-lease';
import { tableLockPath } from './paths';
import { storageError } from './storage';

const LEASE_SECONDS = 30;
const RENEW_EVERY_MS = 10_000;
/** How long a batch waits for another instance's batch of the same table before it is retried later. */
const WAIT_MS = 2 * LEASE_SECONDS * 1000;
const POLL_MS = 100;

export interface TableLock {
  /** Throws when the lease was lost (this process stalled past it): the batch must not write. */
  check(): void;
}

/** The table's lease, waiting up to WAIT_MS while another instance holds it. */
async function acquireTableLease(container: ContainerClient, table: string, path: string): Promise<BlobLease> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    let lease: BlobLease | undefined;
    try {
      lease = await tryAcquireBlobLease(container.getBlockBlobClient(path), LEASE_SECONDS);
    } catch (error) {
      throw storageError(error, path);
    }
    if (lease) return lease;
    if (Date.now() > deadline) {
      throw new ExportError(
        'transient',
        `Another instance has been writing table ${table} for over ${WAIT_MS / 1000} s; the batch is retried later.`,
        { where: path },
      );
    }
    await sleep(POLL_MS);
  }
}

export async function withTableLock<T>(
  container: ContainerClient,
  table: string,
  action: (lock: TableLock) => Promise<T>,
): Promise<T> {
  const path = tableLockPath(table);
  const lease = await acquireTableLease(container, table, path);
  const keeper = keepRenewing(lease, RENEW_EVERY_MS);
  try {
    return await action({
      check: () => {
        try {
          keeper.check();
        } catch (lost) {
          throw new ExportError(
            'transient',
            `The write lock of table ${table} was lost before the batch wrote; it is retried.`,
            { cause: lost, where: path },
          );
        }
      },
    });
  } finally {
    keeper.stop();
    await lease.release().catch(() => undefined);
  }
}
