/**
 * The sync's shared/ functions driven directly, without a host: an orchestration client that only records what
 * it was asked to start, and an account-only PGlite profile put and activated on real storage.
 */
import type { FunctionDeps } from '../../functions/deps';
import type { OrchestrationClient } from '../../shared/orchestration/client';
import { validateProfile } from '../../shared/profile/profile';
import { activateProfile } from '../../shared/sync/admin/activation';
import { copyPage, type CopyPageServices, type PageCopyReport } from '../../shared/sync/capture/copy-page';
import { copyPartition } from '../../shared/sync/capture/partitioned-copy';
import type { SyncServices } from '../../shared/sync/wiring/services';

/** Starts nothing; the names it was asked to start are pushed to `started`. */
export function recordingOrchestrations(started: string[] = []): OrchestrationClient {
  return {
    startNew: (name, { instanceId }) => {
      started.push(name);
      return Promise.resolve(instanceId);
    },
    getStatus: () => Promise.resolve(undefined),
    terminate: () => Promise.resolve(),
  };
}

/** Puts and activates profile `name`: `account` from `environmentUrl` (token in app setting DVX_SECRET_DV_TOKEN) into in-memory PGlite. */
export async function activateAccountProfile(
  deps: FunctionDeps,
  orchestrations: OrchestrationClient,
  name: string,
  environmentUrl: string,
): Promise<void> {
  const profile = validateProfile({
    name,
    source: { environmentUrl, auth: { kind: 'static-token', token: { appSetting: 'DVX_SECRET_DV_TOKEN' } } },
    tables: ['account'],
    destination: { kind: 'sql', dialect: 'pglite' },
    retryCount: 0,
    retryIntervalSeconds: 0,
  });
  if (!profile.ok) throw new Error(JSON.stringify(profile.problems));
  await deps.sync.profiles.put(name, profile.profile);
  await activateProfile(deps.sync, orchestrations, name);
}

/**
 * One cycle of a table's initial sync by hand, as functions/initial-sync.ts runs it: a step (a page, the key pass, or
 * finishing the table), then, when the step opens the table's partitions, the first `partitions` of them (all by
 * default). `while (!(await copyCycle(…)).done);` copies a table whichever way SyncOptions.readStreams reads it.
 */
export async function copyCycle(
  services: CopyPageServices,
  profile: string,
  table: string,
  partitions = Number.POSITIVE_INFINITY,
): Promise<PageCopyReport> {
  const step = await copyPage(services, profile, table);
  const total = Math.min(step.partitions?.total ?? 0, partitions);
  for (let index = 0; index < total; index++) await copyPartition(services, profile, table, index);
  return step;
}

type ApplyBatch = Awaited<ReturnType<SyncServices['runtimes']['get']>>['destination']['applyBatch'];

/** The services with every destination's `applyBatch` called through `around`, which is handed the real one. */
export function aroundApplyBatch(
  sync: SyncServices,
  around: (apply: ApplyBatch, ...args: Parameters<ApplyBatch>) => ReturnType<ApplyBatch>,
): SyncServices {
  return {
    ...sync,
    runtimes: {
      ...sync.runtimes,
      get: async (name) => {
        const runtime = await sync.runtimes.get(name);
        const destination = Object.create(runtime.destination) as typeof runtime.destination;
        destination.applyBatch = (table, batch) =>
          around((...args) => runtime.destination.applyBatch(...args), table, batch);
        return { ...runtime, destination };
      },
    },
  };
}
