import { z } from 'zod';
import { logicalNameSchema, profileNameSchema } from '../shared/profile/profile';
import { failedRecordKeySchema } from '../shared/sync/admin/failures';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { errorResponse, json, parseParams } from './http';
import { withAppRole } from './app-role';

const listQuery = z.object({
  name: profileNameSchema,
  table: logicalNameSchema.optional(),
  pageSize: z.coerce.number().int().min(1).max(1000).optional(),
  after: failedRecordKeySchema.optional(),
});

/** GET /api/profiles/{name}/failures[?table=&pageSize=&after=]: failed records, newest first, with counts per table. */
export const listFailures: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'listFailures',
  route: 'profiles/{name}/failures',
  methods: ['GET'],
  authLevel: 'function',
  handler: (deps) =>
    withAppRole(deps, async function handleListFailures(request, context) {
      const params = parseParams(listQuery, { ...Object.fromEntries(request.query), name: request.params.name });
      if (!params.ok) return params.response;
      const { name, ...options } = params.value;
      try {
        const [page, counts] = await Promise.all([
          deps.sync.failedRecords.list(name, options),
          deps.sync.failedRecords.countByTable(name),
        ]);
        return json(200, { countsByTable: counts, records: page.records, ...(page.next ? { next: page.next } : {}) });
      } catch (error) {
        return errorResponse(error, context);
      }
    }),
};
