import { z } from 'zod';
import { logicalNameSchema, profileNameSchema } from '../shared/profile/profile';
import { copyPartition } from '../shared/sync/capture/partitioned-copy';
import { createLogger } from '../shared/telemetry/logger';
import type { ActivityFunction } from './definition';
import type { FunctionDeps } from './deps';

export const COPY_PARTITION_ACTIVITY = 'copyPartition';

const copyPartitionInput = z.object({
  profile: profileNameSchema,
  table: logicalNameSchema,
  partition: z.number().int().nonnegative(),
});

/** Activity: copies one partition of a table read in partitions and marks it copied. */
export const copyPartitionActivity: ActivityFunction<FunctionDeps> = {
  kind: 'activity',
  name: COPY_PARTITION_ACTIVITY,
  handler: (deps) =>
    async function handleCopyPartition(input, context) {
      const { profile, table, partition } = copyPartitionInput.parse(input);
      const { readMs, applyMs, ...copied } = await copyPartition(deps.sync, profile, table, partition);
      if (copied.rows > 0)
        createLogger(context, { profile, table }).info('copied partition', {
          partition,
          rows: copied.rows,
          readMs,
          applyMs,
        });
      // The orchestration keeps only the progress: timings in its history would be replayed for nothing.
      return copied;
    },
};
