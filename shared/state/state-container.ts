import type { ContainerClient } from '@azure/storage-blob';
import type { StorageClients } from '../storage/clients';
import { ensureOnce } from '../storage/ensure-once';
import { STATE_CONTAINER } from './names';

export interface StateContainer {
  client: ContainerClient;
  /** Resolves once the container exists (created on first use). */
  ready(): Promise<void>;
}

export function stateContainer(clients: StorageClients): StateContainer {
  const client = clients.blobs.getContainerClient(STATE_CONTAINER);
  return { client, ready: ensureOnce(() => client.createIfNotExists()) };
}
