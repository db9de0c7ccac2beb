/**
 * The reconcile step of shared/sync/admin/manage-tables.ts driven directly on real storage (Azurite), the
 * emulator and PGlite: what it writes for an added, a removed and a re-added table, and what it leaves alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { destinationVersions } from '../../local/verify';
import type { OrchestrationClient, OrchestrationStatus } from '../../shared/orchestration/client';
import { planTableChanges, reconcileTables } from '../../shared/sync/admin/manage-tables';
import { copyPage } from '../../shared/sync/capture/copy-page';
import { useAzurite } from '../support/azurite';
import { activateAccountProfile, copyCycle } from '../support/direct-sync';

const TOKEN = 'manage-tables-token';
const PROFILE = 'managed';
const azurite = useAzurite();
// On disk: a changed profile rebuilds its runtime, and an in-memory PGlite would go with it.
const dataDir = mkdtempSync(join(tmpdir(), 'dvexport-manage-unit-'));
let emulator: Emulator;
let deps: FunctionDeps;

/** Instances it was asked to start stay Running until terminated. */
const instances = new Map<string, OrchestrationStatus['runtimeStatus']>();
const orchestrations: OrchestrationClient = {
  startNew: (_name, { instanceId }) => {
    instances.set(instanceId, 'Running');
    return Promise.resolve(instanceId);
  },
  getStatus: (instanceId) => {
    const runtimeStatus = instances.get(instanceId);
    return Promise.resolve(
      runtimeStatus === undefined
        ? undefined
        : {
            instanceId,
            name: 'initialSync',
            runtimeStatus,
            input: null,
            customStatus: null,
            output: null,
            createdTime: new Date(),
            lastUpdatedTime: new Date(),
          },
    );
  },
  terminate: (instanceId) => {
    instances.set(instanceId, 'Terminated');
    return Promise.resolve();
  },
};

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: 9, accounts: 20, token: TOKEN });
  deps = createFunctionDeps(
    {
      AzureWebJobsStorage: azurite.connectionString,
      DVX_SECRET_DV_TOKEN: TOKEN,
      DVX_LOCAL_MODE: '1',
      DVX_DATA_DIR: dataDir,
    },
    () => orchestrations,
    { pageSize: 10 },
  );
  await activateAccountProfile(deps, orchestrations, PROFILE, emulator.baseUrl);
  while (!(await copyCycle(deps.sync, PROFILE, 'account')).done);
}, 60_000);
afterAll(async () => {
  await deps?.sync.runtimes.closeAll();
  await emulator?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function saveTables(tables: string[]): Promise<void> {
  const stored = await deps.sync.profiles.get(PROFILE);
  if (!stored) throw new Error('no profile');
  await deps.sync.profiles.put(PROFILE, { ...stored.value, tables });
}

const contactIds = async () =>
  [...(await destinationVersions((await deps.sync.runtimes.get(PROFILE)).destination, 'contact')).keys()].sort();

describe('planTableChanges', () => {
  it('adds what is only desired and removes what is only active, in their order', () => {
    expect(planTableChanges(['account', 'contact'], ['systemuser', 'account', 'role'])).toEqual({
      add: ['systemuser', 'role'],
      remove: ['contact'],
    });
  });
});

describe('reconciling the tables of an active profile', () => {
  it('gives an added table its checkpoint, destination table and own copy, and writes nothing of the others', async () => {
    const account = await deps.sync.checkpoints.read(PROFILE, 'account');
    const activation = await deps.sync.activations.get(PROFILE);
    await saveTables(['account', 'contact']);

    expect(await reconcileTables(deps.sync, orchestrations, PROFILE)).toEqual({
      outcome: 'reconciled',
      add: ['contact'],
      remove: [],
    });
    expect(instances.get(`resync-${PROFILE}-contact`)).toBe('Running');
    expect((await deps.sync.checkpoints.read(PROFILE, 'contact'))?.value.phase).toBe('initial');
    expect((await deps.sync.checkpoints.read(PROFILE, 'account'))?.etag).toBe(account?.etag);
    expect((await deps.sync.activations.get(PROFILE))?.value).toEqual({
      ...activation?.value,
      tables: ['account', 'contact'],
    });
    expect((await deps.sync.snapshots.get(PROFILE))?.value.tables.map((table) => table.logicalName)).toEqual([
      'account',
      'contact',
    ]);
    expect(await contactIds()).toEqual([]);

    const again = await reconcileTables(deps.sync, orchestrations, PROFILE);
    expect(again).toEqual({ outcome: 'reconciled', add: [], remove: [] });
  });

  it('stops a removed table: its copy is terminated and ends at the next page, its rows stay', async () => {
    // One unit of rows: a page, or the key pass and the first partition.
    while ((await deps.sync.checkpoints.read(PROFILE, 'contact'))?.value.pages === 0)
      await copyCycle(deps.sync, PROFILE, 'contact', 1);
    const copied = await contactIds();
    expect(copied).toHaveLength(10);
    await saveTables(['account']);

    expect(await reconcileTables(deps.sync, orchestrations, PROFILE)).toEqual({
      outcome: 'reconciled',
      add: [],
      remove: ['contact'],
    });
    expect(instances.get(`resync-${PROFILE}-contact`)).toBe('Terminated');
    expect((await deps.sync.activations.get(PROFILE))?.value.tables).toEqual(['account']);
    const before = await deps.sync.checkpoints.read(PROFILE, 'contact');
    expect(await copyPage(deps.sync, PROFILE, 'contact')).toMatchObject({ done: true, pageRows: 0, pages: 1 });
    expect((await deps.sync.checkpoints.read(PROFILE, 'contact'))?.etag).toBe(before?.etag);
    expect(await contactIds()).toEqual(copied);
  });

  it('refuses to add a table back while its old copy is still stopping, changing nothing', async () => {
    instances.set(`resync-${PROFILE}-contact`, 'Running');
    const activation = await deps.sync.activations.get(PROFILE);
    await saveTables(['account', 'contact']);
    await expect(reconcileTables(deps.sync, orchestrations, PROFILE)).rejects.toMatchObject({
      errorClass: 'transient',
    });
    expect((await deps.sync.activations.get(PROFILE))?.etag).toBe(activation?.etag);
    instances.set(`resync-${PROFILE}-contact`, 'Terminated');
  });

  it('copies a table added again afresh, sweeping the rows deleted while it was removed', async () => {
    const [gone] = await contactIds();
    if (!gone) throw new Error('no contact copied');
    const removed = await fetch(`${emulator.baseUrl}contacts(${gone})`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(removed.status).toBe(204);
    await saveTables(['account', 'contact']);

    expect(await reconcileTables(deps.sync, orchestrations, PROFILE)).toMatchObject({ add: ['contact'] });
    expect((await deps.sync.checkpoints.read(PROFILE, 'contact'))?.value).toMatchObject({ phase: 'resync', pages: 0 });
    expect(instances.get(`resync-${PROFILE}-contact`)).toBe('Running');
    while (!(await copyCycle(deps.sync, PROFILE, 'contact')).done);
    const rows = await contactIds();
    expect(rows).not.toContain(gone);
    expect(rows).toEqual([...emulator.store.page('contact', -1, 1000).rows.map((row) => row.id.toLowerCase())].sort());
  });
});
