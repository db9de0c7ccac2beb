import { deactivateProfile } from '../shared/sync/admin/activation';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { guarded, json } from './http';
import { profileParams } from './params';
import { withAppRole } from './app-role';

/** POST /api/profiles/{name}/deactivate: stops polling and the initial sync; checkpoints stay, so activating again resumes. */
export const deactivate: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'deactivateProfile',
  route: 'profiles/{name}/deactivate',
  methods: ['POST'],
  authLevel: 'function',
  usesOrchestrations: true,
  handler: (deps) =>
    withAppRole(
      deps,
      guarded(profileParams, async function handleDeactivateProfile({ name }, _request, context) {
        const changed = await deactivateProfile(deps.sync, deps.orchestrations(context), name);
        return json(200, { profile: name, state: 'inactive', changed });
      }),
    ),
};
