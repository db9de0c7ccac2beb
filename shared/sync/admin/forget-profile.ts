/**
 * What deleting a profile removes besides the profile: its orchestrations (stopped, then purged), poll leases,
 * checkpoints, partitioned-copy documents, table statuses, metadata snapshot and activation record, so a profile created again under the same
 * name copies every table from scratch instead of following the old one's delta links into a new destination, and
 * finds no orchestration or lease of the old one in its way. Work of the old profile still in flight (a queued
 * batch, a page copy) carries the old activation generation and is dropped (applier.ts, copy-page-of-generation.ts).
 * The destination's tables are kept, as DES kept them.
 */
import { isLive, type OrchestrationClient } from '../../orchestration/client';
import { initialSyncInstanceId, resyncInstanceId } from './activation';
import { deletePartitionDocuments } from '../capture/partition-documents';
import type { SyncServices } from '../wiring/services';

export type ForgetProfileServices = Pick<
  SyncServices,
  'checkpoints' | 'status' | 'snapshots' | 'activations' | 'leases' | 'partitions'
>;

export async function forgetProfileState(
  services: ForgetProfileServices,
  orchestrations: OrchestrationClient,
  profile: string,
): Promise<void> {
  // Every table the profile ever checkpointed, not only those of its last activation: a removed table's copy too.
  const tables = new Set([
    ...((await services.activations.get(profile))?.value.tables ?? []),
    ...(await services.checkpoints.listByProfile(profile)).map((checkpoint) => checkpoint.table),
  ]);
  const instances = [initialSyncInstanceId(profile), ...[...tables].map((table) => resyncInstanceId(profile, table))];
  for (const instanceId of instances) {
    if (isLive(await orchestrations.getStatus(instanceId)))
      await orchestrations.terminate(instanceId, 'profile deleted');
    await orchestrations.purge?.(instanceId);
  }
  // Checkpoints next: without them nothing polls or copies for this name any more, whatever else is left.
  await services.checkpoints.deleteByProfile(profile);
  await services.leases.deleteByProfile(profile);
  // A table deleted mid partitioned copy leaves its plan and partitions (finished tables delete theirs).
  for (const table of tables) await deletePartitionDocuments(services.partitions, profile, table);
  await services.status.deleteByProfile(profile);
  await services.snapshots.delete(profile);
  await services.activations.delete(profile);
}
