/**
 * The Key Vault reader against a loopback vault over HTTPS. The vault copies Get Secret
 * (https://learn.microsoft.com/rest/api/keyvault/secrets/get-secret) and its challenge-based sign-in
 * (https://learn.microsoft.com/azure/key-vault/general/authentication-requests-and-responses): an unauthenticated
 * request is answered 401 with a `WWW-Authenticate: Bearer authorization=…, resource=…` challenge, and the
 * client asks its credential for a token of that resource.
 */
import type { AccessToken, TokenCredential } from '@azure/identity';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportError } from '../../shared/errors';
import { readKeyVaultSecret } from '../../shared/storage/key-vault';
import { selfSignedCertificate } from '../support/ingestion-endpoint';

const TOKEN = 'vault-token';
/** The challenge's resource must be a parent domain of the vault's host, which an IP address has none of. */
const loopback = { disableChallengeResourceVerification: true };
const secrets: Record<string, { value: string; tags?: Record<string, string> }> = {
  'sql-connection': { value: 'Server=tcp:contoso;Password=x', tags: { 'contoso.crm.dynamics.com': 'tenant' } },
  empty: { value: '' },
};
let server: Server;
let vault: string;
const scopes: string[] = [];
const savedTls = process.env.NODE_TLS_REJECT_UNAUTHORIZED;

beforeAll(async () => {
  server = createServer(selfSignedCertificate(), (request, response) => {
    const url = new URL(request.url ?? '/', vault);
    if (request.headers.authorization !== `Bearer ${TOKEN}`) {
      response
        .writeHead(401, {
          'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/contoso", resource="${vault}"`,
        })
        .end();
      return;
    }
    const name = url.pathname.split('/')[2] ?? '';
    const secret = secrets[name];
    if (!secret) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: { code: 'SecretNotFound', message: `A secret with (name/id) ${name} was not found` },
        }),
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        value: secret.value,
        id: `${vault}/secrets/${name}/0123456789abcdef`,
        attributes: { enabled: true },
        ...(secret.tags ? { tags: secret.tags } : {}),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  vault = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The loopback vault's certificate is self-signed.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
});
afterAll(async () => {
  if (savedTls === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  else process.env.NODE_TLS_REJECT_UNAUTHORIZED = savedTls;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const credential: TokenCredential = {
  getToken: (scope): Promise<AccessToken> => {
    scopes.push(String(scope));
    return Promise.resolve({ token: TOKEN, expiresOnTimestamp: Date.now() + 60_000 });
  },
};

describe('Key Vault reader', () => {
  it('reads the value and tags of a secret with a token for the vault the challenge names', async () => {
    const secret = await readKeyVaultSecret(
      `${vault}/secrets/sql-connection`,
      'destination connection string',
      () => credential,
      loopback,
    );
    expect(secret).toEqual({
      value: 'Server=tcp:contoso;Password=x',
      tags: { 'contoso.crm.dynamics.com': 'tenant' },
    });
    expect(scopes.at(-1)).toBe(`${vault}/.default`);
  });

  it('a secret it cannot read or that is empty is a config error naming the secret', async () => {
    const missing = await readKeyVaultSecret(
      `${vault}/secrets/absent`,
      'Dataverse token',
      () => credential,
      loopback,
    ).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ExportError);
    expect(missing).toMatchObject({ errorClass: 'config', where: `${vault}/secrets/absent` });
    expect((missing as ExportError).fix).toContain('Key Vault Secrets User');
    await expect(
      readKeyVaultSecret(`${vault}/secrets/empty`, 'Dataverse token', () => credential, loopback),
    ).rejects.toMatchObject({
      errorClass: 'config',
      message: "The Key Vault secret 'empty' (Dataverse token) is empty",
    });
  });
});
