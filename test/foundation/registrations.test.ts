/**
 * The registrations functions/index.ts makes through @azure/functions and durable-functions, captured as Azure's
 * worker receives them, and functions invoked through @azure/functions' own invocation model with only the input
 * bindings they declare — so a handler that reaches a binding it did not declare fails here as it does in Azure.
 */
import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { Cron } from 'croner';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionDefinition, OrchestrationFunction } from '../../functions/definition';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { SERVICE_BUS_CONNECTION } from '../../functions/register';
import { functionTable } from '../../functions/table';
import { consoleLog } from '../../local/host/console-log';
import { resolveAppSettingReferences } from '../../local/host/app-settings';
import { startDurableClientEndpoint, type DurableClientEndpoint } from '../../local/host/durable-endpoint';
import { captureRegistrations, type CapturedFunction, type CoreBindingInfo } from '../../local/host/functions-core';
import { extraInputBindings, invokeCaptured, triggerBinding, type ExtraInputProvider } from '../../local/host/invoke';
import { createOrchestrationDriver, type OrchestrationDriver } from '../../local/host/orchestrations';
import { productApp, type ProductApp } from '../../local/host/registrations';
import { timerTrigger } from '../../local/host/trigger-data';
import { durableOrchestrationClient } from '../../shared/orchestration/durable';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();
const log = consoleLog('none');
const sampleSettings = (
  JSON.parse(readFileSync(path.join(__dirname, '../../local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
  }
).Values;

let product: ProductApp;
let driver: OrchestrationDriver;
let durable: DurableClientEndpoint;
/** The Durable extension's data for a declared durableClient binding, and nothing for any other binding type. */
let extraInputs: ExtraInputProvider;

beforeAll(async () => {
  product = await productApp();
  const env = { AzureWebJobsStorage: azurite.connectionString };
  product.dependencies.rebuildWith(() => createFunctionDeps(env, durableOrchestrationClient));
  driver = await createOrchestrationDriver({
    orchestrations: functionTable.filter(
      (definition): definition is OrchestrationFunction => definition.kind === 'orchestration',
    ),
    activities: [],
    deps: () => undefined,
    instances: azurite.clients.table('RegistrationTestInstances'),
    log,
  });
  durable = await startDurableClientEndpoint(driver.client, log);
  extraInputs = (binding) => (binding.type === 'durableClient' ? durable.bindingData : undefined);
}, 120_000);

afterAll(async () => {
  await driver?.stop();
  await durable?.close();
  const deps = await product?.dependencies.get();
  await deps?.sync.runtimes.closeAll();
  await deps?.sync.queue.close();
});

const registered = (name: string): CapturedFunction => {
  const found = product.functions.find((fn) => fn.name === name);
  if (!found) throw new Error(`'${name}' is not registered`);
  return found;
};
const extraInputTypes = (fn: CapturedFunction) => extraInputBindings(fn).map(([, binding]) => binding.type);
/** Handlers that reach the orchestration client: read from their code, not remembered in a list. */
const reachesOrchestrations = (definition: FunctionDefinition<FunctionDeps>) =>
  definition.kind !== 'orchestration' && /\.orchestrations\(/.test(definition.handler.toString());

describe('the registrations of functions/index.ts', () => {
  it('registers every definition of the function table once, each with one trigger', () => {
    expect(product.functions.map((fn) => fn.name).sort()).toEqual(
      functionTable.map((definition) => definition.name).sort(),
    );
    expect(product.functions[0]?.programmingModel.name).toBe('@azure/functions');
    for (const fn of product.functions) {
      const triggers = Object.values(fn.metadata.bindings).filter((binding) => /trigger$/i.test(binding.type));
      expect(triggers, fn.name).toHaveLength(1);
      expect(triggers[0]?.direction, fn.name).toBe('in');
    }
  });

  it('binds each trigger as its definition says', () => {
    const expectedTrigger = {
      http: 'httpTrigger',
      timer: 'timerTrigger',
      queue: 'serviceBusTrigger',
      orchestration: 'orchestrationTrigger',
      activity: 'activityTrigger',
    };
    for (const definition of functionTable) {
      const trigger = triggerBinding(registered(definition.name));
      expect(trigger.type, definition.name).toBe(expectedTrigger[definition.kind]);
      if (definition.kind === 'http') {
        expect(trigger, definition.name).toMatchObject({
          route: definition.route,
          methods: definition.methods,
          authLevel: definition.authLevel,
        });
        expect(registered(definition.name).metadata.bindings.$return, definition.name).toMatchObject({
          type: 'http',
          direction: 'out',
        });
      }
      if (definition.kind === 'queue') {
        expect(trigger, definition.name).toMatchObject({
          connection: SERVICE_BUS_CONNECTION,
          queueName: definition.queueName,
        });
        expect(definition.queueName, definition.name).toMatch(/^%CHANGES_QUEUE%(\/\$deadletterqueue)?$/);
      }
      if (definition.kind === 'timer') expect(trigger.schedule, definition.name).toBe(definition.schedule);
    }
  });

  it('declares a durable client input exactly on the functions whose handler reaches the orchestration client', () => {
    const reaching = functionTable
      .filter(reachesOrchestrations)
      .map((definition) => definition.name)
      .sort();
    expect(reaching).toEqual([
      'activateProfile',
      'deactivateProfile',
      'deleteProfile',
      'health',
      'pollChanges',
      'profileStatus',
      'putProfile',
      'resyncTable',
    ]);
    const declaring = product.functions
      .filter((fn) => extraInputTypes(fn).includes('durableClient'))
      .map((fn) => fn.name)
      .sort();
    expect(declaring).toEqual(reaching);
    for (const fn of product.functions)
      expect(
        extraInputTypes(fn).filter((type) => type !== 'durableClient'),
        fn.name,
      ).toEqual([]);
  });

  it('refers only to settings that local.settings.sample.json documents, and its schedules parse', () => {
    for (const fn of product.functions) {
      for (const binding of Object.values(fn.metadata.bindings)) {
        for (const value of Object.values(binding).filter(
          (property): property is string => typeof property === 'string',
        )) {
          for (const [, setting] of value.matchAll(/%([^%]+)%/g))
            expect(Object.keys(sampleSettings), `${fn.name}: %${setting}%`).toContain(setting);
        }
      }
      const schedule = triggerBinding(fn).schedule;
      if (typeof schedule !== 'string') continue;
      // Resolved as the host resolves it: from the settings, or the documented default when a setting is absent.
      for (const settings of [sampleSettings, {}]) {
        const resolved = resolveAppSettingReferences(schedule, settings);
        expect(() => new Cron(resolved, { paused: true }), `${fn.name}: ${resolved}`).not.toThrow();
      }
    }
  });
});

describe('invoking a registered function through the invocation model', () => {
  const now = new Date();
  const tick = timerTrigger({ last: now, next: now, lastUpdated: now, isPastDue: false });

  it('runs the change poll with the durable client its registration declares (issue 13, defect 1)', async () => {
    const poll = registered('pollChanges');
    // On a registration without the durable client input this fails with durable-functions' own error
    // ("Could not find a registered durable client input binding"), as every poll did in Azure.
    await expect(invokeCaptured(poll, tick, { extraInputs, log: () => undefined })).resolves.toMatchObject({
      invocationId: expect.any(String),
    });
  });

  it('fails a handler that uses a binding it did not declare, with the error Azure gives', async () => {
    const seen: string[] = [];
    const handler = async (_timer: unknown, context: InvocationContext) => {
      seen.push(typeof df.getClient(context).startNew);
    };
    const functions = await captureRegistrations(() => {
      app.timer('undeclared', { schedule: '0 0 * * * *', handler });
      app.timer('declared', { schedule: '0 0 * * * *', extraInputs: [df.input.durableClient()], handler });
    });
    const [undeclared, declared] = functions as [CapturedFunction, CapturedFunction];
    const offered: CoreBindingInfo[] = [];
    const recording: ExtraInputProvider = (binding, name) => (offered.push(binding), extraInputs(binding, name));

    await expect(invokeCaptured(undeclared, tick, { extraInputs: recording, log: () => undefined })).rejects.toThrow(
      'Could not find a registered durable client input binding',
    );
    expect(offered).toEqual([]);
    await invokeCaptured(declared, tick, { extraInputs: recording, log: () => undefined });
    expect(offered.map((binding) => binding.type)).toEqual(['durableClient']);
    expect(seen).toEqual(['function']);
  });

  it('refuses a registration made after startup, as the worker does', () => {
    expect(() => app.timer('late', { schedule: '0 0 * * * *', handler: async () => undefined })).toThrow(
      'A function can only be registered during app startup.',
    );
  });
});
