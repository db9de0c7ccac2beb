/**
 * Managing the tables of an active profile (DES "Manage entities", Synapse Link "Manage tables"): after the
 * profile is saved, its tables (desired) are reconciled with the activation record's (active), without
 * re-activating and without touching the tables that stay (their checkpoints and deltaLinks are not written).
 * - An added table gets its destination table (metadata tables refreshed), its own checkpoint and its own copy
 *   orchestration, so it is copied even while the profile's initial sync of the other tables still runs.
 * - A removed table leaves the activation record: the poller no longer reads it, the applier ignores batches
 *   already queued for it, a copy of it stops at its next page, and status no longer lists it. Its destination
 *   table and rows stay, as DES kept them.
 * - A table added again is copied afresh as a resync, whose sweep removes the rows deleted meanwhile.
 * Idempotent: sending the same profile again finds nothing to do, and one that failed half way is finished by
 * the next PUT, because the activation record (written under its ETag) changes only after the checkpoints.
 */
import { ExportError } from '../../errors';
import { isLive, type OrchestrationClient } from '../../orchestration/client';
import { oneTableCopy } from '../capture/initial-sync-plan';
import {
  INITIAL_SYNC_ORCHESTRATION,
  ensureDestinationTables,
  readSource,
  resyncInstanceId,
  type ActivationServices,
} from './activation';
import { WriteConflict } from './conflicts';

export type ManageTablesServices = ActivationServices;

export interface TableChanges {
  add: string[];
  remove: string[];
}

export type ReconcileResult = { outcome: 'not active' } | ({ outcome: 'reconciled' } & TableChanges);

/** What turns the active tables into the desired ones; tables in both are left alone. */
export function planTableChanges(active: readonly string[], desired: readonly string[]): TableChanges {
  return {
    add: desired.filter((table) => !active.includes(table)),
    remove: active.filter((table) => !desired.includes(table)),
  };
}

/** Applies the profile's (saved) table list to its activation; a profile that is not active is left alone. */
export async function reconcileTables(
  services: ManageTablesServices,
  orchestrations: OrchestrationClient,
  profileName: string,
): Promise<ReconcileResult> {
  const activation = await services.activations.get(profileName);
  if (!activation || activation.value.state !== 'active') return { outcome: 'not active' };
  const { tables, relationships } = await readSource(services, profileName);
  const desired = tables.map((table) => table.logicalName);
  const changes = planTableChanges(activation.value.tables, desired);
  if (changes.add.length === 0 && changes.remove.length === 0) return { outcome: 'reconciled', ...changes };

  if (changes.add.length > 0) {
    await refuseWhileStopping(orchestrations, profileName, changes.add);
    await ensureDestinationTables(services, profileName, tables, relationships);
    await services.snapshots.put(profileName, { tables, relationships, readAt: services.now().toISOString() });
    for (const table of changes.add) await prepareCopy(services, profileName, table, activation.value.generation);
  }
  // A copy of a removed table started on its own (resync, or an earlier add) stops now; one inside the profile's
  // initial sync stops at its next page (copy-page.ts reads the activation).
  for (const table of changes.remove) {
    const instanceId = resyncInstanceId(profileName, table);
    if (isLive(await orchestrations.getStatus(instanceId)))
      await orchestrations.terminate(instanceId, 'table removed from the profile');
  }
  try {
    await services.activations.put(profileName, { ...activation.value, tables: desired }, { ifMatch: activation.etag });
  } catch (error) {
    if (!(error instanceof WriteConflict)) throw error;
    throw new ExportError('transient', `Profile '${profileName}' was activated or changed at the same time`, {
      where: profileName,
      fix: 'The profile is saved; send the same PUT again to apply its tables.',
    });
  }
  for (const table of changes.add) await startCopy(orchestrations, profileName, table, activation.value.generation);
  return { outcome: 'reconciled', ...changes };
}

/**
 * Terminating an orchestration is asynchronous in Azure (a message the instance handles later:
 * https://learn.microsoft.com/dotnet/api/microsoft.azure.webjobs.extensions.durabletask.idurableorchestrationclient.terminateasync),
 * so the copy of a table removed a moment ago may still run; its next page would continue the old copy's plan.
 */
async function refuseWhileStopping(
  orchestrations: OrchestrationClient,
  profileName: string,
  tables: string[],
): Promise<void> {
  for (const table of tables) {
    if (isLive(await orchestrations.getStatus(resyncInstanceId(profileName, table)))) {
      throw new ExportError('transient', `The copy of '${table}' removed from '${profileName}' is still stopping`, {
        where: table,
        fix: 'The profile is saved; send the same PUT again in a few seconds to add the table.',
      });
    }
  }
}

/**
 * A new table starts at its first page; a table exported before (its checkpoint is still there) starts over as
 * a resync, which forgets what an earlier resync saw and sweeps away the rows it does not see this time.
 */
async function prepareCopy(
  services: ManageTablesServices,
  profileName: string,
  table: string,
  generation: string | undefined,
): Promise<void> {
  const existing = await services.checkpoints.read(profileName, table);
  if (existing) {
    await services.checkpoints.reset(profileName, table, 'resync', generation);
    await (await services.runtimes.get(profileName)).destination.resync.start(table);
    await services.status.update(profileName, table, { phase: 'resync', lastError: null });
    return;
  }
  await services.checkpoints.create(profileName, table, {
    phase: 'initial',
    rowsCopied: 0,
    pages: 0,
    startedAt: services.now().toISOString(),
    ...(generation === undefined ? {} : { generation }),
  });
  await services.status.update(profileName, table, { phase: 'initial', lastError: null });
}

/**
 * Its own instance, named after the table as a resync's is: the copy then runs beside the profile's initial
 * sync (`initial-sync-<profile>`, whose input cannot change), and a resync asked for meanwhile finds it running.
 */
async function startCopy(
  orchestrations: OrchestrationClient,
  profileName: string,
  table: string,
  generation: string | undefined,
): Promise<void> {
  const instanceId = resyncInstanceId(profileName, table);
  await orchestrations.startNew(INITIAL_SYNC_ORCHESTRATION, {
    instanceId,
    input: oneTableCopy(profileName, table, generation),
  });
}
