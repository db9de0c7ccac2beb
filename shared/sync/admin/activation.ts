/**
 * Activating a profile: everything that can be checked is checked before anything starts — the source
 * (tables exist and are change-tracked, relationships exist), the secrets, and the destination (reachable,
 * and we may create tables: `ensureTables` does) — then checkpoints are created and the initial sync starts.
 */
import { randomUUID } from 'node:crypto';
import type { ManyToManyRelationship, TableMetadata } from '../../dataverse/metadata';
import { ExportError, toExportError } from '../../errors';
import { isLive, type OrchestrationClient } from '../../orchestration/client';
import { oneTableCopy, type InitialSyncInput } from '../capture/initial-sync-plan';
import { unknownRelationshipError, untrackedTablesError } from './profile-tables';
import type { SyncServices } from '../wiring/services';

export const INITIAL_SYNC_ORCHESTRATION = 'initialSync';
export const initialSyncInstanceId = (profile: string): string => `initial-sync-${profile}`;
export const resyncInstanceId = (profile: string, table: string): string => `resync-${profile}-${table}`;

export type ActivationServices = Pick<
  SyncServices,
  'runtimes' | 'snapshots' | 'checkpoints' | 'status' | 'activations' | 'options' | 'now'
>;
export type DeactivationServices = Pick<SyncServices, 'activations' | 'runtimes' | 'now'>;
export type ResyncServices = Pick<SyncServices, 'activations' | 'checkpoints' | 'runtimes' | 'status'>;

export type ActivationResult =
  { outcome: 'started'; instanceId: string; tables: string[] } | { outcome: 'already-running'; instanceId: string };

/** The profile's tables (intersect tables of its relationships included) and relationships, as the source has them. */
export async function readSource(
  services: Pick<SyncServices, 'runtimes'>,
  profileName: string,
): Promise<{ tables: TableMetadata[]; relationships: ManyToManyRelationship[] }> {
  const { profile, source } = await services.runtimes.get(profileName);
  const tables = await source.readTables(profile.tables);
  const known = await source.readManyToMany(profile.tables);
  const relationships = profile.relationships.map((schemaName) => {
    const found = known.find((relationship) => relationship.schemaName.toLowerCase() === schemaName.toLowerCase());
    if (!found) throw unknownRelationshipError(schemaName, known);
    return found;
  });
  const intersect = relationships
    .map((relationship) => relationship.intersectEntityName)
    .filter((name) => !profile.tables.includes(name));
  const all = [...tables, ...(intersect.length > 0 ? await source.readTables(intersect) : [])];
  const untracked = all.filter((table) => !table.changeTrackingEnabled).map((table) => table.logicalName);
  if (untracked.length > 0) throw untrackedTablesError(untracked);
  return { tables: all, relationships };
}

/** Creates (or widens) the destination tables and refreshes its metadata tables; refuses what it cannot hold. */
export async function ensureDestinationTables(
  services: Pick<SyncServices, 'runtimes'>,
  profileName: string,
  tables: TableMetadata[],
  relationships: ManyToManyRelationship[],
): Promise<void> {
  const { destination } = await services.runtimes.get(profileName);
  const ensured = await destination.ensureTables(tables, relationships);
  if (ensured.failures.length > 0) {
    const failure = ensured.failures[0] as { table: string; error: ExportError };
    throw new ExportError(
      'schema',
      `The destination cannot hold ${ensured.failures.map((f) => f.table).join(', ')}: ${failure.error.message}`,
      {
        cause: failure.error,
        where: failure.table,
        ...(failure.error.fix ? { fix: failure.error.fix } : {}),
      },
    );
  }
}

