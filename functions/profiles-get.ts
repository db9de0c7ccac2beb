import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { errorResponse, json, notFound, parseParams } from './http';
import { profileParams } from './params';

/** GET /api/profiles/{name}: the stored profile (secret references only, never a secret). */
export const getProfile: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'getProfile',
  route: 'profiles/{name}',
  methods: ['GET'],
  authLevel: 'function',
  handler: (deps) => async (request, context) => {
    const params = parseParams(profileParams, request.params);
    if (!params.ok) return params.response;
    try {
      const stored = await deps.sync.profiles.get(params.value.name);
      return stored ? json(200, stored.value, { etag: stored.etag }) : notFound(`Profile '${params.value.name}'`);
    } catch (error) {
      return errorResponse(error, context);
    }
  },
};
