import { z } from 'zod';
import { join } from 'node:path';
import {
  CONSOLE_SECURITY_HEADERS,
  consoleAssetPathSchema,
  loadConsoleAssets,
  packageRoot,
  type ConsoleAssets,
} from '../shared/console/assets';
import type { HttpFunction } from './definition';
import type { FunctionDeps } from './deps';
import { withAppRole } from './app-role';
import { guarded } from './http';

const consoleParams = z.object({ path: z.union([z.literal(''), consoleAssetPathSchema]).default('') });

let assets: Promise<ConsoleAssets> | undefined;
/** Read once per worker: from the repository in development, from the zip's `console/` folder in Azure. */
const consoleAssets = () => (assets ??= loadConsoleAssets(join(packageRoot(__dirname), 'console')));

/**
 * GET /api/console/{*path}: the admin console's HTML, scripts and styles. Anonymous at the key check because a
 * browser cannot send a key when it opens a page (and a key in a URL gets logged); the files hold no data, and
 * every call they make goes to the API with the key the admin pastes. In Azure App Service Authentication and the
 * app role still apply (functions/app-role.ts).
 */
export const adminConsole: HttpFunction<FunctionDeps> = {
  kind: 'http',
  name: 'adminConsole',
  route: 'console/{*path}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: (deps) =>
    withAppRole(
      deps,
      guarded(consoleParams, async ({ path }, request) => {
        const url = new URL(request.url);
        // Relative links in the page resolve against /api/console/, not /api/.
        if (path === '' && !url.pathname.endsWith('/')) {
          return { status: 301, headers: { ...CONSOLE_SECURITY_HEADERS, location: `${url.pathname}/` } };
        }
        const asset = (await consoleAssets()).get(path);
        if (!asset) {
          return {
            status: 404,
            headers: { ...CONSOLE_SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' },
            body: `No console file '${path}'`,
          };
        }
        return {
          status: 200,
          headers: { ...CONSOLE_SECURITY_HEADERS, 'content-type': asset.contentType },
          body: asset.body,
        };
      }),
    ),
};
