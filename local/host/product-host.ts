/**
 * The product on the local host, as `npm start` and `npm run host` both run it: the functions functions/index.ts
 * registers, with the dependencies it composes (createFunctionDeps with the Durable client from the binding) built
 * from the local settings; closing it closes the host first, then the destinations and the queue it opened.
 */
import { randomBytes } from 'node:crypto';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { functionTable } from '../../functions/table';
import { loadSettings } from '../../shared/config/settings';
import { durableOrchestrationClient } from '../../shared/orchestration/durable';
import { createStorageClients } from '../../shared/storage/clients';
import type { SyncOptions } from '../../shared/sync/wiring/services';
import type { HostLog } from './console-log';
import { startLocalHost, type LocalHost } from './host';
import type { QueuePolling } from './queues';
import { productApp } from './registrations';

export interface ProductHostOptions {
  env: Record<string, string | undefined>;
  port: number;
  functionKey: string;
  log: HostLog;
  sync?: Partial<SyncOptions>;
  polling?: Partial<QueuePolling>;
}

export interface ProductHost {
  host: LocalHost;
  deps: FunctionDeps;
  close(): Promise<void>;
}

export async function startProductHost(options: ProductHostOptions): Promise<ProductHost> {
  const settings = loadSettings(options.env);
  const product = await productApp();
  product.dependencies.rebuildWith(() => createFunctionDeps(options.env, durableOrchestrationClient, options.sync));
  // Built now, as before the first invocation, so a bad setting stops the host at once and callers can see them.
  const deps = await product.dependencies.get();
  const closeDeps = async () => {
    await deps.sync.runtimes.closeAll();
    await deps.sync.queue.close();
  };
  const host = await startLocalHost({
    functions: product.functions,
    definitions: functionTable,
    storage: createStorageClients(settings.storage),
    env: options.env,
    port: options.port,
    ...(options.polling ? { polling: options.polling } : {}),
    keys: { functionKey: options.functionKey, masterKey: randomBytes(24).toString('base64url') },
    log: options.log,
  }).catch(async (error: unknown) => {
    await closeDeps();
    throw error;
  });
  return {
    host,
    deps,
    async close() {
      await host.close();
      await closeDeps();
    },
  };
}
