import { profileStatus } from '../shared/sync/status';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { errorResponse, json, notFound, parseParams } from './http';
import { profileParams } from './params';

/** GET /api/profiles/{name}/status: phase, rows, freshness, lag and failures per table, and the initial sync's progress. */
export const status: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'profileStatus',
  route: 'profiles/{name}/status',
  methods: ['GET'],
  authLevel: 'function',
  usesOrchestrations: true,
  handler: (deps) => async (request, context) => {
    const params = parseParams(profileParams, request.params);
    if (!params.ok) return params.response;
    try {
      if (!(await deps.sync.profiles.get(params.value.name))) return notFound(`Profile '${params.value.name}'`);
      return json(200, await profileStatus(deps.sync, deps.orchestrations(context), params.value.name));
    } catch (error) {
      return errorResponse(error, context);
    }
  },
};
