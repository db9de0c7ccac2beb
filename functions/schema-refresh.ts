import { refreshSchemas } from '../shared/sync/admin/schema-refresh';
import { createLogger } from '../shared/telemetry/logger';
import type { TimerFunction } from './definition';
import type { FunctionDeps } from './deps';

/** Timer: columns for attributes added to exported tables while in delta, and their back-fill (schedule: SCHEMA_REFRESH_SCHEDULE). */
export const schemaRefresh: TimerFunction<FunctionDeps> = {
  kind: 'timer',
  name: 'schemaRefresh',
  schedule: '%SCHEMA_REFRESH_SCHEDULE%',
  handler: (deps) =>
    async function handleSchemaRefresh(_timer, context) {
      const logger = createLogger(context);
      for (const result of await refreshSchemas(deps.sync)) {
        if (result.outcome === 'failed')
          logger.warn(`schema refresh failed: ${result.error ?? ''}`, { profile: result.profile });
        for (const { table, added } of result.changed)
          logger.info(`schema refresh: ${table} changed (added: ${added.join(', ') || 'none'})`, {
            profile: result.profile,
          });
        if (result.backfilled > 0)
          logger.info(`schema refresh: back-filled ${result.backfilled} rows`, { profile: result.profile });
      }
    },
};
