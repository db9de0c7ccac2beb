/**
 * The sync's shared/ functions driven directly, without a host: an orchestration client that only records what
 * it was asked to start, and an account-only PGlite profile put and activated on real storage.
 */
import type { FunctionDeps } from '../../functions/deps';
import type { OrchestrationClient } from '../../shared/orchestration/client';
import { validateProfile } from '../../shared/profile/profile';
import { activateProfile } from '../../shared/sync/admin/activation';

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
