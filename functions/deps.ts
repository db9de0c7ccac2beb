/** What the handlers need, built once per host from the settings and the host's orchestration client. */
import type { InvocationContext } from '@azure/functions';
import { loadSettings, type Settings } from '../shared/config/settings';
import type { HealthProbe } from '../shared/health';
import type { OrchestrationClient } from '../shared/orchestration/client';
import { createStorageClients, type StorageClients } from '../shared/storage/clients';
import { storageProbes } from '../shared/storage/health-probes';

export interface FunctionDeps {
  settings: Settings;
  storage: StorageClients;
  healthProbes: HealthProbe[];
  orchestrations(context: InvocationContext): OrchestrationClient;
}

export function createFunctionDeps(
  env: Record<string, string | undefined>,
  orchestrations: (context: InvocationContext) => OrchestrationClient,
): FunctionDeps {
  const settings = loadSettings(env);
  const storage = createStorageClients(settings.storage);
  return { settings, storage, healthProbes: storageProbes(storage), orchestrations };
}
