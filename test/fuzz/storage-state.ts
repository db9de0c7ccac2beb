/** A fingerprint of everything the product keeps in storage, to show that an operation wrote nothing. */
import type { StorageClients } from '../../shared/storage/clients';

/** Blob names and ETags in every container, entities and ETags in every table, and queue depths; sorted. */
export async function storageState(storage: StorageClients): Promise<string[]> {
  const state: string[] = [];
  for await (const container of storage.blobs.listContainers()) {
    for await (const blob of storage.blobs.getContainerClient(container.name).listBlobsFlat())
      state.push(`blob ${container.name}/${blob.name} ${blob.properties.etag ?? ''}`);
  }
  for await (const table of storage.tables.listTables()) {
    for await (const entity of storage.table(table.name ?? '').listEntities())
      state.push(`entity ${table.name ?? ''} ${entity.partitionKey ?? ''}/${entity.rowKey ?? ''} ${entity.etag}`);
  }
  for await (const queue of storage.queues.listQueues()) {
    const { approximateMessagesCount } = await storage.queues.getQueueClient(queue.name).getProperties();
    state.push(`queue ${queue.name} ${approximateMessagesCount ?? 0}`);
  }
  return state.sort();
}
