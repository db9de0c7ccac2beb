import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { FunctionDefinition } from '../../functions/definition';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { health } from '../../functions/health';
import { registerFunctions } from '../../functions/register';
import { consoleLog } from '../../local/host/console-log';
import { captureRegistrations } from '../../local/host/functions-core';
import { startLocalHost, type LocalHost } from '../../local/host/host';
import { durableOrchestrationClient } from '../../shared/orchestration/durable';
import { poisonQueueName } from '../../shared/queue/storage-queue';
import { useAzurite } from '../support/azurite';
import { waitFor } from '../support/wait';

const azurite = useAzurite();
const keys = { functionKey: 'function-key-for-tests', masterKey: 'master-key-for-tests' };

interface Recorded {
  timerRuns: Timer[];
  deliveries: Array<{ body: unknown; deliveryCount: unknown }>;
}

interface TestDeps extends FunctionDeps {
  recorded: Recorded;
}

function testTable(): FunctionDefinition<TestDeps>[] {
  return [
    health,
    {
      kind: 'http',
      name: 'echo',
      route: 'echo/{name}',
      methods: ['POST'],
      authLevel: 'function',
      handler: () => async (request) => ({ jsonBody: { name: request.params.name, body: await request.json() } }),
    },
    {
      kind: 'http',
      name: 'admin',
      route: 'admin/ping',
      methods: ['GET'],
      authLevel: 'admin',
      handler: () => async () => ({ body: 'pong' }),
    },
    {
      kind: 'http',
      name: 'crash',
      route: 'crash',
      methods: ['GET'],
      authLevel: 'anonymous',
      handler: () => async () => {
        throw new Error('secret detail');
      },
    },
    {
      kind: 'timer',
      name: 'tick',
      schedule: '%TICK_SCHEDULE%',
      handler: (deps) => async (timer) => void deps.recorded.timerRuns.push(timer),
    },
    {
      kind: 'queue',
      name: 'apply',
      queueName: '%TEST_QUEUE%',
      maxDeliveryCount: 3,
      handler: (deps) => async (message: unknown, context: InvocationContext) => {
        deps.recorded.deliveries.push({ body: message, deliveryCount: context.triggerMetadata?.deliveryCount });
        if ((message as { fail?: boolean }).fail) throw new Error('forced failure');
      },
    },
    {
      kind: 'orchestration',
      name: 'addThenDouble',
      handler: function* (context) {
        const input = context.df.getInput<{ value: number; rounds: number }>();
        const added = (yield context.df.callActivity('add', { value: input.value, by: 3 })) as number;
        const [doubled] = (yield context.df.Task.all([context.df.callActivity('double', added)])) as number[];
        context.df.setCustomStatus({ rounds: input.rounds, value: doubled });
        if (input.rounds > 1) {
          context.df.continueAsNew({ value: doubled, rounds: input.rounds - 1 });
          return undefined;
        }
        return doubled;
      },
    },
    {
      kind: 'activity',
      name: 'add',
      handler: () => async (input) => (input as { value: number; by: number }).value + (input as { by: number }).by,
    },
    { kind: 'activity', name: 'double', handler: () => async (input) => (input as number) * 2 },
  ];
}

let host: LocalHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

// Registered once per process, through the real `app` and `df.app`, as a worker loads an app once.
const table = testTable();
const current: { deps?: TestDeps } = {};
const registered = captureRegistrations(() =>
  registerFunctions(table, async () => current.deps as TestDeps, { app, durable: df.app }),
);

async function start(recorded: Recorded, queueName: string): Promise<LocalHost> {
  const env = { AzureWebJobsStorage: azurite.connectionString, TICK_SCHEDULE: '* * * * * *', TEST_QUEUE: queueName };
  current.deps = { ...createFunctionDeps(env, durableOrchestrationClient), recorded };
  return startLocalHost<TestDeps>({
    functions: await registered,
    definitions: table,
    storage: azurite.clients,
    env,
    port: 0,
    keys,
    polling: { minPollMs: 20, maxPollMs: 100, lockSeconds: 5 },
    log: consoleLog('none'),
  });
}

const newRecorded = (): Recorded => ({ timerRuns: [], deliveries: [] });

