import { z } from 'zod';
import { logicalNameSchema, profileNameSchema } from '../shared/profile/profile';
import { recordInitialSyncFailure } from '../shared/sync/capture/initial-sync-failure';
import type { ActivityFunction } from './definition';
import type { FunctionDeps } from './deps';

export const RECORD_INITIAL_SYNC_FAILURE_ACTIVITY = 'recordInitialSyncFailure';

const failureInput = z.object({
  profile: profileNameSchema,
  tables: z.array(logicalNameSchema),
  message: z.string().max(4000),
});

/** Activity: the initial sync failed; its unfinished tables show the error (the orchestrator cannot write state). */
export const recordInitialSyncFailureActivity: ActivityFunction<FunctionDeps> = {
  kind: 'activity',
  name: RECORD_INITIAL_SYNC_FAILURE_ACTIVITY,
  handler: (deps) =>
    async function handleInitialSyncFailure(input) {
      await recordInitialSyncFailure(deps.sync, failureInput.parse(input));
    },
};
