import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { errorResponse, json } from './http';
import { withAppRole } from './app-role';

/** GET /api/profiles: every profile with its activation state. */
export const listProfiles: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'listProfiles',
  route: 'profiles',
  methods: ['GET'],
  authLevel: 'function',
  handler: (deps) =>
    withAppRole(deps, async function handleListProfiles(_request, context) {
      try {
        const [profiles, activations] = await Promise.all([deps.sync.profiles.list(), deps.sync.activations.list()]);
        return json(200, {
          profiles: profiles.map(({ name, value }) => ({
            name,
            tables: value.tables,
            destination: value.destination.kind === 'sql' ? value.destination.dialect : 'lake',
            state: activations.find((activation) => activation.name === name)?.value.state ?? 'never activated',
          })),
        });
      } catch (error) {
        return errorResponse(error, context);
      }
    }),
};
