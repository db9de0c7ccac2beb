/**
 * The profile handlers called directly with HttpRequest and InvocationContext, as the Functions host calls
 * them, over real Azurite, the emulator and the local orchestration driver (no server in between).
 */
import { HttpRequest, HttpResponse, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityFunction, OrchestrationFunction } from '../../functions/definition';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { activate } from '../../functions/profiles-activate';
import { putProfile } from '../../functions/profiles-put';
import { functionTable } from '../../functions/table';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { consoleLog } from '../../local/host/console-log';
import { createOrchestrationDriver, type OrchestrationDriver } from '../../local/host/orchestrations';
import { useAzurite } from '../support/azurite';
import { clearFaults, EMULATOR_TOKEN } from '../support/pipeline';

const azurite = useAzurite();
let emulator: Emulator | undefined;
let driver: OrchestrationDriver | undefined;
let deps: FunctionDeps | undefined;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: 3, accounts: 60, token: EMULATOR_TOKEN });
  const env = {
    AzureWebJobsStorage: azurite.connectionString,
    CHANGES_QUEUE: 'dataverse-changes',
    DVX_SECRET_DV_TOKEN: EMULATOR_TOKEN,
    DVX_LOCAL_MODE: '1',
  };
  driver = await createOrchestrationDriver<FunctionDeps>({
    orchestrations: functionTable.filter(
      (definition): definition is OrchestrationFunction => definition.kind === 'orchestration',
    ),
    activities: functionTable.filter(
      (definition): definition is ActivityFunction<FunctionDeps> => definition.kind === 'activity',
    ),
    deps: () => started(deps),
    instances: azurite.clients.table('handlertestinstances'),
    log: consoleLog('none'),
  });
  const orchestrations = started(driver).client;
  deps = createFunctionDeps(env, () => orchestrations, { pageSize: 25, fanOut: 2 });
}, 60_000);

afterAll(async () => {
  await driver?.stop();
  await deps?.sync.runtimes.closeAll();
  await deps?.sync.queue.close();
  await emulator?.close();
});

function started<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('not started');
  return value;
}

const BASE = 'http://localhost:7071/api';
const context = (functionName: string) => new InvocationContext({ functionName, invocationId: `test-${functionName}` });

function request(
  method: string,
  path: string,
  params: Record<string, string>,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): HttpRequest {
  return new HttpRequest({
    method,
    url: `${BASE}/${path}`,
    params,
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(options.body === undefined
      ? {}
      : { body: { string: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } }),
  });
}

const profileBody = () => ({
  source: {
    environmentUrl: started(emulator).baseUrl,
    auth: { kind: 'static-token', token: { appSetting: 'DVX_SECRET_DV_TOKEN' } },
  },
  tables: ['account'],
  destination: { kind: 'sql', dialect: 'pglite' },
  retryCount: 2,
  retryIntervalSeconds: 0,
});

/** Our handlers answer with plain response objects; anything else is a failure of the test's premise. */
async function plain(result: HttpResponseInit | HttpResponse | void): Promise<HttpResponseInit> {
  if (!result || result instanceof HttpResponse)
    throw new Error('expected the handler to answer with an HttpResponseInit');
  return result;
}

const put = async (name: string, body: unknown, headers?: Record<string, string>): Promise<HttpResponseInit> =>
  plain(
    await putProfile.handler(started(deps))(
      request('PUT', `profiles/${name}`, { name }, { body, ...(headers ? { headers } : {}) }),
      context(putProfile.name),
    ),
  );
const activateProfile = async (name: string): Promise<HttpResponseInit> =>
  plain(
    await activate.handler(started(deps))(
      request('POST', `profiles/${name}/activate`, { name }),
      context(activate.name),
    ),
  );

