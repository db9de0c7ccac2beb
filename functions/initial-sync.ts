import * as df from 'durable-functions';
import {
  nextCycle,
  progressAfter,
  summarize,
  unitsThisCycle,
  type InitialSyncInput,
  type PageCopied,
  type PartitionCopied,
} from '../shared/sync/capture/initial-sync-plan';
import { INITIAL_SYNC_ORCHESTRATION } from '../shared/sync/admin/activation';
import { COPY_PAGE_ACTIVITY } from './copy-page';
import { COPY_PARTITION_ACTIVITY } from './copy-partition';
import { RECORD_INITIAL_SYNC_FAILURE_ACTIVITY } from './record-initial-sync-failure';
import type { OrchestrationFunction, Orchestrator } from './definition';

/** A page copy that fails transiently is retried a few times before the orchestration fails and shows it. */
const copyRetry = (() => {
  const retry = new df.RetryOptions(2_000, 5);
  retry.backoffCoefficient = 2;
  retry.maxRetryIntervalInMilliseconds = 60_000;
  return retry;
})();

/**
 * One cycle: copy one page of up to `fanOut` tables at once (or, for a table read in partitions, up to `streams`
 * lanes of its partitions, each copying its partitions one after another), publish progress, continue as new with
 * the tables still copying. One Task.all per cycle and continue-as-new after it keep the history to one cycle; no
 * Task.any over tasks already scheduled (initial-sync-plan.ts, PartitionLane). Deterministic: all I/O is in the
 * activities, which checkpoint.
 */
export const initialSyncOrchestrator: Orchestrator = function* (context) {
  const input = context.df.getInput<InitialSyncInput>();
  let copied: Array<PageCopied | PartitionCopied>;
  try {
    copied = (yield context.df.Task.all(
      unitsThisCycle(input).map((unit) =>
        'partition' in unit
          ? context.df.callActivityWithRetry(COPY_PARTITION_ACTIVITY, copyRetry, { profile: input.profile, ...unit })
          : context.df.callActivityWithRetry(COPY_PAGE_ACTIVITY, copyRetry, {
              profile: input.profile,
              ...unit,
              ...(input.generation === undefined ? {} : { generation: input.generation }),
            }),
      ),
    )) as Array<PageCopied | PartitionCopied>;
  } catch (error) {
    // An activity's failure is thrown here, where the orchestrator may handle it
    // (learn.microsoft.com/azure/azure-functions/durable/durable-functions-error-handling): the unfinished tables
    // record it, then the orchestration fails with it, and `activate` starts it again from the checkpoints.
    const message = error instanceof Error ? error.message : String(error);
    yield context.df.callActivity(RECORD_INITIAL_SYNC_FAILURE_ACTIVITY, {
      profile: input.profile,
      tables: input.pending,
      message: message.slice(0, 4000),
    });
    throw error;
  }
  const progress = progressAfter(input, copied);
  const next = nextCycle(input, progress, copied);
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
