/**
 * A profile deleted and created again under the same name is a new profile: work of the old one still in flight
 * (a batch its poller queued, a page its initial sync was about to copy) must not land in the new one's destination
 * or move its checkpoints, and nothing of the old one (leases, orchestration instances) may stand in its way.
 * In-memory ports with the real activation, poller, applier and forget; the source is the emulator.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import type { OrchestrationClient } from '../../shared/orchestration/client';
import type { ChangeBatch } from '../../shared/queue/change-batch';
import { applyChanges } from '../../shared/sync/apply/applier';
import { activateProfile, deactivateProfile } from '../../shared/sync/admin/activation';
import { forgetProfileState } from '../../shared/sync/admin/forget-profile';
import { copyPageOfGeneration } from '../../shared/sync/capture/copy-page-of-generation';
import { pollTable } from '../../shared/sync/capture/poller';
import { copyCycle } from '../support/direct-sync';
import { recordingDestination, type RecordingDestination } from '../support/in-memory-destination';
import {
  emulatorClient,
  fixedRuntimes,
  inMemorySyncServices,
  testProfile,
  type InMemorySyncServices,
} from '../support/in-memory-sync';

const TOKEN = 'profile-generation-token';
const PROFILE = 'again';
let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: 8, accounts: 12, token: TOKEN });
});
afterAll(async () => emulator?.close());

/** Instances as the Durable client keeps them: started, terminated, purged (only once final). */
function recordingInstances() {
  const instances = new Map<string, { input: unknown; runtimeStatus: 'Running' | 'Terminated' }>();
  const purged: string[] = [];
  const client: OrchestrationClient = {
    startNew(name, { instanceId, input }) {
      instances.set(instanceId, { input, runtimeStatus: 'Running' });
      return Promise.resolve(instanceId);
    },
    getStatus(instanceId) {
      const found = instances.get(instanceId);
      if (!found) return Promise.resolve(undefined);
      const at = new Date();
      return Promise.resolve({
        instanceId,
        name: 'initialSync',
        ...found,
        customStatus: null,
        output: null,
        createdTime: at,
        lastUpdatedTime: at,
      });
    },
    terminate(instanceId) {
      const found = instances.get(instanceId);
      if (found) found.runtimeStatus = 'Terminated';
      return Promise.resolve();
    },
    purge(instanceId) {
      if (instances.get(instanceId)?.runtimeStatus === 'Terminated') {
        instances.delete(instanceId);
        purged.push(instanceId);
      }
      return Promise.resolve();
    },
  };
  return { client, instances, purged };
}

let services: InMemorySyncServices;
let destinations: RecordingDestination[];
let orchestrations: ReturnType<typeof recordingInstances>;

beforeEach(() => {
  services = inMemorySyncServices();
  destinations = [];
  orchestrations = recordingInstances();
  // Each profile created under the name gets its own destination, as a new schema would be.
  services.runtimes = fixedRuntimes(services.profiles, () => ({
    source: emulatorClient(emulator.baseUrl, TOKEN),
    destination: destinations.at(-1) as RecordingDestination,
  }));
});

async function createAndActivate(): Promise<RecordingDestination> {
  const destination = recordingDestination();
  destinations.push(destination);
  await services.profiles.put(PROFILE, testProfile(PROFILE));
  await activateProfile(services, orchestrations.client, PROFILE);
  return destination;
}

async function deleteProfile(): Promise<void> {
  expect(await deactivateProfile(services, orchestrations.client, PROFILE)).toBe(true);
  expect(await services.profiles.delete(PROFILE)).toBe(true);
  await forgetProfileState(services, orchestrations.client, PROFILE);
}

/** A batch the old profile's poller queued: a row changed while it was in delta. */
async function queuedBatchOfOldProfile(): Promise<ChangeBatch> {
  while (!(await copyCycle(services, PROFILE, 'account')).done);
  const [row] = emulator.store.page('account', -1, 1).rows;
  emulator.store.update('account', row?.id ?? '', { name: 'changed before the delete' });
  expect((await pollTable(services, orchestrations.client, PROFILE, 'account')).outcome).toBe('changes');
  const [batch] = services.queue.sent.at(-1)?.batches ?? [];
  if (!batch) throw new Error('the poller sent nothing');
  return batch;
}

describe('a profile deleted and created again under the same name', () => {
  it('drops a batch the old profile queued: the new destination and checkpoints stay as they are', async () => {
    await createAndActivate();
    const oldBatch = await queuedBatchOfOldProfile();
    await deleteProfile();

    const second = await createAndActivate();
    const before = await services.checkpoints.read(PROFILE, 'account');
    expect(before?.value.phase).toBe('initial');

    const outcome = await applyChanges(services, oldBatch, { messageId: 'old', deliveryCount: 1 });

    expect(outcome.outcome).toBe('ignored');
    expect(second.versions('account').size, 'nothing of the old profile in the new destination').toBe(0);
    expect(await services.checkpoints.read(PROFILE, 'account')).toEqual(before);
    expect((await services.status.read(PROFILE, 'account'))?.rowsApplied ?? 0).toBe(0);
  });

  it('drops a page copy the old initial sync asks for, and copies the new one', async () => {
    await createAndActivate();
    const oldInput = orchestrations.instances.get(`initial-sync-${PROFILE}`)?.input as { generation?: string };
    expect(oldInput.generation).toBeDefined();
    await deleteProfile();
    expect(orchestrations.purged, 'the old initial sync is stopped and purged').toContain(`initial-sync-${PROFILE}`);

    const second = await createAndActivate();
    const newInput = orchestrations.instances.get(`initial-sync-${PROFILE}`)?.input as { generation?: string };
    expect(newInput.generation).not.toBe(oldInput.generation);
    const before = await services.checkpoints.read(PROFILE, 'account');

    const old = await copyPageOfGeneration(services, PROFILE, 'account', oldInput.generation);
    expect(old).toMatchObject({ done: true, pageRows: 0 });
    expect(await services.checkpoints.read(PROFILE, 'account')).toEqual(before);
    expect(second.versions('account').size).toBe(0);

    // The new generation's step is taken (a page, or the key pass of a partitioned read), and the copy goes on.
    const current = await copyPageOfGeneration(services, PROFILE, 'account', newInput.generation);
    if (!current.done) while (!(await copyCycle(services, PROFILE, 'account')).done);
    expect(second.versions('account').size).toBe(emulator.store.count('account'));
  });

  it('gives the new profile batch ids of its own, and forgets the old poll leases', async () => {
    await createAndActivate();
    const oldBatch = await queuedBatchOfOldProfile();
    const lease = await services.leases.tryAcquire(PROFILE, 'account', 15);
    expect(lease).toBeDefined();
    await deleteProfile();
    await expect(lease?.renew()).rejects.toThrow(/lost/);

    await createAndActivate();
    while (!(await copyCycle(services, PROFILE, 'account')).done);
    const row = emulator.store.get('account', oldBatch.upserts[0]?.id ?? '');
    // The same change read again by the new profile's poller: not a duplicate of the old batch.
    services.queue.sent.length = 0;
    emulator.store.update('account', row?.id ?? '', { name: 'changed after the re-create' });
    expect((await pollTable(services, orchestrations.client, PROFILE, 'account')).outcome).toBe('changes');
    const [fresh] = services.queue.sent.at(-1)?.batches ?? [];
    expect(fresh?.generation).toBeDefined();
    expect(fresh?.generation).not.toBe(oldBatch.generation);
    expect((await applyChanges(services, fresh as ChangeBatch, { messageId: 'new', deliveryCount: 1 })).outcome).toBe(
      'applied',
    );
  });
});