describe('putProfile handler', () => {
  it('creates (201) and replaces (200) a profile with defaults applied and an ETag, and honours If-Match', async () => {
    const created = await put('direct', profileBody());
    expect(created.status).toBe(201);
    expect(created.jsonBody).toEqual({
      ...profileBody(),
      name: 'direct',
      relationships: [],
      writeDeleteLog: false,
      destination: { kind: 'sql', dialect: 'pglite', schema: 'dbo', prefix: '' },
    });
    const etag = (created.headers as Record<string, string>).etag;
    expect(etag).toMatch(/.+/);

    const replaced = await put('direct', { ...profileBody(), retryCount: 5 }, { 'if-match': etag ?? '' });
    expect(replaced.status).toBe(200);
    expect(replaced.jsonBody).toMatchObject({ retryCount: 5 });
    const stale = await put('direct', { ...profileBody(), retryCount: 6 }, { 'if-match': etag ?? '' });
    expect(stale.status).toBe(412);
    expect((await started(deps).sync.profiles.get('direct'))?.value.retryCount).toBe(5);
  });

  it('answers 400 with the field for a bad route name, a bad body and bad fields, and stores nothing', async () => {
    const badName = await put('Not_Valid', profileBody());
    expect(badName.status).toBe(400);
    expect(badName.jsonBody).toMatchObject({ error: { problems: [{ field: 'name' }] } });

    const notJson = await put('refused', '{"tables":');
    expect(notJson.status).toBe(400);
    expect(notJson.jsonBody).toMatchObject({
      error: { message: 'The request body is not valid JSON', problems: [{ field: '(body)' }] },
    });

    const badFields = await put('refused', {
      ...profileBody(),
      retryIntervalSeconds: 4000,
      destination: { kind: 'sql', dialect: 'pglite', prefix: 'x;--' },
    });
    expect(badFields.status).toBe(400);
    expect(badFields.jsonBody).toEqual({
      error: {
        message: 'The export profile is not valid',
        problems: expect.arrayContaining([
          {
            field: 'destination.prefix',
            reason: 'must be alphanumeric and shorter than 15 characters (empty for none)',
          },
          { field: 'retryIntervalSeconds', reason: expect.stringContaining('<=3600') },
        ]),
      },
    });
    expect(await started(deps).sync.profiles.get('refused')).toBeUndefined();
    expect(await started(deps).sync.profiles.get('not_valid')).toBeUndefined();
  });
});

describe('activate handler', () => {
  it('answers 404 for a profile that does not exist and 400 for a bad name', async () => {
    expect((await activateProfile('missing-profile')).status).toBe(404);
    const bad = await activateProfile('BAD');
    expect(bad.status).toBe(400);
    expect(bad.jsonBody).toMatchObject({ error: { problems: [{ field: 'name' }] } });
  });

  it('starts the initial sync (202 with the status URL), answers 409 while it runs, and the sync reaches delta phase', async () => {
    expect((await put('direct-sync', profileBody())).status).toBe(201);
    started(emulator).faults.set({ latencyMs: 200 });
    try {
      const first = await activateProfile('direct-sync');
      expect(first).toMatchObject({
        status: 202,
        jsonBody: {
          instanceId: 'initial-sync-direct-sync',
          tables: ['account'],
          statusUrl: `${BASE}/profiles/direct-sync/status`,
        },
        headers: { location: `${BASE}/profiles/direct-sync/status` },
      });
      const second = await activateProfile('direct-sync');
      expect(second).toMatchObject({ status: 409, jsonBody: { error: { instanceId: 'initial-sync-direct-sync' } } });
    } finally {
      clearFaults(started(emulator));
    }
    await started(driver).whenIdle('initial-sync-direct-sync');
    expect((await started(driver).client.getStatus('initial-sync-direct-sync'))?.runtimeStatus).toBe('Completed');
    const checkpoint = await started(deps).sync.checkpoints.read('direct-sync', 'account');
    expect(checkpoint?.value).toMatchObject({ phase: 'delta', rowsCopied: started(emulator).store.counts.account });
    expect(await started(deps).sync.activations.get('direct-sync')).toMatchObject({
      value: { state: 'active', tables: ['account'] },
    });
  });
});
