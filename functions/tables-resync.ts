import { resyncTable } from '../shared/sync/admin/activation';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { guarded, json } from './http';
import { tableParams } from './params';
import { withAppRole } from './app-role';

/** POST /api/profiles/{name}/tables/{table}/resync: copies the table again from its first page, then follows its changes. */
export const resyncOneTable: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'resyncTable',
  route: 'profiles/{name}/tables/{table}/resync',
  methods: ['POST'],
  authLevel: 'function',
  usesOrchestrations: true,
  handler: (deps) =>
    withAppRole(
      deps,
      guarded(tableParams, async function handleResyncTable({ name, table }, _request, context) {
        const instanceId = await resyncTable(deps.sync, deps.orchestrations(context), name, table);
        return json(202, { instanceId, table });
      }),
    ),
};
