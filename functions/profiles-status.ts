import { profileStatus } from '../shared/sync/admin/status';
import { healthRules } from '../shared/sync/admin/table-health';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { guarded, json, notFound } from './http';
import { profileParams } from './params';
import { withAppRole } from './app-role';

/** GET /api/profiles/{name}/status: phase, rows, freshness, lag and failures per table, and the initial sync's progress. */
export const status: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'profileStatus',
  route: 'profiles/{name}/status',
  methods: ['GET'],
  authLevel: 'function',
  usesOrchestrations: true,
  handler: (deps) =>
    withAppRole(
      deps,
      guarded(profileParams, async function handleProfileStatus({ name }, _request, context) {
        if (!(await deps.sync.profiles.get(name))) return notFound(`Profile '${name}'`);
        const rules = healthRules(deps.settings.pollSchedule, deps.settings.statusDegradedAfterPolls);
        return json(200, await profileStatus(deps.sync, deps.orchestrations(context), name, rules));
      }),
    ),
};
