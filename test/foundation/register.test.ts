import {
  HttpRequest,
  InvocationContext,
  type HttpFunctionOptions,
  type ServiceBusQueueFunctionOptions,
  type TimerFunctionOptions,
} from '@azure/functions';
import type { ActivityOptions, OrchestrationHandler } from 'durable-functions';
import { describe, expect, it } from 'vitest';
import type { FunctionDefinition, Orchestrator } from '../../functions/definition';
import { registerFunctions, SERVICE_BUS_CONNECTION } from '../../functions/register';
import { functionTable } from '../../functions/table';
import type { FunctionDeps } from '../../functions/deps';

interface Registrations {
  http: Map<string, HttpFunctionOptions>;
  timer: Map<string, TimerFunctionOptions>;
  serviceBusQueue: Map<string, ServiceBusQueueFunctionOptions>;
  orchestration: Map<string, OrchestrationHandler>;
  activity: Map<string, ActivityOptions>;
}

function record<Deps>(definitions: readonly FunctionDefinition<Deps>[], deps: Deps): Registrations {
  const registered: Registrations = {
    http: new Map(),
    timer: new Map(),
    serviceBusQueue: new Map(),
    orchestration: new Map(),
    activity: new Map(),
  };
  registerFunctions(definitions, async () => deps, {
    app: {
      http: (name, options) => void registered.http.set(name, options),
      timer: (name, options) => void registered.timer.set(name, options),
      serviceBusQueue: (name, options) => void registered.serviceBusQueue.set(name, options),
    },
    durable: {
      orchestration: (name, handler) => void registered.orchestration.set(name, handler),
      activity: (name, options) => void registered.activity.set(name, options),
    },
  });
  return registered;
}

const context = (name: string) => new InvocationContext({ functionName: name, invocationId: 'test' });

describe('registerFunctions', () => {
  it('registers the product table with the trigger options of each definition', () => {
    const registered = record(functionTable, {} as FunctionDeps);
    const health = registered.http.get('health');
    expect(health).toMatchObject({ route: 'health', methods: ['GET'], authLevel: 'function' });
    // Health reads the initial sync's orchestration for failed tables; a handler that does not gets no durable client.
    expect(health).toHaveProperty('extraInputs');
    expect(registered.http.get('listProfiles')).not.toHaveProperty('extraInputs');
    const total = [...Object.values(registered)].reduce((sum, map: Map<string, unknown>) => sum + map.size, 0);
    expect(total).toBe(functionTable.length);
  });

  it('maps every kind of definition to its trigger and runs its handler with the dependencies', async () => {
    const deps = { greeting: 'hello' };
    const orchestrator: Orchestrator = function* (context) {
      return yield context.df.callActivity('copyPage', 'page 1');
    };
    const table: FunctionDefinition<typeof deps>[] = [
      {
        kind: 'http',
        name: 'activate',
        route: 'profiles/{name}/activate',
        methods: ['POST'],
        authLevel: 'function',
        usesOrchestrations: true,
        handler: (d) => async (request) => ({
          status: 202,
          jsonBody: { greeting: d.greeting, name: request.params.name },
        }),
      },
      { kind: 'timer', name: 'poll', schedule: '%POLL_SCHEDULE%', handler: () => async () => undefined },
      {
        kind: 'queue',
        name: 'apply',
        queueName: '%CHANGES_QUEUE%',
        maxDeliveryCount: 5,
        handler: () => async () => undefined,
      },
      { kind: 'orchestration', name: 'initialSync', handler: orchestrator },
      { kind: 'activity', name: 'copyPage', handler: (d) => async (input) => `${d.greeting} ${String(input)}` },
    ];
    const registered = record(table, deps);

    const http = registered.http.get('activate');
    expect(http).toMatchObject({ route: 'profiles/{name}/activate', methods: ['POST'], authLevel: 'function' });
    expect(http?.extraInputs?.map((input) => input.type)).toEqual(['durableClient']);
    const response = await http?.handler(
      new HttpRequest({ method: 'POST', url: 'http://localhost/api/profiles/p1/activate', params: { name: 'p1' } }),
      context('activate'),
    );
    expect(response).toEqual({ status: 202, jsonBody: { greeting: 'hello', name: 'p1' } });

    expect(registered.timer.get('poll')).toMatchObject({ schedule: '%POLL_SCHEDULE%' });
    expect(registered.serviceBusQueue.get('apply')).toMatchObject({
      connection: SERVICE_BUS_CONNECTION,
      queueName: '%CHANGES_QUEUE%',
    });
    expect(registered.orchestration.get('initialSync')).toBe(orchestrator);
    await expect(registered.activity.get('copyPage')?.handler('page 1', context('copyPage'))).resolves.toBe(
      'hello page 1',
    );
  });
});
