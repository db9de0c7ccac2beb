import { z } from 'zod';
import { profileNameSchema } from '../shared/profile/profile';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { errorResponse, json, notFound, parseParams } from './http';

const downloadParams = z.object({ name: profileNameSchema, key: z.string().min(1).max(1024) });

/** GET /api/profiles/{name}/failures/{*key}: one failed record with its row and reason, as a JSON download. */
export const downloadFailure: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'downloadFailure',
  route: 'profiles/{name}/failures/{*key}',
  methods: ['GET'],
  authLevel: 'function',
  handler: (deps) => async (request, context) => {
    const params = parseParams(downloadParams, request.params);
    if (!params.ok) return params.response;
    try {
      const record = await deps.sync.failedRecords.download(params.value.key);
      if (!record || record.profile !== params.value.name) return notFound(`Failed record '${params.value.key}'`);
      const fileName = params.value.key.split('/').pop() ?? 'failed-record.json';
      return json(200, record, { 'content-disposition': `attachment; filename="${fileName}"` });
    } catch (error) {
      return errorResponse(error, context);
    }
  },
};
