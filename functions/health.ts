import { cachedFor, checkHealth, describeFailure, type HealthProbe } from '../shared/health';
import { profileProbes, unhealthyTables } from '../shared/sync/admin/profile-health';
import { healthRules } from '../shared/sync/admin/table-health';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { withAppRole } from './app-role';

const PROBE_TIMEOUT_MS = 5_000;
/** Probing every active profile's source and destination costs a call each: a burst of checks shares one round. */
const PROBES_CACHED_MS = 5_000;

/**
 * GET /api/health: storage, each active profile's source and destination, and the tables that are degraded or
 * failed; 503 when any is not ok, so load balancers and people see it.
 */
export const health: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'health',
  route: 'health',
  methods: ['GET'],
  authLevel: 'function',
  usesOrchestrations: true,
  handler: (deps) => {
    // Listing the active profiles reads storage: when that fails, the failure is reported as a probe, not a 500.
    const activeProfileProbes = () =>
      profileProbes(deps.sync, PROBE_TIMEOUT_MS).catch((error: unknown): HealthProbe[] => [
        {
          name: 'active profiles',
          check: () => Promise.reject(error instanceof Error ? error : new Error(String(error))),
        },
      ]);
    const probeReport = cachedFor(PROBES_CACHED_MS, async () =>
      checkHealth([...deps.healthProbes, ...(await activeProfileProbes())], PROBE_TIMEOUT_MS),
    );
    return withAppRole(deps, async function handleHealth(_request, context) {
      const rules = healthRules(deps.settings.pollSchedule, deps.settings.statusDegradedAfterPolls);
      const [report, tables] = await Promise.all([
        probeReport(),
        unhealthyTables(deps.sync, () => deps.orchestrations(context), rules).then(
          (entries) => ({ entries }),
          (error: unknown) => ({ entries: [], error: `Table health could not be read: ${describeFailure(error)}` }),
        ),
      ]);
      const ok = report.status === 'ok' && tables.entries.length === 0 && !('error' in tables);
      return {
        status: ok ? 200 : 503,
        jsonBody: {
          ...report,
          status: ok ? 'ok' : 'degraded',
          tables: tables.entries,
          ...('error' in tables ? { tablesError: tables.error } : {}),
        },
      };
    });
  },
};
