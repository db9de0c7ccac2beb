/**
 * A full resync whose last page is copied and swept, but whose checkpoint update then fails (a storage error, a
 * crash): the activity runs again, repeats the last page and sweeps again. That second sweep must not mistake the
 * rows of earlier pages for rows Dataverse no longer has.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { destinationVersions } from '../../local/verify';
import { WriteConflict } from '../../shared/storage/errors';
import type { SyncServices } from '../../shared/sync/wiring/services';
import { resyncTable } from '../../shared/sync/admin/activation';
import { copyPage } from '../../shared/sync/capture/copy-page';
import { useAzurite } from '../support/azurite';
import { activateAccountProfile, recordingOrchestrations } from '../support/direct-sync';

const TOKEN = 'resync-repeat-token';
const PROFILE = 'resyncrepeat';
const azurite = useAzurite();
let emulator: Emulator;
let deps: FunctionDeps;
const orchestrations = recordingOrchestrations();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: 9, accounts: 30, token: TOKEN });
  deps = createFunctionDeps(
    { AzureWebJobsStorage: azurite.connectionString, DVX_SECRET_DV_TOKEN: TOKEN, DVX_LOCAL_MODE: '1' },
    () => orchestrations,
    // Page by page: these are about the last page of a change-tracked resync and its sweep, copied twice.
    { pageSize: 10, readStreams: 1 },
  );
  await activateAccountProfile(deps, orchestrations, PROFILE, emulator.baseUrl);
});
afterAll(async () => {
  await deps.sync.runtimes.closeAll();
  await emulator.close();
});

const rowIds = async () =>
  [...(await destinationVersions((await deps.sync.runtimes.get(PROFILE)).destination, 'account')).keys()].sort();

async function copyAll(services: SyncServices): Promise<void> {
  while (!(await copyPage(services, PROFILE, 'account')).done);
}

describe('a full resync repeated after its last checkpoint update failed', () => {
  it('sweeps again without deleting the rows the resync copied', async () => {
    await copyAll(deps.sync);
    const source = async () =>
      [...(await destinationVersions((await deps.sync.runtimes.get(PROFILE)).destination, 'account')).keys()].sort();
    expect(await source()).toHaveLength(30);
    const [gone] = emulator.store.page('account', -1, 1).rows;
    if (!gone) throw new Error('no account');
    const removed = await fetch(`${emulator.baseUrl}accounts(${gone.id})`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(removed.status).toBe(204);

    await resyncTable(deps.sync, orchestrations, PROFILE, 'account');
    let failOnce = true;
    const flaky: SyncServices = {
      ...deps.sync,
      checkpoints: {
        ...deps.sync.checkpoints,
        update: (profile, table, fields, etag) => {
          if (failOnce && fields.phase === 'delta') {
            failOnce = false;
            return Promise.reject(new Error('the storage account went away'));
          }
          return deps.sync.checkpoints.update(profile, table, fields, etag);
        },
      },
    };
    await expect(copyAll(flaky)).rejects.toThrow('the storage account went away');
    // The orchestrator retries the activity: the last page again, and its sweep again.
    await copyAll(flaky);
    expect((await deps.sync.checkpoints.read(PROFILE, 'account'))?.value.phase).toBe('delta');
    const rows = await source();
    expect(rows).toHaveLength(29);
    expect(rows).not.toContain(gone.id.toLowerCase());
  });

  it('lets only one of two copiers of the last page sweep: the other fails before it deletes anything', async () => {
    await resyncTable(deps.sync, orchestrations, PROFILE, 'account');
    while ((await deps.sync.checkpoints.read(PROFILE, 'account'))?.value.pages !== 2)
      await copyPage(deps.sync, PROFILE, 'account');
    // Copier B reads the checkpoint at the last page and is slow to read it from Dataverse; copier A finishes meanwhile.
    let release = () => undefined as void;
    const slowRead = new Promise<void>((resolve) => (release = resolve));
    let reading = false;
    const slow: SyncServices = {
      ...deps.sync,
      runtimes: {
        ...deps.sync.runtimes,
        get: async (name) => {
          const runtime = await deps.sync.runtimes.get(name);
          const readPageInChunks: typeof runtime.source.readPageInChunks = async (...args) => {
            reading = true;
            await slowRead;
            return runtime.source.readPageInChunks(...args);
          };
          // The client is a class instance: its other methods stay on the prototype.
          return {
            ...runtime,
            source: Object.assign(Object.create(runtime.source) as typeof runtime.source, { readPageInChunks }),
          };
        },
      },
    };
    const copierB = copyPage(slow, PROFILE, 'account');
    while (!reading) await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await copyPage(deps.sync, PROFILE, 'account')).done).toBe(true);
    const afterA = await rowIds();
    release();
    await expect(copierB).rejects.toBeInstanceOf(WriteConflict);
    expect(await rowIds()).toEqual(afterA);
    expect(afterA).toHaveLength(29);
  });
});
