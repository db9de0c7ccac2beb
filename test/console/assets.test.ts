/**
 * The admin console's files over the real local host: anonymous (a browser cannot send a key when it opens a
 * page), with strict security headers, only files of console/, never anything reached by a traversing path,
 * and in Azure behind the app role like every other HTTP function.
 */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminConsole } from '../../functions/console';
import type { FunctionDefinition } from '../../functions/definition';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { registerFunctions } from '../../functions/register';
import { consoleLog } from '../../local/host/console-log';
import { captureRegistrations } from '../../local/host/functions-core';
import { startLocalHost, type LocalHost } from '../../local/host/host';
import { consoleAssetPathSchema } from '../../shared/console/assets';
import { durableOrchestrationClient } from '../../shared/orchestration/durable';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();
const table: FunctionDefinition<FunctionDeps>[] = [adminConsole];
const current: { deps?: FunctionDeps } = {};
const registered = captureRegistrations(() =>
  registerFunctions(table, async () => current.deps as FunctionDeps, { app, durable: df.app }),
);
const hosts: LocalHost[] = [];

async function startHost(env: Record<string, string> = {}): Promise<LocalHost> {
  const settings = { AzureWebJobsStorage: azurite.connectionString, ...env };
  current.deps = createFunctionDeps(settings, durableOrchestrationClient);
  const host = await startLocalHost<FunctionDeps>({
    functions: await registered,
    definitions: table,
    storage: azurite.clients,
    env: settings,
    port: 0,
    keys: { functionKey: 'console-test-key', masterKey: 'console-test-master' },
    polling: { minPollMs: 20, maxPollMs: 100, lockSeconds: 5 },
    log: consoleLog('none'),
  });
  hosts.push(host);
  return host;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** GET with the path exactly as given: fetch would resolve `..` segments before sending them. */
function get(host: LocalHost, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port: host.port, method: 'GET', path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

let host: LocalHost;
beforeAll(async () => {
  host = await startHost();
}, 60_000);
afterAll(async () => {
  for (const running of hosts) await running.close();
});

describe('the admin console files', () => {
  it('serves the start page without a key, with strict security headers and no inline script', async () => {
    const page = await get(host, '/api/console/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const policy = String(page.headers['content-security-policy']);
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    // Every script is a file: an inline one would be blocked by the policy anyway.
    expect(page.text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(page.text).toContain('<script type="module" src="app.js"></script>');
  });

  it('redirects /api/console to /api/console/ so relative links resolve under it', async () => {
    const answer = await get(host, '/api/console');
    expect(answer.status).toBe(301);
    expect(answer.headers.location).toBe('/api/console/');
  });

  it('serves scripts and styles with their types, and 404 for a file the console does not have', async () => {
    expect((await get(host, '/api/console/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get(host, '/api/console/pages/profile.js')).status).toBe(200);
    expect((await get(host, '/api/console/style.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const missing = await get(host, '/api/console/nothing-here.js');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-security-policy']).toBeDefined();
  });

  it.each([
    '/api/console/..%2fpackage.json',
    '/api/console/..%2fhost.json',
    '/api/console/..%2f..%2fpackage.json',
    '/api/console/%2e%2e%2f%2e%2e%2fpackage.json',
    '/api/console/pages/..%2f..%2f..%2ffunctions%2fconsole.ts',
    '/api/console/..%5c..%5cpackage.json',
    '/api/console/%2fetc%2fpasswd',
    '/api/console/.hidden',
    '/api/console/pages%2f..%2f..%2fhost.json',
    '/api/console/app.js%00.html',
  ])('refuses the traversing path %s without reading anything outside console/', async (path) => {
    const answer = await get(host, path);
    expect([400, 404], `${path}: ${answer.status} ${answer.text}`).toContain(answer.status);
    expect(answer.text).not.toContain('"name": "dataverse-export"');
    expect(answer.text).not.toContain('"version": "2.0"');
    expect(answer.text).not.toContain('extensionBundle');
    expect(answer.text).not.toContain('root:');
    if (answer.status === 400) expect(answer.text).toContain('"field":"path"');
  });

  it('has a path rule that refuses .., backslashes, absolute paths and leading dots', () => {
    for (const path of ['..', '../x', 'a/../b', 'a\\b', '/etc/passwd', '.env', 'a/.git', 'x%2f..', 'a//b'])
      expect(consoleAssetPathSchema.safeParse(path).success, path).toBe(false);
    for (const path of ['index.html', 'pages/profile.js', 'style.css'])
      expect(consoleAssetPathSchema.safeParse(path).success, path).toBe(true);
  });

  it('needs the app role in Azure like every other HTTP function', async () => {
    const azure = await startHost({ REQUIRE_APP_ROLE: 'Export.Admin' });
    expect((await get(azure, '/api/console/')).status).toBe(401);
  });
});
