/** An in-memory Azurite for one test file, on free ports, stopped after the file's tests. */
import { afterAll, beforeAll } from 'vitest';
import { startAzurite, type RunningAzurite } from '../../local/azurite/azurite';
import { createStorageClients, type StorageClients } from '../../shared/storage/clients';

export interface TestAzurite {
  readonly connectionString: string;
  readonly clients: StorageClients;
}

export function useAzurite(): TestAzurite {
  let azurite: RunningAzurite | undefined;
  let clients: StorageClients | undefined;
  beforeAll(async () => {
    azurite = await startAzurite({ inMemory: true });
    clients = createStorageClients({ kind: 'connectionString', connectionString: azurite.connectionString });
  });
  afterAll(async () => {
    await azurite?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('Azurite is not started yet: use it inside a test or hook');
    return value;
  };
  return {
    get connectionString() {
      return started(azurite).connectionString;
    },
    get clients() {
      return started(clients);
    },
  };
}
