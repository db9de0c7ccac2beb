import { validateProfile } from '../shared/profile/profile';
import { profileProblems } from '../shared/security/policy';
import { reconcileTables } from '../shared/sync/admin/manage-tables';
import { PROFILE_CHECK_RETRY, checkProfileSource, sourceProblem } from '../shared/sync/admin/profile-tables';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { guarded, json, problems, readIfMatch, readJson } from './http';
import { profileParams } from './params';
import { withAppRole } from './app-role';

/**
 * PUT /api/profiles/{name}: create or replace a profile (If-Match for optimistic concurrency). Nothing is stored unless
 * it is valid. On an active profile a changed table list takes effect at once (shared/sync/admin/manage-tables.ts):
 * the answer's `tableChanges` says which tables were added (being copied) and removed (no longer synced, rows kept).
 */
export const putProfile: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'putProfile',
  route: 'profiles/{name}',
  methods: ['PUT'],
  authLevel: 'function',
  // Adding a table to an active profile starts its copy (an orchestration).
  usesOrchestrations: true,
  handler: (deps) =>
    withAppRole(
      deps,
      guarded(profileParams, async function handlePutProfile({ name }, request, context) {
        const body = await readJson(request);
        if (!body.ok) return body.response;
        if (typeof body.body !== 'object' || body.body === null || Array.isArray(body.body)) {
          return problems(400, 'The body must be a JSON object describing the export profile', [
            { field: '(body)', reason: 'expected an object' },
          ]);
        }
        const given = body.body as Record<string, unknown>;
        if (given.name !== undefined && given.name !== name) {
          return problems(400, 'The profile name in the body differs from the one in the URL', [
            { field: 'name', reason: `must be '${name}' or left out` },
          ]);
        }
        const validation = validateProfile({ ...given, name });
        if (!validation.ok) return problems(400, 'The export profile is not valid', validation.problems);
        const refused = profileProblems(deps.settings.security, validation.profile);
        if (refused.length > 0) return problems(400, 'The export profile asks for what this app may not do', refused);
        const condition = readIfMatch(request);
        if (!condition.ok) return condition.response;
        const existing = await deps.sync.profiles.get(name);
        // RFC 9110 13.1.1: If-Match (even *) is false when there is no current representation. Azurite creates the
        // blob for If-Match: *, so this is checked here rather than left to the store.
        if (condition.value && !existing) {
          return json(412, {
            error: {
              message: `Profile '${name}' does not exist, so If-Match cannot hold`,
              fix: 'Leave out If-Match to create it.',
            },
          });
        }
        const source = () => deps.sync.runtimes.sourceFor(validation.profile, PROFILE_CHECK_RETRY);
        const checked = await checkProfileSource(validation.profile, source);
        if (checked.outcome === 'refused')
          return problems(400, 'The source does not have what the profile names', [sourceProblem(checked.error)]);
        const stored = await deps.sync.profiles.put(name, validation.profile, condition.value);
        await deps.sync.runtimes.evict(name);
        const reconciled = existing ? await reconcileTables(deps.sync, deps.orchestrations(context), name) : undefined;
        const tableChanges =
          reconciled?.outcome === 'reconciled'
            ? { tableChanges: { added: reconciled.add, removed: reconciled.remove } }
            : {};
        const warning = checked.outcome === 'unchecked' ? { warning: checked.warning } : {};
        return json(existing ? 200 : 201, { ...stored.value, ...tableChanges, ...warning }, { etag: stored.etag });
      }),
    ),
};
