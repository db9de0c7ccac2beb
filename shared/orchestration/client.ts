/**
 * The part of a Durable Functions client the product uses. In Azure it wraps `df.getClient(context)`;
 * the local host implements it with its own driver.
 */
/** The values of durable-functions' `OrchestrationRuntimeStatus` enum (v3, types/orchestration.d.ts). */
export type OrchestrationRuntimeStatus =
  'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated' | 'ContinuedAsNew' | 'Canceled' | 'Suspended';

/**
 * Whether an instance still exists as a live orchestration, i.e. is not in a final state. `ContinuedAsNew` is
 * the window between two generations of one instance (the initial sync continues as new after every page);
 * `Suspended` resumes where it stopped. Both must be stopped on deactivate and must not get a second instance.
 */
export const isLive = (status: OrchestrationStatus | undefined): boolean =>
  status !== undefined && ['Pending', 'Running', 'ContinuedAsNew', 'Suspended'].includes(status.runtimeStatus);

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
  /**
   * Deletes an instance's history and state, as Durable's `purgeInstanceHistory` does; an instance not yet
   * Completed, Failed or Terminated is left alone
   * (learn.microsoft.com/azure/azure-functions/durable/durable-functions-instance-management#purge-instance-history).
   * Both real clients have it (durable.ts, local/host/orchestrations.ts); optional only for test doubles of callers
   * that never delete a profile.
   */
  purge?(instanceId: string): Promise<void>;
}
