/**
 * The admin API in Azure: with REQUIRE_APP_ROLE set, every HTTP function of the table needs that Entra app role
 * in the client principal App Service Authentication passes on; a function key alone gets a 401 or 403.
 */
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import type { HttpFunction } from '../../functions/definition';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { functionTable } from '../../functions/table';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();
const orchestrations = () => ({
  startNew: () => Promise.reject(new Error('unused')),
  getStatus: () => Promise.resolve(undefined),
  terminate: () => Promise.resolve(),
});
const listProfiles = functionTable.find(
  (definition): definition is HttpFunction<FunctionDeps> =>
    definition.kind === 'http' && definition.route === 'profiles' && definition.methods.includes('GET'),
);

/** The header as App Service builds it: base64 JSON with the token's claims. */
const principal = (roles: string[]): string =>
  Buffer.from(
    JSON.stringify({
      auth_typ: 'aad',
      name_typ: 'name',
      role_typ: 'roles',
      claims: [{ typ: 'name', val: 'Ada' }, ...roles.map((val) => ({ typ: 'roles', val }))],
    }),
  ).toString('base64');

async function call(env: Record<string, string>, headers: Record<string, string>): Promise<HttpResponseInit> {
  const deps = createFunctionDeps({ AzureWebJobsStorage: azurite.connectionString, ...env }, orchestrations);
  const request = new HttpRequest({ method: 'GET', url: 'http://localhost/api/profiles', headers });
  return (listProfiles as HttpFunction<FunctionDeps>).handler(deps)(
    request,
    new InvocationContext({ logHandler: () => undefined }),
  );
}

describe('the app role required of admin API callers', () => {
  it('refuses callers without a principal (401) or without the role (403), and lets the role through', async () => {
    const azure = { REQUIRE_APP_ROLE: 'Export.Admin' };
    expect((await call(azure, {})).status).toBe(401);
    expect((await call(azure, { 'x-ms-client-principal': 'not base64 json' })).status).toBe(401);
    expect((await call(azure, { 'x-ms-client-principal': principal(['Export.Reader']) })).status).toBe(403);
    expect((await call(azure, { 'x-ms-client-principal': principal(['Export.Admin']) })).status).toBe(200);
  });

  it('guards every HTTP function of the function table', async () => {
    const deps = createFunctionDeps(
      { AzureWebJobsStorage: azurite.connectionString, REQUIRE_APP_ROLE: 'Export.Admin' },
      orchestrations,
    );
    const http = functionTable.filter(
      (definition): definition is HttpFunction<FunctionDeps> => definition.kind === 'http',
    );
    expect(http.length).toBeGreaterThan(10);
    for (const definition of http) {
      const request = new HttpRequest({
        method: definition.methods[0] ?? 'GET',
        url: 'http://localhost/api/x',
        params: { name: 'sales', table: 'account', key: 'k' },
      });
      const response = (await definition.handler(deps)(
        request,
        new InvocationContext({ logHandler: () => undefined }),
      )) as HttpResponseInit;
      expect(response.status, definition.name).toBe(401);
    }
  });

  it('is off without the setting: locally the function key is the only check', async () => {
    expect((await call({}, {})).status).toBe(200);
  });
});
