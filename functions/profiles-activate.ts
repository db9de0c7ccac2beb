import { activateProfile } from '../shared/sync/admin/activation';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { guarded, json, notFound } from './http';
import { profileParams } from './params';
import { withAppRole } from './app-role';

/**
 * POST /api/profiles/{name}/activate: checks source, secrets and destination, creates the tables and starts
 * the initial sync. 202 with the status URL; 409 while an initial sync of the profile is running.
 */
export const activate: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'activateProfile',
  route: 'profiles/{name}/activate',
  methods: ['POST'],
  authLevel: 'function',
  usesOrchestrations: true,
  handler: (deps) =>
    withAppRole(
      deps,
      guarded(profileParams, async function handleActivateProfile({ name }, request, context) {
        if (!(await deps.sync.profiles.get(name))) return notFound(`Profile '${name}'`);
        const result = await activateProfile(deps.sync, deps.orchestrations(context), name);
        const statusUrl = new URL(`../status`, `${request.url.split('?')[0]}/`).toString();
        if (result.outcome === 'already-running') {
          return json(409, {
            error: { message: `The initial sync of '${name}' is running`, instanceId: result.instanceId, statusUrl },
          });
        }
        return json(202, { instanceId: result.instanceId, tables: result.tables, statusUrl }, { location: statusUrl });
      }),
    ),
};
