import { z } from 'zod';
import { profileNameSchema } from '../shared/profile/profile';
import { failedRecordKeySchema } from '../shared/sync/admin/failures';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { guarded, json, notFound } from './http';
import { withAppRole } from './app-role';

const downloadParams = z.object({ name: profileNameSchema, key: failedRecordKeySchema });

/** GET /api/profiles/{name}/failures/{*key}: one failed record with its row and reason, as a JSON download. */
export const downloadFailure: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'downloadFailure',
  route: 'profiles/{name}/failures/{*key}',
  methods: ['GET'],
  authLevel: 'function',
  handler: (deps) =>
    withAppRole(
      deps,
      guarded(downloadParams, async function handleDownloadFailure({ name, key }) {
        const record = await deps.sync.failedRecords.download(key);
        if (!record || record.profile !== name) return notFound(`Failed record '${key}'`);
        const fileName = key.split('/').pop() ?? 'failed-record.json';
        return json(200, record, { 'content-disposition': `attachment; filename="${fileName}"` });
      }),
    ),
};