describe('local host', () => {
  it('serves HTTP functions under /api with function keys checked as Azure does', async () => {
    host = await start(newRecorded(), `q-${randomUUID().slice(0, 8)}`);
    const url = (path: string) => `${host?.baseUrl}/${path}`;

    const healthy = await fetch(url('health'), { headers: { 'x-functions-key': keys.functionKey } });
    expect(healthy.status).toBe(200);
    const report = (await healthy.json()) as { status: string; dependencies: Array<{ name: string; status: string }> };
    expect(report.status).toBe('ok');
    expect(report.dependencies.map((d) => [d.name, d.status])).toEqual([
      ['storage.blob', 'ok'],
      ['storage.queue', 'ok'],
      ['storage.table', 'ok'],
    ]);

    expect((await fetch(url('health'))).status).toBe(401);
    expect((await fetch(url('health'), { headers: { 'x-functions-key': 'wrong' } })).status).toBe(401);
    expect((await fetch(`${url('health')}?code=${keys.functionKey}`)).status).toBe(200);
    expect((await fetch(url('admin/ping'), { headers: { 'x-functions-key': keys.functionKey } })).status).toBe(401);
    expect((await fetch(url('admin/ping'), { headers: { 'x-functions-key': keys.masterKey } })).status).toBe(200);

    const echoed = await fetch(url('echo/sales%20team'), {
      method: 'POST',
      headers: { 'x-functions-key': keys.functionKey, 'content-type': 'application/json' },
      body: JSON.stringify({ tables: ['account'] }),
    });
    expect(await echoed.json()).toEqual({ name: 'sales team', body: { tables: ['account'] } });
    expect((await fetch(url('echo/x'), { headers: { 'x-functions-key': keys.functionKey } })).status).toBe(404);

    const crashed = await fetch(url('crash'));
    expect(crashed.status).toBe(500);
    expect(await crashed.text()).not.toContain('secret detail');
  });

  it('fires timer functions on their schedule', async () => {
    const recorded = newRecorded();
    host = await start(recorded, `q-${randomUUID().slice(0, 8)}`);
    const first = await waitFor(
      'two timer runs',
      () => (recorded.timerRuns.length >= 2 ? recorded.timerRuns[1] : undefined),
      5_000,
    );
    expect(first.isPastDue).toBe(false);
    expect(Date.parse(first.scheduleStatus.next)).toBeGreaterThan(Date.parse(first.scheduleStatus.last));
  });

  it('delivers queue messages through Azurite and moves a failing one to the poison queue after maxDeliveryCount', async () => {
    const recorded = newRecorded();
    const queueName = `q-${randomUUID().slice(0, 8)}`;
    host = await start(recorded, queueName);
    const queue = azurite.clients.queues.getQueueClient(queueName);
    await queue.sendMessage(JSON.stringify({ batch: 1 }));
    await queue.sendMessage(JSON.stringify({ batch: 2, fail: true }));

    await waitFor('the good message', () => recorded.deliveries.find((d) => (d.body as { batch: number }).batch === 1));
    expect(recorded.deliveries.find((d) => (d.body as { batch: number }).batch === 1)?.deliveryCount).toBe(1);

    const poison = azurite.clients.queues.getQueueClient(poisonQueueName(queueName));
    const parked = await waitFor('the poison message', async () => {
      const peeked = await poison.peekMessages({ numberOfMessages: 5 });
      return peeked.peekedMessageItems[0];
    });
    expect(JSON.parse(parked.messageText)).toEqual({ batch: 2, fail: true });
    const failing = recorded.deliveries.filter((d) => (d.body as { batch: number }).batch === 2);
    expect(failing.map((d) => d.deliveryCount)).toEqual([1, 2, 3]);
    const left = await queue.peekMessages({ numberOfMessages: 5 });
    expect(left.peekedMessageItems).toHaveLength(0);
  });

  it('runs a two-activity orchestration to completion, through continueAsNew', async () => {
    host = await start(newRecorded(), `q-${randomUUID().slice(0, 8)}`);
    const instanceId = `sync-${randomUUID()}`;
    await host.orchestrations.client.startNew('addThenDouble', { instanceId, input: { value: 1, rounds: 2 } });
    await host.orchestrations.whenIdle(instanceId);
    const status = await host.orchestrations.client.getStatus(instanceId);
    // round 1: (1 + 3) * 2 = 8; round 2: (8 + 3) * 2 = 22
    expect(status).toMatchObject({
      runtimeStatus: 'Completed',
      output: 22,
      customStatus: { rounds: 1, value: 22 },
      input: { value: 8, rounds: 1 },
    });
    expect(await host.orchestrations.client.getStatus('no-such-instance')).toBeUndefined();
  });

  it('starts again, after a restart, an orchestration that was running when the host stopped', async () => {
    const instances = azurite.clients.table('LocalOrchestrationInstances');
    await instances.createTable();
    const instanceId = `interrupted-${randomUUID()}`;
    const now = new Date().toISOString();
    await instances.upsertEntity({
      partitionKey: 'instances',
      rowKey: instanceId,
      name: 'addThenDouble',
      input: JSON.stringify({ value: 2, rounds: 1 }),
      runtimeStatus: 'Running',
      customStatus: 'null',
      output: 'null',
      createdTime: now,
      lastUpdatedTime: now,
    });
    host = await start(newRecorded(), `q-${randomUUID().slice(0, 8)}`);
    await host.orchestrations.whenIdle(instanceId);
    expect(await host.orchestrations.client.getStatus(instanceId)).toMatchObject({
      runtimeStatus: 'Completed',
      output: 10,
    });
  });

  it('leaves an instance another live host owns alone, and takes over one whose owner stopped marking it', async () => {
    const instances = azurite.clients.table('LocalOrchestrationInstances');
    await instances.createTable();
    const instance = (id: string, heartbeatAt: Date) => ({
      partitionKey: 'instances',
      rowKey: id,
      name: 'addThenDouble',
      input: JSON.stringify({ value: 2, rounds: 1 }),
      runtimeStatus: 'Running',
      customStatus: 'null',
      output: 'null',
      createdTime: heartbeatAt.toISOString(),
      lastUpdatedTime: heartbeatAt.toISOString(),
      owner: 'another-host',
      heartbeatAt: heartbeatAt.toISOString(),
    });
    const alive = `owned-${randomUUID()}`;
    const dead = `abandoned-${randomUUID()}`;
    await instances.upsertEntity(instance(alive, new Date()));
    await instances.upsertEntity(instance(dead, new Date(Date.now() - 60_000)));
    host = await start(newRecorded(), `q-${randomUUID().slice(0, 8)}`);
    await host.orchestrations.whenIdle(dead);
    expect(await host.orchestrations.client.getStatus(dead)).toMatchObject({ runtimeStatus: 'Completed', output: 10 });
    expect(await host.orchestrations.client.getStatus(alive)).toMatchObject({ runtimeStatus: 'Running', output: null });
    expect(await host.orchestrations.resumeInterrupted()).not.toContain(alive);
    await instances.deleteEntity('instances', alive);
  });
});
