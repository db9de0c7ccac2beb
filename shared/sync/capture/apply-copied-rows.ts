/**
 * One chunk of an initial-sync page into the destination: the rows applied (version-guarded), the ones that
 * could not be written recorded as failures, and, during a resync, the ids marked seen for the sweep. A page
 * comes in several such chunks (shared/dataverse/page-stream.ts); the checkpoint moves only after all of them.
 */
import type { RowChange, RowUpsert } from '../../dataverse/changes';
import type { TableMetadata } from '../../dataverse/metadata';
import type { Destination } from '../../destinations/destination';
import { recordFailures, type RecordFailuresServices } from '../apply/record-failures';
import type { SyncServices } from '../wiring/services';

export type ApplyCopiedRowsServices = RecordFailuresServices & Pick<SyncServices, 'metrics'>;

export interface CopiedRowsTarget {
  destination: Destination;
  table: TableMetadata;
  profile: string;
  /** The table as the profile names it. */
  tableName: string;
  /** The failed records' batch id: one per page, shared by its chunks. */
  batchId: string;
  /** A resync marks the ids it copies, so its sweep at the end keeps them. */
  resync: boolean;
}

/** Applies the upserts among `changes` (an initial load has no deletes) and returns how many there were. */
export async function applyCopiedRows(
  services: ApplyCopiedRowsServices,
  target: CopiedRowsTarget,
  changes: readonly RowChange[],
): Promise<number> {
  const { destination, table, profile, tableName } = target;
  const upserts = changes.filter((change): change is RowUpsert => change.kind === 'upsert');
  const applied = await destination.applyBatch(table, { upserts, deletes: [] });
  await recordFailures(
    services,
    { profile, table: tableName, batchId: target.batchId, attempt: 0 },
    applied.failed.map((failure) => ({
      ...failure,
      errorClass: 'data' as const,
      ...(failure.changeType === 'upsert'
        ? { payload: upserts.find((upsert) => upsert.id === failure.id)?.row ?? {} }
        : {}),
    })),
  );
  services.metrics.rowsApplied(profile, tableName, 'upsert', applied.upserted);
  if (target.resync)
    await destination.resync.markSeen(
      tableName,
      upserts.map((upsert) => upsert.id),
    );
  return upserts.length;
}
