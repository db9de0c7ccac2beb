/**
 * The local host: runs the function table's handlers without the Functions host — HTTP on node:http,
 * timers on their schedules, queue functions from Azure Storage queues, orchestrations by the local driver.
 */
import type { FunctionDefinition, HttpFunction, QueueFunction, TimerFunction } from '../../functions/definition';
import type { OrchestrationClient } from '../../shared/orchestration/client';
import type { StorageClients } from '../../shared/storage/clients';
import { resolveAppSettingReferences } from './app-settings';
import type { HostLog } from './console-log';
import { startHttpServer, type FunctionKeys } from './http-server';
import { createOrchestrationDriver, type OrchestrationDriver } from './orchestrations';
import { defaultQueuePolling, startQueues, type QueuePolling } from './queues';
import { startTimers } from './timers';

export const ORCHESTRATION_INSTANCES_TABLE = 'LocalOrchestrationInstances';

export interface LocalHostOptions<Deps> {
  definitions: readonly FunctionDefinition<Deps>[];
  createDeps(services: { orchestrations: OrchestrationClient }): Deps;
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

export async function startLocalHost<Deps>(options: LocalHostOptions<Deps>): Promise<LocalHost> {
  const ofKind = <K extends FunctionDefinition<Deps>['kind']>(kind: K) =>
    options.definitions.filter((definition): definition is Extract<FunctionDefinition<Deps>, { kind: K }> => definition.kind === kind);
  const resolve = (value: string) => resolveAppSettingReferences(value, options.env);

  // Activities need the dependencies and the dependencies need the driver's client: the driver reads them lazily.
  const built: { deps?: Deps } = {};
  const driver = await createOrchestrationDriver({
    orchestrations: ofKind('orchestration'),
    activities: ofKind('activity'),
    deps: () => built.deps as Deps,
    instances: options.storage.table(ORCHESTRATION_INSTANCES_TABLE),
    log: options.log,
  });
  const deps = options.createDeps({ orchestrations: driver.client });
  built.deps = deps;

  const http = await startHttpServer({
    definitions: ofKind('http') as HttpFunction<Deps>[],
    deps,
    keys: options.keys,
    port: options.port,
    log: options.log,
  });
  const queues = await startQueues({
    definitions: ofKind('queue') as QueueFunction<Deps>[],
    deps,
    queues: options.storage.queues,
    resolve,
    polling: { ...defaultQueuePolling, ...options.polling },
    log: options.log,
  });
  const timers = startTimers({ definitions: ofKind('timer') as TimerFunction<Deps>[], deps, resolve, log: options.log });
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
    },
  };
}
