import * as df from 'durable-functions';
import {
  nextCycle,
  progressAfter,
  summarize,
  tablesThisCycle,
  type InitialSyncInput,
  type PageCopied,
} from '../shared/sync/capture/initial-sync-plan';
import { INITIAL_SYNC_ORCHESTRATION } from '../shared/sync/admin/activation';
import { COPY_PAGE_ACTIVITY } from './copy-page';
import type { OrchestrationFunction, Orchestrator } from './definition';

/** A page copy that fails transiently is retried a few times before the orchestration fails and shows it. */
const copyRetry = (() => {
  const retry = new df.RetryOptions(2_000, 5);
  retry.backoffCoefficient = 2;
  retry.maxRetryIntervalInMilliseconds = 60_000;
  return retry;
})();

/**
 * One cycle: copy one page of up to `fanOut` tables at once, publish progress, continue as new with the
 * tables still copying. Deterministic: all I/O is in the copy-page activity, which checkpoints.
 */
export const initialSyncOrchestrator: Orchestrator = function* (context) {
  const input = context.df.getInput<InitialSyncInput>();
  const tables = tablesThisCycle(input);
  const copied = (yield context.df.Task.all(
    tables.map((table) =>
      context.df.callActivityWithRetry(COPY_PAGE_ACTIVITY, copyRetry, { profile: input.profile, table }),
    ),
  )) as PageCopied[];
  const progress = progressAfter(input, copied);
  const next = nextCycle(input, progress);
  const status = summarize(progress, new Set([...input.pending, ...Object.keys(input.progress)]).size);
  context.df.setCustomStatus(status);
  if (next) {
    context.df.continueAsNew(next);
    return undefined;
  }
  return status;
};

export const initialSync: OrchestrationFunction = {
  kind: 'orchestration',
  name: INITIAL_SYNC_ORCHESTRATION,
  handler: initialSyncOrchestrator,
};
