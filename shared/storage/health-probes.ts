import type { HealthProbe } from '../health';
import type { StorageClients } from './clients';

export function storageProbes(storage: StorageClients): HealthProbe[] {
  return [
    { name: 'storage.blob', check: async (abortSignal) => void (await storage.blobs.getProperties({ abortSignal })) },
    { name: 'storage.queue', check: async (abortSignal) => void (await storage.queues.getProperties({ abortSignal })) },
    { name: 'storage.table', check: async (abortSignal) => void (await storage.tables.getProperties({ abortSignal })) },
  ];
}
