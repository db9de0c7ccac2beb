/**
 * The product's function table on the local host with its real dependencies, as `npm start` and `npm run host`
 * both run it; closing it closes the host first, then the destinations and the queue it opened.
 */
import { randomBytes } from 'node:crypto';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { functionTable } from '../../functions/table';
import { loadSettings } from '../../shared/config/settings';
import { createStorageClients } from '../../shared/storage/clients';
import type { SyncOptions } from '../../shared/sync/services';
import type { HostLog } from './console-log';
import { startLocalHost, type LocalHost } from './host';
import type { QueuePolling } from './queues';

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
  const built: { deps?: FunctionDeps } = {};
  const host = await startLocalHost({
    definitions: functionTable,
    createDeps: ({ orchestrations }) => (built.deps = createFunctionDeps(options.env, () => orchestrations, options.sync)),
    storage: createStorageClients(settings.storage),
    env: options.env,
    port: options.port,
    ...(options.polling ? { polling: options.polling } : {}),
    keys: { functionKey: options.functionKey, masterKey: randomBytes(24).toString('base64url') },
    log: options.log,
  });
  const deps = built.deps as FunctionDeps;
  return {
    host,
    deps,
    async close() {
      await host.close();
      await deps.sync.runtimes.closeAll();
      await deps.sync.queue.close();
    },
  };
}
