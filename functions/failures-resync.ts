import { z } from 'zod';
import { logicalNameSchema, profileNameSchema } from '../shared/profile/profile';
import { failedRecordKeySchema, resyncFailures } from '../shared/sync/admin/failures';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { guarded, json, parseParams, readJson } from './http';
import { withAppRole } from './app-role';

const resyncBody = z.strictObject({
  table: logicalNameSchema.optional(),
  keys: z.array(failedRecordKeySchema).min(1).max(5000).optional(),
});

/** POST /api/profiles/{name}/failures/resync {table?, keys?}: re-reads the failed records from Dataverse and applies them. */
export const resyncFailed: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'resyncFailures',
  route: 'profiles/{name}/failures/resync',
  methods: ['POST'],
  authLevel: 'function',
  handler: (deps) =>
    withAppRole(
      deps,
      guarded(z.object({ name: profileNameSchema }), async function handleResyncFailures({ name }, request) {
        const body = await readJson(request);
        if (!body.ok) return body.response;
        const options = parseParams(resyncBody, body.body ?? {});
        if (!options.ok) return options.response;
        return json(200, await resyncFailures(deps.sync, name, options.value));
      }),
    ),
};
