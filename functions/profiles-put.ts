import { validateProfile } from '../shared/profile/profile';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { errorResponse, json, parseParams, problems, readJson } from './http';
import { profileParams } from './params';

/** PUT /api/profiles/{name}: create or replace a profile (If-Match for optimistic concurrency). Nothing is stored unless it is valid. */
export const putProfile: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'putProfile',
  route: 'profiles/{name}',
  methods: ['PUT'],
  authLevel: 'function',
  handler: (deps) => async (request, context) => {
    const params = parseParams(profileParams, request.params);
    if (!params.ok) return params.response;
    const body = await readJson(request);
    if (!body.ok) return body.response;
    if (typeof body.body !== 'object' || body.body === null || Array.isArray(body.body)) {
      return problems(400, 'The body must be a JSON object describing the export profile', [{ field: '(body)', reason: 'expected an object' }]);
    }
    const given = body.body as Record<string, unknown>;
    if (given.name !== undefined && given.name !== params.value.name) {
      return problems(400, 'The profile name in the body differs from the one in the URL', [{ field: 'name', reason: `must be '${params.value.name}' or left out` }]);
    }
    const validation = validateProfile({ ...given, name: params.value.name });
    if (!validation.ok) return problems(400, 'The export profile is not valid', validation.problems);
    try {
      const ifMatch = request.headers.get('if-match');
      const existing = await deps.sync.profiles.get(params.value.name);
      const stored = await deps.sync.profiles.put(params.value.name, validation.profile, ifMatch ? { ifMatch } : undefined);
      await deps.sync.runtimes.evict(params.value.name);
      return json(existing ? 200 : 201, stored.value, { etag: stored.etag });
    } catch (error) {
      return errorResponse(error, context);
    }
  },
};
