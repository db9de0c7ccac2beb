import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { guarded, json, notFound, readIfMatch } from './http';
import { profileParams } from './params';
import { withAppRole } from './app-role';
import { forgetProfileState } from '../shared/sync/admin/forget-profile';

/** DELETE /api/profiles/{name}: only an inactive profile; its state goes with it (shared/sync/admin/forget-profile.ts), its destination tables are kept. */
export const deleteProfile: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'deleteProfile',
  route: 'profiles/{name}',
  methods: ['DELETE'],
  authLevel: 'function',
  // It stops and purges the profile's orchestrations (forget-profile.ts).
  usesOrchestrations: true,
  handler: (deps) =>
    withAppRole(
      deps,
      guarded(profileParams, async function handleDeleteProfile({ name }, request, context) {
        const condition = readIfMatch(request);
        if (!condition.ok) return condition.response;
        const activation = await deps.sync.activations.get(name);
        if (activation?.value.state === 'active') {
          return json(409, {
            error: { message: `Profile '${name}' is active`, fix: `POST /api/profiles/${name}/deactivate first.` },
          });
        }
        const deleted = await deps.sync.profiles.delete(name, condition.value ?? {});
        await deps.sync.runtimes.evict(name);
        if (deleted) await forgetProfileState(deps.sync, deps.orchestrations(context), name);
        return deleted ? { status: 204 } : notFound(`Profile '${name}'`);
      }),
    ),
};
