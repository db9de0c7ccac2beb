import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { guarded, json, notFound } from './http';
import { profileParams } from './params';
import { withAppRole } from './app-role';

/** GET /api/profiles/{name}: the stored profile (secret references only, never a secret). */
export const getProfile: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'getProfile',
  route: 'profiles/{name}',
  methods: ['GET'],
  authLevel: 'function',
  handler: (deps) =>
    withAppRole(
      deps,
      guarded(profileParams, async function handleGetProfile({ name }) {
        const stored = await deps.sync.profiles.get(name);
        return stored ? json(200, stored.value, { etag: stored.etag }) : notFound(`Profile '${name}'`);
      }),
    ),
};
