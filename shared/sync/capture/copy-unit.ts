/**
 * What every unit of the initial sync does with the rows it read, whether a page of the change-tracked load
 * (copy-page.ts) or a partition read by id (partitioned-copy.ts): apply them version-guarded, record the rows the
 * destination refused, and, when the table is being resynced, remember them as seen. And what the last unit does:
 * move the table to the delta phase with the change-tracking link of its load.
 */
import type { RowUpsert } from '../../dataverse/changes';
import type { TableMetadata } from '../../dataverse/metadata';
import type { Checkpoint } from '../../state/checkpoints';
import type { Versioned } from '../../state/versioned';
import type { RecordFailuresServices } from '../apply/record-failures';
import { applyCopiedRows } from './apply-copied-rows';
import type { SnapshotServices } from '../admin/snapshot';
import type { SyncServices } from '../wiring/services';

export type CopyUnitServices = Pick<
  SyncServices,
  'activations' | 'checkpoints' | 'runtimes' | 'options' | 'status' | 'metrics' | 'now'
> &
  RecordFailuresServices &
  SnapshotServices;

export interface UnitWhere {
  profile: string;
  table: TableMetadata;
  phase: Checkpoint['phase'];
  /** Names the failed rows' batch: `initial-<page>` or `initial-p<partition>`. */
  batchId: string;
}

/** Applies one unit's rows; returns how long the destination took. */
export async function applyUnitRows(
  services: CopyUnitServices,
  where: UnitWhere,
  upserts: RowUpsert[],
): Promise<{ applyMs: number }> {
  const { destination } = await services.runtimes.get(where.profile);
  const applyStarted = performance.now();
  await applyCopiedRows(
    services,
    {
      destination,
      table: where.table,
      profile: where.profile,
      tableName: where.table.logicalName,
      batchId: where.batchId,
      resync: where.phase === 'resync',
    },
    upserts,
  );
  return { applyMs: Math.round(performance.now() - applyStarted) };
}

export interface LoadEnd {
  deltaLink: string;
  watermark: number | undefined;
  rowsCopied: number;
  pages: number;
  /** The checkpoint's `initialSyncCompletedAt`, the same instant the status reports. */
  completedAt: string;
}

/** Moves the table to the delta phase once its last unit is applied; a resync sweeps what it did not see first. */
export async function completeInitialLoad(
  services: CopyUnitServices,
  profile: string,
  table: TableMetadata,
  checkpoint: Versioned<Checkpoint>,
  end: LoadEnd,
): Promise<void> {
  const { destination } = await services.runtimes.get(profile);
  const current = checkpoint.value;
  const tableName = table.logicalName;
  // Before the checkpoint moves on, so a crash in between repeats them (both are idempotent).
  await destination.completeInitialSync?.([tableName], services.now());
  let etag = checkpoint.etag;
  if (current.phase === 'resync') {
    // Claimed first, by moving the checkpoint's ETag on: a second copier of this page (overlapping orchestrations,
    // an activity run twice) then fails here, before it deletes anything, instead of sweeping after the owner
    // has finished and forgotten what the resync saw.
    etag = (await services.checkpoints.update(profile, tableName, current, etag)).etag;
    const removed = await destination.resync.sweep(table, end.watermark ?? current.watermark ?? 0);
    services.metrics.rowsApplied(profile, tableName, 'delete', removed);
  }
  const { nextLink: _done, ...rest } = current;
  // Status shows the checkpoint's phase: an earlier run's error (initial-sync-failure.ts) must be gone before it
  // says delta, or status reads "delta" with a failure that is over.
  await services.status.update(profile, tableName, { lastError: null });
  await services.checkpoints.update(
    profile,
    tableName,
    {
      ...rest,
      phase: 'delta',
      deltaLink: end.deltaLink,
      ...(end.watermark === undefined ? {} : { watermark: end.watermark }),
      rowsCopied: end.rowsCopied,
      pages: end.pages,
      initialSyncCompletedAt: end.completedAt,
    },
    etag,
  );
  // Only now: until the checkpoint has moved on, a repeat of this page sweeps again and needs what was seen.
  if (current.phase === 'resync') await destination.resync.finish(tableName);
}
