/** OrchestrationClient over the Durable Functions client that the host injects into an HTTP invocation. */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { OrchestrationClient, OrchestrationRuntimeStatus, OrchestrationStatus } from './client';

export function durableOrchestrationClient(context: InvocationContext): OrchestrationClient {
  const client = df.getClient(context);
  return {
    startNew: (name, options) => client.startNew(name, { instanceId: options.instanceId, input: options.input }),
    async getStatus(instanceId): Promise<OrchestrationStatus | undefined> {
      // durable-functions v3 throws (HTTP 404) for an unknown instance instead of returning nothing.
      const status = await client.getStatus(instanceId).catch(() => undefined);
      if (!status) return undefined;
      return {
        instanceId,
        name: status.name,
        runtimeStatus: status.runtimeStatus as OrchestrationRuntimeStatus,
        input: status.input,
        customStatus: status.customStatus,
        output: status.output,
        createdTime: new Date(status.createdTime),
        lastUpdatedTime: new Date(status.lastUpdatedTime),
      };
    },
    terminate: (instanceId, reason) => client.terminate(instanceId, reason),
    async purge(instanceId) {
      await client.purgeInstanceHistory(instanceId);
    },
  };
}
