import { pollChanges } from '../shared/sync/capture/poller';
import { createLogger } from '../shared/telemetry/logger';
import type { TimerFunction } from './definition';
import type { FunctionDeps } from './deps';

/** Timer: reads Dataverse changes of every active table and queues them (schedule: POLL_SCHEDULE). */
export const poll: TimerFunction<FunctionDeps> = {
  kind: 'timer',
  name: 'pollChanges',
  schedule: '%POLL_SCHEDULE%',
  // It may start a table's resync (an orchestration); without this input df.getClient throws on every poll.
  usesOrchestrations: true,
  handler: (deps) =>
    async function handlePollChanges(_timer, context) {
      const logger = createLogger(context);
      const polls = await pollChanges(deps.sync, deps.orchestrations(context));
      for (const result of polls) {
        if (result.outcome === 'changes')
          logger.info('queued changes', {
            profile: result.profile,
            table: result.table,
            upserts: result.upserts,
            deletes: result.deletes,
          });
        if (result.outcome === 'failed' || result.outcome === 'rebaselining') {
          logger.warn(`poll ${result.outcome}: ${result.error ?? ''}`, {
            profile: result.profile,
            table: result.table,
          });
        }
      }
    },
};
