/** What the handlers need, built once per host from the settings and the host's orchestration client. */
import type { InvocationContext } from '@azure/functions';
import { loadSettings, type Settings } from '../shared/config/settings';
import type { HealthProbe } from '../shared/health';
import type { OrchestrationClient } from '../shared/orchestration/client';
import { createStorageClients, type StorageClients } from '../shared/storage/clients';
import { storageProbes } from '../shared/storage/health-probes';
import { createSyncServices, type SyncOptions, type SyncServices } from '../shared/sync/wiring/services';

export interface FunctionDeps {
  settings: Settings;
  storage: StorageClients;
  healthProbes: HealthProbe[];
  sync: SyncServices;
  orchestrations(context: InvocationContext): OrchestrationClient;
}

export function createFunctionDeps(
  env: Record<string, string | undefined>,
  orchestrations: (context: InvocationContext) => OrchestrationClient,
  syncOptions: Partial<SyncOptions> = {},
): FunctionDeps {
  const settings = loadSettings(env);
  const storage = createStorageClients(settings.storage);
  return {
    settings,
    storage,
    healthProbes: storageProbes(storage),
    sync: createSyncServices(settings, storage, env, syncOptions),
    orchestrations,
  };
}

/** Dependencies built on first use, not at import (so a bad setting fails an invocation, not the worker's indexing). */
export interface LazyDeps<Deps> {
  get(): Promise<Deps>;
  /**
   * Builds the next dependencies with `build` instead. The local host calls it before its first invocation: its
   * settings come from local.settings.json and its options rather than process.env, and a restarted host needs
   * fresh dependencies after closing the old ones. Azure never calls it.
   */
  rebuildWith(build: () => Deps): void;
}

export function lazyDeps<Deps>(build: () => Deps): LazyDeps<Deps> {
  let builder = build;
  let built: Promise<Deps> | undefined;
  return {
    get: () => (built ??= Promise.resolve().then(builder)),
    rebuildWith(next) {
      builder = next;
      built = undefined;
    },
  };
}
