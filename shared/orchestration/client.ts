/**
 * The part of a Durable Functions client the product uses. In Azure it wraps `df.getClient(context)`;
 * the local host implements it with its own driver.
 */
export type OrchestrationRuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated' | 'ContinuedAsNew';

export interface OrchestrationStatus {
  instanceId: string;
  name: string;
  runtimeStatus: OrchestrationRuntimeStatus;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: Date;
  lastUpdatedTime: Date;
}

export interface OrchestrationClient {
  startNew(name: string, options: { instanceId: string; input: unknown }): Promise<string>;
  /** `undefined` for an instance that does not exist. */
  getStatus(instanceId: string): Promise<OrchestrationStatus | undefined>;
  terminate(instanceId: string, reason: string): Promise<void>;
}
