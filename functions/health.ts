import { checkHealth } from '../shared/health';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { withAppRole } from './app-role';

const PROBE_TIMEOUT_MS = 5_000;

/** GET /api/health: the state of each dependency; 503 when any is failing, so load balancers and people see it. */
export const health: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'health',
  route: 'health',
  methods: ['GET'],
  authLevel: 'function',
  handler: (deps) =>
    withAppRole(deps, async function handleHealth() {
      const report = await checkHealth(deps.healthProbes, PROBE_TIMEOUT_MS);
      return { status: report.status === 'ok' ? 200 : 503, jsonBody: report };
    }),
};
