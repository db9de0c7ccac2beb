/** Puts rows that could not be applied in the failed-records store, and counts them: a row that cannot be applied is never dropped silently, it waits there to be seen and resynced. */
import type { ErrorClass } from '../../errors';
import type { FailedRecord } from '../../state/failed-records';
import type { ChangeBatch } from '../../queue/change-batch';
import type { SyncServices } from '../wiring/services';

export type RecordFailuresServices = Pick<SyncServices, 'failedRecords' | 'status' | 'metrics' | 'now'>;

export interface RowFailure {
  id: string;
  changeType: 'upsert' | 'delete';
  reason: string;
  errorClass: ErrorClass;
  payload?: Record<string, unknown>;
}

export async function recordFailures(
  services: RecordFailuresServices,
  source: Pick<ChangeBatch, 'profile' | 'table' | 'batchId' | 'attempt'>,
  failures: readonly RowFailure[],
): Promise<void> {
  if (failures.length === 0) return;
  const failedAt = services.now().toISOString();
  const records: FailedRecord[] = failures.map((failure) => ({
    profile: source.profile,
    table: source.table,
    id: failure.id,
    changeType: failure.changeType,
    failedAt,
    reason: failure.reason,
    errorClass: failure.errorClass,
    attempt: source.attempt,
    batchId: source.batchId,
    ...(failure.payload ? { payload: failure.payload } : {}),
  }));
  await services.failedRecords.record(records);
  await services.status.increment(source.profile, source.table, { failedRecords: records.length });
  services.metrics.recordsFailed(source.profile, source.table, records.length);
}
