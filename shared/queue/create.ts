/** Picks the change queue's transport from the settings: Service Bus when a namespace is set, else a storage queue. */
import { ServiceBusClient } from '@azure/service-bus';
import type { Settings } from '../config/settings';
import type { StorageClients } from '../storage/clients';
import { createCredential } from '../storage/credentials';
import type { ChangeQueue } from './change-queue';
import { blobClaimCheckStore, CLAIM_CHECK_CONTAINER, type ClaimCheckStore } from './claim-checks';
import {
  DEFAULT_DUPLICATE_DETECTION_WINDOW_MS,
  SENT_MARKERS_TABLE,
  tableDuplicateDetection,
} from './duplicate-detection';
import { changeBatchReader, type ChangeBatchReader } from './messages';
import { serviceBusChangeQueue } from './service-bus';
import { storageQueueChangeQueue } from './storage-queue';

/** Claim checks live in host storage for both transports, so the reader does not care which one carried the message. */
const claimCheckStore = (storage: StorageClients): ClaimCheckStore =>
  blobClaimCheckStore(storage.blobs.getContainerClient(CLAIM_CHECK_CONTAINER));

export function createChangeQueue(settings: Pick<Settings, 'changeQueue'>, storage: StorageClients): ChangeQueue {
  const { queueName, serviceBus } = settings.changeQueue;
  const claimChecks = claimCheckStore(storage);
  if (serviceBus === undefined) {
    return storageQueueChangeQueue({
      queues: storage.queues,
      queueName,
      claimChecks,
      duplicates: tableDuplicateDetection({
        table: storage.table(SENT_MARKERS_TABLE),
        queueName,
        windowMs: DEFAULT_DUPLICATE_DETECTION_WINDOW_MS,
      }),
    });
  }
  const client = new ServiceBusClient(
    serviceBus.fullyQualifiedNamespace,
    createCredential({ kind: 'app', clientId: serviceBus.clientId }),
  );
  const queue = serviceBusChangeQueue({ client, queueName, claimChecks });
  return {
    send: (batches, options) => queue.send(batches, options),
    async close() {
      await queue.close();
      await client.close();
    },
  };
}

export const createChangeBatchReader = (storage: StorageClients): ChangeBatchReader =>
  changeBatchReader(claimCheckStore(storage));
