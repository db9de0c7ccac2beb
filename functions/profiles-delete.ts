import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { errorResponse, json, notFound, parseParams } from './http';
import { profileParams } from './params';

/** DELETE /api/profiles/{name}: only an inactive profile; its destination tables are kept. */
export const deleteProfile: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'deleteProfile',
  route: 'profiles/{name}',
  methods: ['DELETE'],
  authLevel: 'function',
  handler: (deps) => async (request, context) => {
    const params = parseParams(profileParams, request.params);
    if (!params.ok) return params.response;
    try {
      const activation = await deps.sync.activations.get(params.value.name);
      if (activation?.value.state === 'active') {
        return json(409, { error: { message: `Profile '${params.value.name}' is active`, fix: `POST /api/profiles/${params.value.name}/deactivate first.` } });
      }
      const ifMatch = request.headers.get('if-match');
      const deleted = await deps.sync.profiles.delete(params.value.name, ifMatch ? { ifMatch } : {});
      await deps.sync.runtimes.evict(params.value.name);
      return deleted ? { status: 204 } : notFound(`Profile '${params.value.name}'`);
    } catch (error) {
      return errorResponse(error, context);
    }
  },
};
