import { resyncTable } from '../shared/sync/activation';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { errorResponse, json, parseParams } from './http';
import { tableParams } from './params';

/** POST /api/profiles/{name}/tables/{table}/resync: copies the table again from its first page, then follows its changes. */
export const resyncOneTable: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'resyncTable',
  route: 'profiles/{name}/tables/{table}/resync',
  methods: ['POST'],
  authLevel: 'function',
  usesOrchestrations: true,
  handler: (deps) => async (request, context) => {
    const params = parseParams(tableParams, request.params);
    if (!params.ok) return params.response;
    try {
      const instanceId = await resyncTable(deps.sync, deps.orchestrations(context), params.value.name, params.value.table);
      return json(202, { instanceId, table: params.value.table });
    } catch (error) {
      return errorResponse(error, context);
    }
  },
};
