import { deactivateProfile } from '../shared/sync/activation';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { errorResponse, json, parseParams } from './http';
import { profileParams } from './params';

/** POST /api/profiles/{name}/deactivate: stops polling and the initial sync; checkpoints stay, so activating again resumes. */
export const deactivate: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'deactivateProfile',
  route: 'profiles/{name}/deactivate',
  methods: ['POST'],
  authLevel: 'function',
  usesOrchestrations: true,
  handler: (deps) => async (request, context) => {
    const params = parseParams(profileParams, request.params);
    if (!params.ok) return params.response;
    try {
      const changed = await deactivateProfile(deps.sync, deps.orchestrations(context), params.value.name);
      return json(200, { profile: params.value.name, state: 'inactive', changed });
    } catch (error) {
      return errorResponse(error, context);
    }
  },
};
