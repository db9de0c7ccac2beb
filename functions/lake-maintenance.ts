import { maintainDestinations } from '../shared/sync/admin/maintenance';
import { createLogger } from '../shared/telemetry/logger';
import type { TimerFunction } from './definition';
import type { FunctionDeps } from './deps';

/** Timer: lake snapshots and incremental folder rollover of every active lake profile (schedule: LAKE_MAINTENANCE_SCHEDULE). */
export const lakeMaintenance: TimerFunction<FunctionDeps> = {
  kind: 'timer',
  name: 'lakeMaintenance',
  schedule: '%LAKE_MAINTENANCE_SCHEDULE%',
  handler: (deps) =>
    async function handleLakeMaintenance(_timer, context) {
      const logger = createLogger(context);
      for (const result of await maintainDestinations(deps.sync)) {
        if (result.outcome === 'failed')
          logger.warn(`lake maintenance failed: ${result.error ?? ''}`, { profile: result.profile });
        for (const done of result.done) logger.info(`lake maintenance: ${done}`, { profile: result.profile });
      }
    },
};
