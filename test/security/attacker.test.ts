/**
 * The attacker suite (issue 14): a caller holding a function key tries to make the app hand over its secrets
 * and identity, with an attacker's host on loopback (http and https) recording every connection. Each finding
 * of the issue is a test here; across all of them the host must receive no secret and no token.
 */
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { AnonymousCredential, ContainerClient } from '@azure/storage-blob';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { activate } from '../../functions/profiles-activate';
import { putProfile } from '../../functions/profiles-put';
import { staticTokenSource } from '../../shared/dataverse/auth';
import { createLakeDestination } from '../../shared/destinations/lake/destination';
import { DataverseClient } from '../../shared/dataverse/client';
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { ExportError } from '../../shared/errors';
import { exportProfileSchema } from '../../shared/profile/profile';
import type { OrchestrationClient } from '../../shared/orchestration/client';
import { pollTable } from '../../shared/sync/capture/poller';
import { createProfileRuntimes } from '../../shared/sync/wiring/runtime';
import { createSecretResolver, type SecretResolver } from '../../shared/sync/wiring/secrets';
import { injection } from '../fuzz/arbitraries';
import { useAzurite } from '../support/azurite';
import { everythingSeen, startAttackerHost, type AttackerHost } from './attacker-host';

const azurite = useAzurite();
let attacker: AttackerHost;
beforeAll(async () => {
  attacker = await startAttackerHost();
});
afterAll(async () => attacker.close());

const PG_PASSWORD = 'PgPassword-7c1e9a';
const KEY_VAULT_SECRET = 'key-vault-secret-41d0';
const IDENTITY_TOKEN = 'managed-identity-token-9f3b';
/** Everything that must never reach the attacker; the host storage key is added once Azurite runs. */
const secrets = (): string[] => [
  PG_PASSWORD,
  KEY_VAULT_SECRET,
  IDENTITY_TOKEN,
  /AccountKey=([^;]+)/.exec(azurite.connectionString)?.[1] ?? 'no key',
];

const orchestrations: OrchestrationClient = {
  startNew: (_name, options) => Promise.resolve(options.instanceId),
  getStatus: () => Promise.resolve(undefined),
  terminate: () => Promise.resolve(),
};

