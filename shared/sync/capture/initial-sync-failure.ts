/**
 * When the initial-sync orchestration gives up (a page copy failed after its retries), the tables it was still
 * copying say so: their `lastError` carries the orchestration's failure until a copy succeeds again
 * (shared/sync/capture/copy-page.ts clears it) or the table is resynced.
 */
import { ExportError, type ErrorClass } from '../../errors';
import type { SyncServices } from '../wiring/services';

export type InitialSyncFailureServices = Pick<SyncServices, 'status'>;

export interface InitialSyncFailure {
  profile: string;
  /** The tables whose initial load was not finished when the orchestration failed. */
  tables: string[];
  message: string;
  errorClass?: ErrorClass;
}

export async function recordInitialSyncFailure(
  services: InitialSyncFailureServices,
  failure: InitialSyncFailure,
): Promise<void> {
  const error = new ExportError(failure.errorClass ?? 'transient', `The initial sync stopped: ${failure.message}`, {
    fix: 'Fix the cause, then activate the profile again: it continues from the last copied page.',
  });
  for (const table of failure.tables)
    await services.status.update(failure.profile, table, { lastError: error, lastErrorSource: 'copy' });
}
