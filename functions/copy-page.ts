import { z } from 'zod';
import { logicalNameSchema, profileNameSchema } from '../shared/profile/profile';
import { copyPageOfGeneration } from '../shared/sync/capture/copy-page-of-generation';
import { createLogger } from '../shared/telemetry/logger';
import type { ActivityFunction } from './definition';
import type { FunctionDeps } from './deps';

export const COPY_PAGE_ACTIVITY = 'copyPage';

const copyPageInput = z.object({
  profile: profileNameSchema,
  table: logicalNameSchema,
  generation: z.string().min(1).max(64).optional(),
});

/** Activity: copies one page of one table and moves its checkpoint on. */
export const copyPageActivity: ActivityFunction<FunctionDeps> = {
  kind: 'activity',
  name: COPY_PAGE_ACTIVITY,
  handler: (deps) =>
    async function handleCopyPage(input, context) {
      const { profile, table, generation } = copyPageInput.parse(input);
      const { pageRows, readMs, applyMs, ...copied } = await copyPageOfGeneration(
        deps.sync,
        profile,
        table,
        generation,
      );
      if (pageRows > 0)
        createLogger(context, { profile, table }).info('copied page', {
          page: copied.pages,
          rows: pageRows,
          readMs,
          applyMs,
        });
      // The orchestration keeps only the progress: timings in its history would be replayed for nothing.
      return copied;
    },
};