/** The managed identity as Azure gives it: a token for any scope asked (IMDS does not run here). */
const identity: TokenCredential = {
  getToken: (): Promise<AccessToken> =>
    Promise.resolve({ token: IDENTITY_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/** Key Vault as Azure answers: the secret, with no tag naming any environment (Key Vault does not run here). */
const withKeyVault = (resolver: SecretResolver): SecretResolver => ({
  resolve: (reference, what) =>
    'keyVaultSecretUri' in reference
      ? Promise.resolve({ value: KEY_VAULT_SECRET, tags: {} })
      : resolver.resolve(reference, what),
});

/** Handlers over Azurite with the app settings an Azure deployment has; `local` adds what npm start sets. */
function app(local: Record<string, string> = {}): FunctionDeps {
  const env = {
    AzureWebJobsStorage: azurite.connectionString,
    DESTINATION_CONNECTION: `postgres://export:${PG_PASSWORD}@db.contoso.example:5432/dv`,
    ...local,
  };
  const deps = createFunctionDeps(env, () => orchestrations);
  const runtimes = createProfileRuntimes({
    profiles: deps.sync.profiles,
    secrets: withKeyVault(createSecretResolver(env, () => identity)),
    credential: () => identity,
    policy: deps.settings.security,
  });
  return { ...deps, sync: { ...deps.sync, runtimes } };
}

const context = () => new InvocationContext({ logHandler: () => undefined });
async function put(
  deps: FunctionDeps,
  name: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResponseInit> {
  const request = new HttpRequest({
    method: 'PUT',
    url: `http://localhost/api/profiles/${name}`,
    params: { name },
    headers,
    body: { string: JSON.stringify(body) },
  });
  return putProfile.handler(deps)(request, context());
}
async function activated(deps: FunctionDeps, name: string): Promise<HttpResponseInit> {
  const request = new HttpRequest({
    method: 'POST',
    url: `http://localhost/api/profiles/${name}/activate`,
    params: { name },
  });
  return activate.handler(deps)(request, context());
}
/** PUT, then activate when the PUT was taken: what an attacker does. The statuses of both. */
async function attempt(deps: FunctionDeps, name: string, body: unknown): Promise<number[]> {
  const stored = await put(deps, name, body);
  if ((stored.status ?? 0) >= 300) return [stored.status ?? 0];
  const started = await activated(deps, name);
  echoed.push(JSON.stringify(started.jsonBody));
  return [stored.status ?? 0, started.status ?? 0];
}

const tables = ['account'];
const sqlDestination = {
  kind: 'sql',
  dialect: 'postgres',
  connection: { keyVaultSecretUri: 'https://contoso.vault.azure.net/secrets/sql' },
};
const webApi = (origin: string) => `${origin}/api/data/v9.2/`;

/** Every activation answer: none may repeat what the attacker's host said. */
const echoed: string[] = [];

/** No secret in anything the host ever received; no token at all since request `since` (later tests play a Dataverse on purpose). */
function expectNothingReceived(since = 0): void {
  const seen = everythingSeen(attacker);
  for (const secret of secrets()) expect(seen, 'a secret reached the attacker').not.toContain(secret);
  expect(
    attacker.requests
      .slice(since)
      .map((request) => request.headers.authorization)
      .filter(Boolean),
    'a token reached the attacker',
  ).toEqual([]);
  for (const answer of echoed) expect(answer, 'an error echoed the foreign body').not.toContain('attacker-body-echo');
}

describe('an API caller with a function key, against an app in Azure', () => {
  it('finding 1: cannot have an app setting or Key Vault secret sent as a bearer token to its host (http or https)', async () => {
    const deps = app();
    const attempts = [
      {
        environmentUrl: webApi(attacker.httpUrl),
        auth: { kind: 'static-token', token: { appSetting: 'DESTINATION_CONNECTION' } },
      },
      {
        environmentUrl: webApi(attacker.httpsUrl),
        auth: { kind: 'static-token', token: { appSetting: 'AzureWebJobsStorage' } },
      },
      {
        environmentUrl: webApi(attacker.httpUrl),
        auth: { kind: 'static-token', token: { keyVaultSecretUri: 'https://contoso.vault.azure.net/secrets/sql' } },
      },
      { environmentUrl: webApi(attacker.httpsUrl), auth: { kind: 'managed-identity' } },
      {
        environmentUrl: 'https://attacker.example/api/data/v9.2/',
        auth: { kind: 'static-token', token: { appSetting: 'DESTINATION_CONNECTION' } },
      },
      {
        environmentUrl: 'https://contoso.crm.dynamics.com.attacker.example/api/data/v9.2/',
        auth: { kind: 'managed-identity' },
      },
    ];
    const refused: number[] = [];
    // PGlite, whose build needs no secret: what an attacker picks so that nothing but the source is tried.
    for (const [index, source] of attempts.entries())
      refused.push(
        (
          await attempt(deps, `steal-${index}`, { source, tables, destination: { kind: 'sql', dialect: 'pglite' } })
        )[0] ?? 0,
      );
    expectNothingReceived();
    expect(attacker.connections, 'the app connected to the attacker').toBe(0);
    expect(refused).toEqual(attempts.map(() => 400));
  });

  it('finding 2: cannot have the managed-identity storage token sent to its host as a lake endpoint', async () => {
    const deps = app();
    const urls = [
      attacker.httpUrl,
      attacker.httpsUrl,
      'https://attacker.example',
      'https://evil.blob.core.windows.net.attacker.example',
    ];
    const refused: number[] = [];
    for (const [index, accountUrl] of urls.entries()) {
      const name = `lake-${index}`;
      const body = {
        source: {
          environmentUrl: 'https://contoso.crm.dynamics.com/api/data/v9.2/',
          auth: { kind: 'managed-identity' },
        },
        tables,
        destination: { kind: 'lake', storage: { accountUrl }, container: 'lake' },
      };
      refused.push((await put(deps, name, body)).status ?? 0);
      // Stored anyway (as by an older version), then the destination step of activation, which creates the container.
      await deps.sync.profiles.put(name, exportProfileSchema.parse({ ...body, name }));
      const failure = await deps.sync.runtimes.get(name).then(
        (runtime) => runtime.destination.ensureTables([], []),
        (error: unknown) => error,
      );
      echoed.push(JSON.stringify(failure instanceof ExportError ? failure.toJSON() : failure));
    }
    expectNothingReceived();
    expect(attacker.connections).toBe(0);
    expect(refused).toEqual(urls.map(() => 400));
  });

  it('finding 1: a stored profile the policy refuses (made before the rules) resolves no secret and contacts no host', async () => {
    const deps = app();
    // Written to the store directly, as a profile stored by an older version would be.
    await deps.sync.profiles.put(
      'stored-before',
      exportProfileSchema.parse({
        name: 'stored-before',
        source: {
          environmentUrl: webApi(attacker.httpUrl),
          auth: { kind: 'static-token', token: { keyVaultSecretUri: 'https://contoso.vault.azure.net/secrets/sql' } },
        },
        tables,
        destination: { kind: 'sql', dialect: 'pglite' },
      }),
    );
    const started = await activated(deps, 'stored-before');
    expectNothingReceived();
    expect(attacker.connections).toBe(0);
    expect(started.status).toBe(400);
    expect(JSON.stringify(started.jsonBody)).toContain('source.environmentUrl');
  });
});

describe('an API caller, against a local run (the emulator on loopback allowed)', () => {
  it('finding 1: a Key Vault secret not tagged for the environment is not sent as its token', async () => {
    const deps = app({ DVX_LOCAL_MODE: '1' });
    const statuses = await attempt(deps, 'kv-untagged', {
      source: {
        environmentUrl: webApi(attacker.httpUrl),
        auth: { kind: 'static-token', token: { keyVaultSecretUri: 'https://contoso.vault.azure.net/secrets/other' } },
      },
      tables,
      destination: { kind: 'sql', dialect: 'pglite' },
    });
    expect(statuses).toEqual([201, 400]);
    expectNothingReceived();
  });

  it('finding 3: an embedded database goes only into its own folder under the data folder, never one a profile names', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dvx-data-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'dvx-elsewhere-'));
    writeFileSync(join(elsewhere, 'precious.txt'), 'not a database');
    try {
      const deps = app({ DVX_LOCAL_MODE: '1', DVX_DATA_DIR: root, DVX_SECRET_TOKEN: 'local-token' });
      const source = {
        environmentUrl: webApi(attacker.httpUrl),
        auth: { kind: 'static-token', token: { appSetting: 'DVX_SECRET_TOKEN' } },
      };
      const named = await put(deps, 'anywhere', {
        source,
        tables,
        destination: { kind: 'sql', dialect: 'pglite', dataDir: elsewhere },
      });
      expect(named.status).toBe(400);
      await deps.sync.runtimes.get('anywhere').catch(() => undefined);
      expect(readdirSync(elsewhere)).toEqual(['precious.txt']);
      // Two profiles, two folders.
      for (const name of ['first', 'second'])
        expect(
          (await put(deps, name, { source, tables, destination: { kind: 'sql', dialect: 'pglite' } })).status,
        ).toBe(201);
      await deps.sync.runtimes.get('first');
      await deps.sync.runtimes.get('second');
      expect(readdirSync(join(root, 'databases')).sort()).toEqual(['first', 'second']);
      // A folder holding something else is refused, not taken over.
      mkdirSync(join(root, 'databases', 'third'));
      writeFileSync(join(root, 'databases', 'third', 'precious.txt'), 'not a database');
      expect(
        (await put(deps, 'third', { source, tables, destination: { kind: 'sql', dialect: 'pglite' } })).status,
      ).toBe(201);
      await expect(deps.sync.runtimes.get('third')).rejects.toThrow(/no database/);
      expect(existsSync(join(root, 'databases', 'third', 'PG_VERSION'))).toBe(false);
      await deps.sync.runtimes.closeAll();
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

const account = { logicalName: 'account', entitySetName: 'accounts', primaryIdAttribute: 'accountid' } as TableMetadata;

describe('a source that misbehaves', () => {
  it('finding 4: a self-referencing @odata.nextLink stops the read with an error, after two requests', async () => {
    attacker.behaviour = 'loop';
    const before = attacker.requests.length;
    const client = new DataverseClient({
      baseUrl: webApi(attacker.httpUrl),
      token: staticTokenSource('emulator-token'),
      retry: { maxAttempts: 1 },
    });
    let pages = 0;
    const read = async () => {
      for await (const _page of client.readDelta(account, `${webApi(attacker.httpUrl)}accounts?$deltatoken=1`))
        if (++pages > 50) return 'endless';
      return 'ended';
    };
    await expect(read()).rejects.toThrow(/loop/);
    expect(attacker.requests.length - before).toBeLessThanOrEqual(2);
    attacker.behaviour = 'dataverse';
  });

  it('finding 5: a redirect to another origin is not followed, and the error names where it happened', async () => {
    attacker.behaviour = 'redirect-away';
    // Another origin (localhost is not 127.0.0.1) that would answer with a valid-looking page.
    attacker.redirectTo = `${attacker.httpUrl.replace('127.0.0.1', 'localhost')}/foreign`;
    const client = new DataverseClient({
      baseUrl: webApi(attacker.httpUrl),
      token: staticTokenSource('emulator-token'),
      retry: { maxAttempts: 1 },
    });
    const failure = await client.readPage(account, 'accounts').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ExportError);
    expect((failure as ExportError).message).toMatch(/redirected .*another origin/);
    expect((failure as ExportError).where).toBe('/api/data/v9.2/accounts');
    expect(attacker.requests.filter((request) => request.url === '/foreign')).toEqual([]);
    attacker.behaviour = 'dataverse';
  });

  it('finding 5: Retry-After is honoured (capped): the table is not asked again until then, and its status says so', async () => {
    attacker.behaviour = 'throttle-forever';
    const deps = app({ DVX_LOCAL_MODE: '1', DVX_SECRET_TOKEN: 'local-token' });
    const body = {
      source: {
        environmentUrl: webApi(attacker.httpUrl),
        auth: { kind: 'static-token', token: { appSetting: 'DVX_SECRET_TOKEN' } },
      },
      tables,
      destination: { kind: 'sql', dialect: 'pglite' },
    };
    expect((await put(deps, 'throttled', body)).status).toBe(201);
    await deps.sync.checkpoints.create('throttled', 'account', {
      phase: 'delta',
      rowsCopied: 0,
      pages: 0,
      startedAt: new Date().toISOString(),
      deltaLink: `${webApi(attacker.httpUrl)}accounts?$deltatoken=1`,
    });
    const services = {
      ...deps.sync,
      snapshots: {
        ...deps.sync.snapshots,
        get: () =>
          Promise.resolve({
            value: { tables: [account], relationships: [], readAt: new Date().toISOString() },
            etag: '"1"',
          }),
      },
    };
    const before = attacker.requests.length;
    const first = await pollTable(services, orchestrations, 'throttled', 'account');
    const asked = attacker.requests.length - before;
    const second = await pollTable(services, orchestrations, 'throttled', 'account');
    expect(first.outcome).toMatch(/throttled|failed/);
    expect(second.outcome).toBe('throttled');
    expect(attacker.requests.length - before, 'asked again while throttled').toBe(asked);
    const status = await deps.sync.status.read('throttled', 'account');
    const until = Date.parse(status?.throttledUntil ?? '');
    expect(until).toBeGreaterThan(Date.now() + 60_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 15 * 60_000);
    expect(status?.lastError?.message).toContain('throttled until');
    await deps.sync.runtimes.closeAll();
    attacker.behaviour = 'dataverse';
  });

  it('finding 2: a lake storage error names the container (not "undefined") and repeats no foreign body', async () => {
    const lake = createLakeDestination(new ContainerClient(`${attacker.httpUrl}/lake`, new AnonymousCredential()), {
      mode: 'appendOnly',
      granularity: 'Month',
      incrementalIntervalMinutes: 60,
      snapshotIntervalMinutes: 60,
    });
    const failure = await lake.ensureTables([], []).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ExportError);
    expect((failure as ExportError).where).toBe('lake');
    expect(JSON.stringify((failure as ExportError).toJSON())).not.toContain('attacker-body-echo');
  });

  it('finding 5: If-Match on a profile that does not exist is 412 and creates nothing', async () => {
    const deps = app();
    const body = {
      source: { environmentUrl: 'https://contoso.crm.dynamics.com/api/data/v9.2/', auth: { kind: 'managed-identity' } },
      tables,
      destination: sqlDestination,
    };
    for (const ifMatch of ['*', '"0x8DC0000000000000"']) {
      expect((await put(deps, 'not-there', body, { 'if-match': ifMatch })).status).toBe(412);
      expect(await deps.sync.profiles.get('not-there')).toBeUndefined();
    }
  });
});

/** Host names a profile could name: the attacker's, look-alikes of Microsoft's, internal addresses, hostile text. */
const hostileHost = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(
      new URL(attacker.httpUrl).host,
      new URL(attacker.httpsUrl).host,
      'localhost',
      '[::1]',
      '169.254.169.254',
      '10.0.0.1',
      '[fd00::1]',
      '0.0.0.0',
    ),
    fc.constantFrom(
      'contoso.crm.dynamics.com.attacker.example',
      'contoso.crm.dynamics.com@attacker.example',
      'crm.dynamics.com',
      'contoso.blob.core.windows.net.attacker.example',
      'contoso.vault.azure.net',
    ),
    fc.domain(),
    fc
      .tuple(fc.domain(), fc.constantFrom('.crm.dynamics.com', '.blob.core.windows.net', '.crm4.dynamics.com'))
      .map(([a, b]) => `${a}${b}:${String(443)}`),
  );
const secretReference = fc.oneof(
  fc
    .constantFrom(
      'DESTINATION_CONNECTION',
      'AzureWebJobsStorage',
      'PATH',
      'DVX_SECRET_',
      'dvx_secret_x',
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
    )
    .map((appSetting) => ({ appSetting })),
  fc.oneof(injection, fc.string()).map((appSetting) => ({ appSetting })),
  fc.webUrl().map((keyVaultSecretUri) => ({ keyVaultSecretUri })),
);

describe('fuzzed profile fields that name hosts, paths and secret references', () => {
  it('never store a profile that names a host, folder or setting outside the policy, and never send anything anywhere', async () => {
    const deps = app();
    const handler = putProfile.handler(deps);
    const [since, connections] = [attacker.requests.length, attacker.connections];
    await fc.assert(
      fc.asyncProperty(
        hostileHost(),
        fc.constantFrom('http', 'https'),
        fc.oneof(
          secretReference.map((token) => ({ kind: 'static-token', token })),
          secretReference.map((clientSecret) => ({
            kind: 'client-secret',
            tenantId: '11111111-1111-1111-1111-111111111111',
            clientId: '22222222-2222-2222-2222-222222222222',
            clientSecret,
          })),
          fc.constant({ kind: 'managed-identity' }),
        ),
        fc.oneof(
          fc.tuple(hostileHost(), fc.constantFrom('http', 'https')).map(([host, scheme]) => ({
            kind: 'lake',
            storage: { accountUrl: `${scheme}://${host}` },
            container: 'lake',
          })),
          secretReference.map((connection) => ({ kind: 'sql', dialect: 'postgres', connection })),
          fc
            .oneof(injection, fc.constantFrom('/', '/tmp', '../../x', 'C:\\x'))
            .map((dataDir) => ({ kind: 'sql', dialect: 'pglite', dataDir })),
          fc.constant({ kind: 'sql', dialect: 'pglite' }),
        ),
        async (host, scheme, auth, destination) => {
          const body = { source: { environmentUrl: `${scheme}://${host}/api/data/v9.2/`, auth }, tables, destination };
          const request = new HttpRequest({
            method: 'PUT',
            url: 'http://localhost/api/profiles/fuzzed-hosts',
            params: { name: 'fuzzed-hosts' },
            body: { string: JSON.stringify(body) },
          });
          const response = (await handler(request, context())) as HttpResponseInit;
          // Only a Microsoft Dataverse host over https, a Microsoft identity or a DVX_SECRET_ setting/Key Vault, and a storage
          // endpoint of this cloud could ever be stored; the generators above make at least one field hostile or local.
          const genuine = scheme === 'https' && /^[a-z0-9-]+\.crm4?\.dynamics\.com(:443)?$/.test(host);
          if (!genuine) expect(response.status, JSON.stringify(body)).toBe(400);
          if (response.status === 400) {
            const problems =
              (response.jsonBody as { error?: { problems?: Array<{ field: string; reason: string }> } }).error
                ?.problems ?? [];
            expect(problems.length).toBeGreaterThan(0);
            for (const problem of problems) expect(problem.reason.length).toBeGreaterThan(0);
          }
          await deps.sync.profiles.delete('fuzzed-hosts');
        },
      ),
      { numRuns: 300 },
    );
    expectNothingReceived(since);
    expect(attacker.connections).toBe(connections);
  });
});
