import { sweepExpiredFailures } from '../shared/sync/admin/failures';
import { createLogger } from '../shared/telemetry/logger';
import type { TimerFunction } from './definition';
import type { FunctionDeps } from './deps';

/** Timer: deletes failed records and unprocessable messages older than FAILED_RECORD_RETENTION_DAYS (schedule: FAILURE_RETENTION_SCHEDULE). */
export const failureRetention: TimerFunction<FunctionDeps> = {
  kind: 'timer',
  name: 'failureRetention',
  schedule: '%FAILURE_RETENTION_SCHEDULE%',
  handler: (deps) =>
    async function handleFailureRetention(_timer, context) {
      const retentionDays = deps.settings.failedRecordRetentionDays;
      const { deletedBlobs } = await sweepExpiredFailures(deps.storage, { retentionDays, now: deps.sync.now() });
      createLogger(context).info(
        `failure retention: deleted ${deletedBlobs} failed records and unprocessable messages older than ${retentionDays} days`,
      );
    },
};
