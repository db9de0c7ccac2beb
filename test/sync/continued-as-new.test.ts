/**
 * The initial sync continues as new after every page, so between two pages Durable Functions reports its
 * instance as `ContinuedAsNew` (durable-functions v3 `OrchestrationRuntimeStatus`: "a transient state"). In that
 * window the instance is alive: activate and resync must not start a second one, deactivate must stop it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import type { OrchestrationClient, OrchestrationRuntimeStatus } from '../../shared/orchestration/client';
import {
  activateProfile,
  deactivateProfile,
  initialSyncInstanceId,
  resyncInstanceId,
  resyncTable,
} from '../../shared/sync/admin/activation';
import { useAzurite } from '../support/azurite';
import { activateAccountProfile, recordingOrchestrations } from '../support/direct-sync';

const TOKEN = 'continued-as-new-token';
const PROFILE = 'continuedasnew';
const azurite = useAzurite();
let emulator: Emulator;
let deps: FunctionDeps;

/** Every instance exists with `runtimeStatus`; what is started and terminated is recorded. */
function orchestrationsIn(runtimeStatus: OrchestrationRuntimeStatus) {
  const started: string[] = [];
  const terminated: string[] = [];
  const client: OrchestrationClient = {
    startNew: (_name, { instanceId }) => {
      started.push(instanceId);
      return Promise.resolve(instanceId);
    },
    getStatus: (instanceId) =>
      Promise.resolve({
        instanceId,
        name: 'initialSync',
        runtimeStatus,
        input: null,
        customStatus: null,
        output: null,
        createdTime: new Date(),
        lastUpdatedTime: new Date(),
      }),
    terminate: (instanceId) => {
      terminated.push(instanceId);
      return Promise.resolve();
    },
  };
  return { client, started, terminated };
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: 4, accounts: 5, token: TOKEN });
  deps = createFunctionDeps(
    { AzureWebJobsStorage: azurite.connectionString, DVX_SECRET_DV_TOKEN: TOKEN, DVX_LOCAL_MODE: '1' },
    () => recordingOrchestrations(),
    { pageSize: 2 },
  );
  await activateAccountProfile(deps, recordingOrchestrations(), PROFILE, emulator.baseUrl);
});
// Each deactivate test leaves the profile active again for the next case, as it was before.
afterEach(async () => {
  const activation = await deps.sync.activations.get(PROFILE);
  if (activation && activation.value.state !== 'active')
    await deps.sync.activations.put(PROFILE, { ...activation.value, state: 'active' }, { ifMatch: activation.etag });
});
afterAll(async () => {
  await deps.sync.runtimes.closeAll();
  await emulator.close();
});

describe.each<OrchestrationRuntimeStatus>(['ContinuedAsNew', 'Suspended', 'Running', 'Pending'])(
  'an initial sync reported as %s',
  (runtimeStatus) => {
    it('is already running for activate: no second instance', async () => {
      const orchestrations = orchestrationsIn(runtimeStatus);
      expect(await activateProfile(deps.sync, orchestrations.client, PROFILE)).toEqual({
        outcome: 'already-running',
        instanceId: initialSyncInstanceId(PROFILE),
      });
      expect(orchestrations.started).toEqual([]);
    });

    it('is already running for a resync of a table: no second instance', async () => {
      const orchestrations = orchestrationsIn(runtimeStatus);
      expect(await resyncTable(deps.sync, orchestrations.client, PROFILE, 'account')).toBe(
        resyncInstanceId(PROFILE, 'account'),
      );
      expect(orchestrations.started).toEqual([]);
      expect((await deps.sync.checkpoints.read(PROFILE, 'account'))?.value.phase).toBe('initial');
    });

    it('is terminated by deactivate', async () => {
      const orchestrations = orchestrationsIn(runtimeStatus);
      expect(await deactivateProfile(deps.sync, orchestrations.client, PROFILE)).toBe(true);
      expect(orchestrations.terminated).toEqual([initialSyncInstanceId(PROFILE)]);
    });
  },
);

describe.each<OrchestrationRuntimeStatus>(['Completed', 'Failed', 'Terminated', 'Canceled'])(
  'an initial sync reported as %s',
  (runtimeStatus) => {
    it('is not terminated again by deactivate', async () => {
      const orchestrations = orchestrationsIn(runtimeStatus);
      expect(await deactivateProfile(deps.sync, orchestrations.client, PROFILE)).toBe(true);
      expect(orchestrations.terminated).toEqual([]);
    });
  },
);