export async function activateProfile(
  services: ActivationServices,
  orchestrations: OrchestrationClient,
  profileName: string,
): Promise<ActivationResult> {
  const instanceId = initialSyncInstanceId(profileName);
  if (isLive(await orchestrations.getStatus(instanceId))) return { outcome: 'already-running', instanceId };

  const { tables, relationships } = await readSource(services, profileName);
  await ensureDestinationTables(services, profileName, tables, relationships);
  const now = services.now().toISOString();
  await services.snapshots.put(profileName, { tables, relationships, readAt: now });
  // Kept from an earlier activation of this profile; a profile deleted and created again gets a new one.
  const previous = await services.activations.get(profileName);
  const generation = previous?.value.generation ?? randomUUID();

  const pending: string[] = [];
  for (const table of tables) {
    const checkpoint = await services.checkpoints.read(profileName, table.logicalName);
    if (!checkpoint) {
      await services.checkpoints.create(profileName, table.logicalName, {
        phase: 'initial',
        rowsCopied: 0,
        pages: 0,
        startedAt: now,
        generation,
      });
      await services.status.update(profileName, table.logicalName, { phase: 'initial', lastError: null });
    }
    // A table already in delta phase (re-activation) keeps its deltaLink; the others continue from their page.
    if (checkpoint?.value.phase !== 'delta') pending.push(table.logicalName);
  }
  // The environment the checkpoints came from: kept from an earlier activation, so that checkpoints of another org
  // are noticed by the poller (shared/sync/capture/source-environment.ts) and not followed.
  const organizationId =
    previous?.value.organizationId ??
    (await services.runtimes.get(profileName).then((runtime) => runtime.organizationId()));
  await services.activations.put(profileName, {
    ...(previous?.value.rebaselined ? { rebaselined: previous.value.rebaselined } : {}),
    state: 'active',
    tables: tables.map((table) => table.logicalName),
    activatedAt: now,
    organizationId,
    generation,
  });

  const input: InitialSyncInput = {
    profile: profileName,
    generation,
    pending,
    fanOut: services.options.fanOut,
    progress: {},
  };
  if (pending.length > 0) await orchestrations.startNew(INITIAL_SYNC_ORCHESTRATION, { instanceId, input });
  return { outcome: 'started', instanceId, tables: tables.map((table) => table.logicalName) };
}

export async function deactivateProfile(
  services: DeactivationServices,
  orchestrations: OrchestrationClient,
  profileName: string,
): Promise<boolean> {
  const activation = await services.activations.get(profileName);
  if (!activation || activation.value.state === 'inactive') return false;
  if (isLive(await orchestrations.getStatus(initialSyncInstanceId(profileName)))) {
    await orchestrations.terminate(initialSyncInstanceId(profileName), 'profile deactivated');
  }
  await services.activations.put(
    profileName,
    { ...activation.value, state: 'inactive', deactivatedAt: services.now().toISOString() },
    { ifMatch: activation.etag },
  );
  await services.runtimes.evict(profileName);
  return true;
}

/** Starts a full resync of one table: back to its first page, then to delta again. */
export async function resyncTable(
  services: ResyncServices,
  orchestrations: OrchestrationClient,
  profileName: string,
  table: string,
): Promise<string> {
  const activation = await services.activations.get(profileName);
  if (!activation || activation.value.state !== 'active') {
    throw new ExportError('config', `Profile '${profileName}' is not active`, {
      where: profileName,
      fix: 'Activate it first.',
    });
  }
  if (!activation.value.tables.includes(table)) {
    throw new ExportError('config', `Table '${table}' is not exported by profile '${profileName}'`, {
      where: 'table',
      fix: `Use one of: ${activation.value.tables.join(', ')}.`,
    });
  }
  const instanceId = resyncInstanceId(profileName, table);
  if (isLive(await orchestrations.getStatus(instanceId))) return instanceId;
  try {
    await services.checkpoints.reset(profileName, table, 'resync', activation.value.generation);
    // What an earlier, interrupted resync saw says nothing about this one.
    await (await services.runtimes.get(profileName)).destination.resync.start(table);
    await services.status.update(profileName, table, { phase: 'resync', lastError: null });
  } catch (error) {
    throw toExportError(error);
  }
  const { generation } = activation.value;
  await orchestrations.startNew(INITIAL_SYNC_ORCHESTRATION, {
    instanceId,
    input: oneTableCopy(profileName, table, generation),
  });
  return instanceId;
}
