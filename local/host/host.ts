/**
 * The local host: runs the app's registered functions without the Functions host — HTTP on node:http, timers on
 * their schedules, Service Bus-triggered functions from Azure Storage queues, activities for the local
 * orchestration driver — each invoked through `@azure/functions`' invocation model with only the input bindings
 * its registration declares (invoke.ts). Registrations come from functions-core.ts, as the worker receives them.
 */
import type { FunctionDefinition, QueueFunction } from '../../functions/definition';
import { ExportError } from '../../shared/errors';
import type { StorageClients } from '../../shared/storage/clients';
import { resolveAppSettingReferences } from './app-settings';
import type { HostLog } from './console-log';
import { startDurableClientEndpoint } from './durable-endpoint';
import type { CapturedFunction } from './functions-core';
import { startHttpServer, type FunctionKeys } from './http-server';
import { invokeCaptured, returnedValue, triggerBinding, type ExtraInputProvider, type TriggerInput } from './invoke';
import { createOrchestrationDriver, type OrchestrationDriver } from './orchestrations';
import { defaultQueuePolling, startQueues, type QueuePolling } from './queues';
import { startTimers } from './timers';
import { activityTrigger, orchestrationTrigger } from './trigger-data';

export const ORCHESTRATION_INSTANCES_TABLE = 'LocalOrchestrationInstances';

export interface LocalHostOptions<Deps> {
  /** What the app registered through `app.*` / `df.app.*` (captureRegistrations). */
  functions: readonly CapturedFunction[];
  /**
   * The definitions behind them, for what a registration does not carry: a queue's maxDeliveryCount (Azure: the
   * Service Bus queue in infra/).
   */
  definitions: readonly FunctionDefinition<Deps>[];
  storage: StorageClients;
  env: Record<string, string | undefined>;
  port: number;
  keys: FunctionKeys;
  polling?: Partial<QueuePolling>;
  log: HostLog;
}

export interface LocalHost {
  baseUrl: string;
  port: number;
  orchestrations: OrchestrationDriver;
  close(): Promise<void>;
}

const LOCAL_TRIGGERS = ['httpTrigger', 'timerTrigger', 'serviceBusTrigger', 'activityTrigger', 'orchestrationTrigger'];

/** Every registration has its definition and the other way round, and every trigger is one the local host runs. */
function checkRegistrations<Deps>(
  functions: readonly CapturedFunction[],
  definitions: readonly FunctionDefinition<Deps>[],
): void {
  const registered = new Set(functions.map((fn) => fn.name));
  const defined = new Set(definitions.map((definition) => definition.name));
  const unmatched = [...registered]
    .filter((name) => !defined.has(name))
    .concat([...defined].filter((name) => !registered.has(name)));
  if (unmatched.length > 0) {
    throw new ExportError('config', `Registrations and definitions differ: ${unmatched.join(', ')}`, {
      fix: 'Register exactly the function table (functions/register.ts), and pass the same table to the local host.',
    });
  }
  for (const fn of functions) {
    const type = triggerBinding(fn).type;
    if (!LOCAL_TRIGGERS.includes(type)) {
      throw new ExportError(
        'config',
        `Function '${fn.name}' has a '${type}' trigger, which the local host does not run`,
        { where: fn.name },
      );
    }
  }
}

export async function startLocalHost<Deps>(options: LocalHostOptions<Deps>): Promise<LocalHost> {
  checkRegistrations(options.functions, options.definitions);
  const withTrigger = (type: string) => options.functions.filter((fn) => triggerBinding(fn).type === type);
  const resolve = (value: string) => resolveAppSettingReferences(value, options.env);
  // The durable client binding's data exists once the driver does; it is set before anything is invoked
  // (resumeInterrupted runs after it).
  const bindings: { durableClient?: ExtraInputProvider } = {};
  const extraInputs: ExtraInputProvider = (binding, functionName) => bindings.durableClient?.(binding, functionName);
  const invoke = (fn: CapturedFunction, trigger: TriggerInput) =>
    invokeCaptured(fn, trigger, { extraInputs, log: options.log.handlerFor(fn.name) });

  // The driver replays each orchestration through the callback durable-functions registered (its replay engine)
  // and runs activities through theirs, both invoked as the worker does.
  const activities = new Map(withTrigger('activityTrigger').map((fn) => [fn.name, fn]));
  const driver = await createOrchestrationDriver({
    orchestrators: new Map(
      withTrigger('orchestrationTrigger').map((fn) => [
        fn.name,
        async (trigger: unknown) => returnedValue(await invoke(fn, orchestrationTrigger(trigger))),
      ]),
    ),
    invokeActivity: async (name, input) => {
      const fn = activities.get(name);
      if (!fn) throw new ExportError('config', `No activity named '${name}' is registered`, { where: name });
      return returnedValue(await invoke(fn, activityTrigger(input)));
    },
    instances: options.storage.table(ORCHESTRATION_INSTANCES_TABLE),
    log: options.log,
  });
  const durable = await startDurableClientEndpoint(driver.client, options.log);
  bindings.durableClient = (binding) => (binding.type === 'durableClient' ? durable.bindingData : undefined);

  const http = await startHttpServer({
    functions: withTrigger('httpTrigger'),
    invoke,
    keys: options.keys,
    port: options.port,
    log: options.log,
  });
  const queueDefinitions = new Map(
    options.definitions
      .filter((definition): definition is QueueFunction<Deps> => definition.kind === 'queue')
      .map((definition) => [definition.name, definition]),
  );
  const queues = await startQueues({
    subscribers: withTrigger('serviceBusTrigger').map((fn) => {
      const definition = queueDefinitions.get(fn.name);
      if (!definition)
        throw new ExportError(
          'config',
          `Function '${fn.name}' is triggered by a queue but not defined as a queue function`,
          { where: fn.name },
        );
      return { fn, maxDeliveryCount: definition.maxDeliveryCount };
    }),
    invoke,
    queues: options.storage.queues,
    resolve,
    polling: { ...defaultQueuePolling, ...options.polling },
    log: options.log,
  });
  const timers = startTimers({ functions: withTrigger('timerTrigger'), invoke, resolve, log: options.log });
  await driver.resumeInterrupted();

  return {
    baseUrl: http.baseUrl,
    port: http.port,
    orchestrations: driver,
    async close() {
      timers.stop();
      await http.close();
      await queues.stop();
      await driver.stop();
      await durable.close();
    },
  };
}
