import { z } from 'zod';
import { logicalNameSchema, profileNameSchema } from '../shared/profile/profile';
import { copyPage } from '../shared/sync/copy-page';
import type { ActivityFunction } from './definition';
import type { FunctionDeps } from './deps';

export const COPY_PAGE_ACTIVITY = 'copyPage';

const copyPageInput = z.object({ profile: profileNameSchema, table: logicalNameSchema });

/** Activity: copies one page of one table and moves its checkpoint on. */
export const copyPageActivity: ActivityFunction<FunctionDeps> = {
  kind: 'activity',
  name: COPY_PAGE_ACTIVITY,
  handler: (deps) => async (input) => {
    const { profile, table } = copyPageInput.parse(input);
    return copyPage(deps.sync, profile, table);
  },
};
