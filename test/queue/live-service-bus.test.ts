/**
 * The queue contract against a real Service Bus namespace. Runs only when SERVICEBUS_FQDN is set (skipped,
 * visibly, otherwise): `SERVICEBUS_FQDN=<ns>.servicebus.windows.net SERVICEBUS_QUEUE=<queue> npx vitest run
 * test/queue/live-service-bus.test.ts`, signed in with an identity holding Data Sender + Data Receiver
 * (DefaultAzureCredential, e.g. `az login`). Use a dedicated test queue: each test first drains it. Claim
 * checks go to Azurite.
 */
import { DefaultAzureCredential } from '@azure/identity';
import { ServiceBusClient } from '@azure/service-bus';
import { blobClaimCheckStore, CLAIM_CHECK_CONTAINER } from '../../shared/queue/claim-checks';
import { DEFAULT_DUPLICATE_DETECTION_WINDOW_MS } from '../../shared/queue/duplicate-detection';
import { changeBatchReader } from '../../shared/queue/messages';
import {
  SERVICE_BUS_MAX_MESSAGE_BYTES,
  serviceBusChangeQueue,
  serviceBusReceiver,
} from '../../shared/queue/service-bus';
import type { QueueReceiver } from '../../shared/queue/change-queue';
import { useAzurite } from '../support/azurite';
import { describeQueueContract } from './contract';

const fullyQualifiedNamespace = process.env.SERVICEBUS_FQDN?.trim() || undefined;
const queueName = process.env.SERVICEBUS_QUEUE?.trim() || 'dataverse-changes-contract';
/** infra/modules/servicebus.bicep sets 10; set SERVICEBUS_MAX_DELIVERY_COUNT when the test queue differs. */
const maxDeliveryCount = Number(process.env.SERVICEBUS_MAX_DELIVERY_COUNT ?? 10);

const azurite = useAzurite();

async function drain(receiver: QueueReceiver): Promise<void> {
  for (;;) {
    const leftovers = await receiver.receive(100, 1_000);
    if (leftovers.length === 0) return;
    await Promise.all(leftovers.map((message) => receiver.complete(message)));
  }
}

describeQueueContract({
  name: `Service Bus queue '${queueName}' on ${fullyQualifiedNamespace ?? 'a live namespace'}`,
  ...(fullyQualifiedNamespace
    ? {}
    : { skipReason: 'set SERVICEBUS_FQDN (and SERVICEBUS_QUEUE) to run against a real namespace' }),
  // The deployed queue's window (PT1H): the window-expiry case cannot wait that out.
  duplicateDetectionWindowMs: DEFAULT_DUPLICATE_DETECTION_WINDOW_MS,
  async create() {
    const client = new ServiceBusClient(fullyQualifiedNamespace as string, new DefaultAzureCredential());
    const claimChecks = blobClaimCheckStore(azurite.clients.blobs.getContainerClient(CLAIM_CHECK_CONTAINER));
    const receiver = serviceBusReceiver({ client, queueName, subQueue: 'active' });
    const deadLetters = serviceBusReceiver({ client, queueName, subQueue: 'deadLetter' });
    await drain(receiver);
    await drain(deadLetters);
    const queue = serviceBusChangeQueue({ client, queueName, claimChecks });
    const rawSender = client.createSender(queueName);
    return {
      queue,
      reader: changeBatchReader(claimChecks),
      receiver,
      deadLetters,
      sendRaw: (text: string) => rawSender.sendMessages({ body: text }),
      maxDeliveryCount,
      maxMessageBytes: SERVICE_BUS_MAX_MESSAGE_BYTES,
      deliveryDelayMs: 3_000,
      reportsDeadLetterReason: true,
      close: async () => {
        await Promise.all([queue.close(), receiver.close(), deadLetters.close(), rawSender.close()]);
        await client.close();
      },
    };
  },
});
