/**
 * A loopback App Service managed identity endpoint, so managed identity credentials work offline. It copies the
 * protocol of https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference: the
 * host sets IDENTITY_ENDPOINT and IDENTITY_HEADER; a client GETs `?resource=…&api-version=2019-08-01[&client_id=…]`
 * with header `X-IDENTITY-HEADER` and gets `{access_token, expires_on, resource, token_type, client_id}`.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import type { AddressInfo } from 'node:net';

export interface TokenRequest {
  resource: string;
  /** The user-assigned identity asked for; undefined for the system-assigned one. */
  clientId: string | undefined;
}

export interface IdentityEndpoint {
  /** IDENTITY_ENDPOINT and IDENTITY_HEADER, as App Service sets them. */
  env: { IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string };
  requests: TokenRequest[];
  /** The token issued for a client id (or 'system'). */
  tokenFor(clientId: string | undefined): string;
  close(): Promise<void>;
}

const SECRET = 'loopback-identity-header';

export async function startIdentityEndpoint(): Promise<IdentityEndpoint> {
  const requests: TokenRequest[] = [];
  const tokenFor = (clientId: string | undefined) => `token-for-${clientId ?? 'system'}`;
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const resource = url.searchParams.get('resource');
    if (
      request.headers['x-identity-header'] !== SECRET ||
      url.searchParams.get('api-version') !== '2019-08-01' ||
      !resource
    ) {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_request' }));
      return;
    }
    const clientId = url.searchParams.get('client_id') ?? undefined;
    requests.push({ resource, clientId });
    const expiresOn = Math.floor(Date.now() / 1000) + 3600;
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        access_token: tokenFor(clientId),
        expires_on: String(expiresOn),
        resource,
        token_type: 'Bearer',
        client_id: clientId ?? 'system',
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: { IDENTITY_ENDPOINT: `http://127.0.0.1:${port}/msi/token`, IDENTITY_HEADER: SECRET },
    requests,
    tokenFor,
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

/**
 * For one test file: the endpoint runs and IDENTITY_ENDPOINT / IDENTITY_HEADER point at it (as App Service sets
 * them) from before the first test to after the last; the variables are then put back as they were.
 */
export function useIdentityEndpoint(): Pick<IdentityEndpoint, 'tokenFor' | 'requests'> {
  let identity: IdentityEndpoint | undefined;
  const saved = { IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT, IDENTITY_HEADER: process.env.IDENTITY_HEADER };
  beforeAll(async () => {
    identity = await startIdentityEndpoint();
    Object.assign(process.env, identity.env);
  });
  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await identity?.close();
  });
  const started = (): IdentityEndpoint => {
    if (!identity) throw new Error('The identity endpoint is not started yet: use it inside a test or hook');
    return identity;
  };
  return {
    tokenFor: (clientId) => started().tokenFor(clientId),
    get requests() {
      return started().requests;
    },
  };
}
