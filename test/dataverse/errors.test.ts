/**
 * Failure handling against the emulator's fault injection: throttling storms within the retry budget,
 * `Retry-After` honoured, budgets exhausted as `throttled`, expired tokens as `expired-token`,
 * 401/403 as actionable `config` errors.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../local/emulator/server';
import { sampleRowId, sampleTable } from '../../local/sample-org';
import { staticTokenSource } from '../../shared/dataverse/auth';
import { DataverseClient } from '../../shared/dataverse/client';
import { DEFAULT_CONCURRENCY, parseRetryAfter } from '../../shared/dataverse/http';
import { ExportError } from '../../shared/errors';
import { clientFor, collect, TOKEN } from './helpers';

const account = sampleTable('account');
let emulator: Emulator | undefined;

async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  emulator = await startEmulator({ accounts: 1_000, token: TOKEN, ...options });
  return emulator;
}
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function failure(promise: Promise<unknown>): Promise<ExportError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ExportError);
  return error as ExportError;
}

describe('throttling and transient failures', () => {
  it('rides out a 429 storm within the retry budget and loses no rows', async () => {
    const { baseUrl, stats } = await start({ faults: { throttleRate: 0.4, retryAfterSeconds: 0 } });
    const pages = await collect(clientFor(baseUrl, { maxAttempts: 12 }).initialLoad(account, { pageSize: 50 }));
    expect(new Set(pages.flatMap((page) => page.changes.map((change) => change.id))).size).toBe(1_000);
    expect(stats.throttled).toBeGreaterThan(5);
  });

  it('backs off with jitter on 503s that carry no Retry-After', async () => {
    const { baseUrl, stats } = await start({ faults: { unavailableRate: 0.3 } });
    const pages = await collect(
      clientFor(baseUrl, { maxAttempts: 10, baseDelayMs: 2 }).initialLoad(account, { pageSize: 100 }),
    );
    expect(pages.flatMap((page) => page.changes)).toHaveLength(1_000);
    expect(stats.unavailable).toBeGreaterThan(0);
  });

  it('waits for Retry-After before retrying', async () => {
    const { baseUrl } = await start({ faults: { throttleRate: 1, retryAfterSeconds: 1 } });
    const started = Date.now();
    const error = await failure(collect(clientFor(baseUrl, { maxAttempts: 2 }).initialLoad(account)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(error.errorClass).toBe('throttled');
  });

  it('gives up after the retry budget with a throttled error carrying Retry-After', async () => {
    const { baseUrl, stats } = await start({ faults: { throttleRate: 1, retryAfterSeconds: 0 } });
    const error = await failure(collect(clientFor(baseUrl, { maxAttempts: 3 }).initialLoad(account)));
    expect(error).toMatchObject({ errorClass: 'throttled', retryAfterMs: 0 });
    expect(error.message).toContain('0x80072322');
    expect(stats.throttled).toBe(3);
  });

  it('hands a Retry-After longer than the longest wait straight back to the caller', async () => {
    const { baseUrl, stats } = await start({ faults: { throttleRate: 1, retryAfterSeconds: 120 } });
    const error = await failure(collect(clientFor(baseUrl, { maxDelayMs: 60_000 }).initialLoad(account)));
    expect(error).toMatchObject({ errorClass: 'throttled', retryAfterMs: 120_000 });
    expect(stats.throttled).toBe(1);
  });

  it('abandons and retries attempts that outlast the request timeout, then fails as transient', async () => {
    const { baseUrl, stats } = await start({ faults: { latencyMs: 300 } });
    const error = await failure(
      clientFor(baseUrl, { maxAttempts: 2, requestTimeoutMs: 50 }).readRowsById(account, [
        sampleRowId(1, 'account', 0),
      ]),
    );
    expect(error.errorClass).toBe('transient');
    expect(error.message).toContain('did not answer');
    expect(stats.requests).toBe(2);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7_000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4_000)).toBe(6_000);
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('per-org concurrency', () => {
  it('keeps requests to one org under the configured limit', async () => {
    const { baseUrl, stats } = await start({ faults: { latencyMs: 30 } });
    const client = new DataverseClient({ baseUrl, token: staticTokenSource(TOKEN), concurrency: 3 });
    const ids = Array.from({ length: 12 }, (_, index) => sampleRowId(1, 'account', index));
    expect((await client.readRowsById(account, ids)).rows).toHaveLength(12);
    expect(stats.maxConcurrent).toBe(3);
  });

  it('defaults to a limit well under the 52 concurrent requests Dataverse allows', async () => {
    const { baseUrl, stats } = await start({ faults: { latencyMs: 30 } });
    const ids = Array.from({ length: 40 }, (_, index) => sampleRowId(1, 'account', index));
    await clientFor(baseUrl).readRowsById(account, ids);
    expect(stats.maxConcurrent).toBe(DEFAULT_CONCURRENCY);
    expect(DEFAULT_CONCURRENCY).toBeLessThan(52 / 2);
  });
});

describe('expired change-tracking tokens', () => {
  it('raises expired-token when the deltaLink is older than the org keeps changes', async () => {
    let now = Date.UTC(2026, 0, 1);
    const { baseUrl } = await start({ changeTrackingRetentionDays: 7, now: () => now });
    const client = clientFor(baseUrl);
    const deltaLink = (await collect(client.initialLoad(account))).at(-1)!.deltaLink!;
    now += 6 * 86_400_000;
    expect(await collect(client.readDelta(account, deltaLink))).toHaveLength(1);
    now += 2 * 86_400_000;
    const error = await failure(collect(client.readDelta(account, deltaLink)));
    expect(error.errorClass).toBe('expired-token');
    expect(error.message).toContain('0x80044352');
    expect(error.fix).toMatch(/re-baseline/);
  });

  it('raises expired-token when the emulator is told to expire every token', async () => {
    const { baseUrl, faults } = await start();
    const client = clientFor(baseUrl);
    const deltaLink = (await collect(client.initialLoad(account))).at(-1)!.deltaLink!;
    faults.set({ expiredTokens: true });
    expect((await failure(collect(client.readDelta(account, deltaLink)))).errorClass).toBe('expired-token');
  });
});

describe('response shapes', () => {
  it.each([
    ['value is not an array', { value: 'not rows' }],
    ['a row is not an object', { value: [{ accountid: 'a' }, ['not', 'a', 'row']] }],
  ])('raises a schema error naming the URL when a body is not a Dataverse page (%s)', async (_case, body) => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const error = await failure(collect(clientFor(`http://127.0.0.1:${port}/api/data/v9.2/`).initialLoad(account)));
      expect(error.errorClass).toBe('schema');
      expect(error.where).toBe('/api/data/v9.2/accounts');
    } finally {
      server.close();
    }
  });
});

describe('persisted links', () => {
  it('refuses to send the token to a link on another host', async () => {
    const { baseUrl } = await start();
    const error = await failure(
      collect(
        clientFor(baseUrl).readDelta(
          account,
          'https://elsewhere.example/api/data/v9.2/accounts?$deltatoken=1%2101%2f01%2f2026%2000%3a00%3a00',
        ),
      ),
    );
    expect(error.errorClass).toBe('config');
    expect(error.message).toContain('https://elsewhere.example');
  });
});

describe('authentication and authorization', () => {
  it('turns 401 into a configuration error that says what to check', async () => {
    const { baseUrl } = await start();
    const error = await failure(clientFor(baseUrl, {}, 'wrong-token').readTables(['account']));
    expect(error.errorClass).toBe('config');
    expect(error.message).toContain('rejected the access token');
    expect(error.fix).toMatch(/client id and secret.*\/\.default/);
    expect(JSON.stringify(error)).not.toContain('wrong-token');
  });

  it('turns 403 into a configuration error naming the missing application user', async () => {
    const { baseUrl } = await start({ faults: { forbidden: true } });
    const error = await failure(collect(clientFor(baseUrl).initialLoad(account)));
    expect(error.errorClass).toBe('config');
    expect(error.message).toContain('The user is not a member of the organization');
    expect(error.fix).toContain('not an application user in this environment');
  });
});
