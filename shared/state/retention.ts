/**
 * Deletes failed records and unprocessable messages older than the retention period, a whole hour folder at a
 * time; the `failureRetention` timer runs it. In Azure a storage lifecycle rule does the same (also while the app
 * is stopped); this sweep covers Azurite and accounts without the rule.
 */
import { DEFAULT_FAILED_RECORD_RETENTION_DAYS } from '../config/settings';
import { ExportError } from '../errors';
import type { StorageClients } from '../storage/clients';
import { FAILED_RECORDS_ROOT } from './failed-records';
import { blobNames, deleteBlobs, hourFolderStart, hourFoldersNewestFirst } from './hourly-folders';
import { stateContainer } from './state-container';
import { storageFailure } from '../storage/errors';
import { UNPROCESSABLE_ROOT } from './unprocessable-messages';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface RetentionSweepResult {
  deletedBlobs: number;
}

/**
 * Removes every hour folder that ended more than `retentionDays` before `now`; an hour that is only partly
 * expired is kept whole, so a record may outlive the period by up to an hour.
 */
export async function sweepExpiredFailures(
  clients: StorageClients,
  {
    retentionDays = DEFAULT_FAILED_RECORD_RETENTION_DAYS,
    now = new Date(),
  }: { retentionDays?: number; now?: Date } = {},
): Promise<RetentionSweepResult> {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new ExportError(
      'config',
      `The retention period is a whole number of days, at least 1, not ${retentionDays}`,
      { where: 'retentionDays' },
    );
  }
  const cutoff = now.getTime() - retentionDays * DAY_MS;
  const container = stateContainer(clients);
  let deletedBlobs = 0;
  try {
    await container.ready();
    for (const root of [FAILED_RECORDS_ROOT, UNPROCESSABLE_ROOT]) {
      for await (const hour of hourFoldersNewestFirst(container.client, root)) {
        const start = hourFolderStart(hour);
        if (start === undefined || start.getTime() + HOUR_MS > cutoff) continue;
        deletedBlobs += await deleteBlobs(container.client, await blobNames(container.client, hour));
      }
    }
  } catch (error) {
    throw storageFailure(error, 'Sweeping expired failed records', 'failed-records store');
  }
  return { deletedBlobs };
}
