/**
 * Azure Storage clients for blobs, queues and tables from one storage setting: a connection string
 * (Azurite, or a key-based account) or service URIs with a managed identity.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import type { StorageSettings } from '../config/settings';
import { createCredential } from './credentials';

export interface StorageClients {
  blobs: BlobServiceClient;
  queues: QueueServiceClient;
  tables: TableServiceClient;
  table(name: string): TableClient;
}

const isLoopback = (connectionString: string): boolean =>
  /(Endpoint=https?:\/\/(127\.0\.0\.1|localhost))|UseDevelopmentStorage=true/i.test(connectionString);

export function createStorageClients(settings: StorageSettings): StorageClients {
  if (settings.kind === 'connectionString') {
    const { connectionString } = settings;
    // Azurite speaks plain HTTP on loopback; the Tables SDK refuses that unless told.
    const allowInsecureConnection = isLoopback(connectionString);
    return {
      blobs: BlobServiceClient.fromConnectionString(connectionString),
      queues: QueueServiceClient.fromConnectionString(connectionString),
      tables: TableServiceClient.fromConnectionString(connectionString, { allowInsecureConnection }),
      table: (name) => TableClient.fromConnectionString(connectionString, name, { allowInsecureConnection }),
    };
  }
  const credential = createCredential({ kind: 'app', clientId: settings.clientId });
  return {
    blobs: new BlobServiceClient(settings.blobServiceUri, credential),
    queues: new QueueServiceClient(settings.queueServiceUri, credential),
    tables: new TableServiceClient(settings.tableServiceUri, credential),
    table: (name) => new TableClient(settings.tableServiceUri, name, credential),
  };
}
