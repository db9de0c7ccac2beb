import { z } from 'zod';
import { logicalNameSchema, profileNameSchema } from '../shared/profile/profile';
import { copyPartitionLane } from '../shared/sync/capture/partitioned-copy';
import { createLogger } from '../shared/telemetry/logger';
import type { ActivityFunction } from './definition';
import type { FunctionDeps } from './deps';

export const COPY_PARTITION_ACTIVITY = 'copyPartition';

const copyPartitionInput = z.object({
  profile: profileNameSchema,
  table: logicalNameSchema,
  partition: z.number().int().nonnegative(),
  // Absent in an activity scheduled by the code before lanes: one partition.
  stride: z.number().int().positive().default(1),
  count: z.number().int().positive().default(1),
});

/** Activity: copies a lane of partitions of a table read in partitions, marking each copied. */
export const copyPartitionActivity: ActivityFunction<FunctionDeps> = {
  kind: 'activity',
  name: COPY_PARTITION_ACTIVITY,
  handler: (deps) =>
    async function handleCopyPartition(input, context) {
      const { profile, ...lane } = copyPartitionInput.parse(input);
      const { readMs, applyMs, ...copied } = await copyPartitionLane(deps.sync, profile, lane);
      if (copied.rows > 0)
        createLogger(context, { profile, table: lane.table }).info('copied partitions', {
          partition: lane.partition,
          stride: lane.stride,
          count: lane.count,
          rows: copied.rows,
          readMs,
          applyMs,
        });
      // The orchestration keeps only the progress: timings in its history would be replayed for nothing.
      return copied;
    },
};
