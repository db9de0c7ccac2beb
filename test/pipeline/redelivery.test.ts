import { describe, expect, it } from 'vitest';
import type { RowUpsert } from '../../shared/dataverse/changes';
import { deleteBatches, upsertBatches } from '../../shared/sync/capture/batching';
import type { ChangeBatch } from '../../shared/queue/change-batch';
import { snapshotTable } from '../../shared/sync/admin/snapshot';
import {
  EMULATOR_TOKEN,
  destinationVersions,
  sampleProfile,
  sourceVersions,
  sqlDestination,
  usePostgresServer,
  useProduct,
  waitForConvergence,
  type ProductUnderTest,
} from '../support/pipeline';
import { waitFor } from '../support/wait';

const product = useProduct({ sync: { pageSize: 25, fanOut: 1 } });
const postgres = usePostgresServer();
const PROFILE = 'replays';

async function writeToSource(
  p: ProductUnderTest,
  method: 'PATCH' | 'DELETE',
  id: string,
  body?: unknown,
): Promise<void> {
  const response = await fetch(`${p.emulator.baseUrl}accounts(${id})`, {
    method,
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.status).toBe(204);
}

/** The row as Dataverse returns it now, as the poller would have put it in a batch. */
async function readSourceRow(p: ProductUnderTest, id: string): Promise<RowUpsert> {
  const { source } = await p.deps.sync.runtimes.get(PROFILE);
  const found = await source.readRowsById(await snapshotTable(p.deps.sync, PROFILE, 'account'), [id]);
  const [row] = found.rows;
  if (!row) throw new Error(`account ${id} is not in the source`);
  return row;
}

/** Puts batches straight on the queue, as a redelivery or a late retry would, bypassing the sender's duplicate detection. */
async function deliver(p: ProductUnderTest, batches: ChangeBatch[]): Promise<void> {
  const queue = p.deps.storage.queues.getQueueClient('dataverse-changes');
  for (const batch of batches) await queue.sendMessage(JSON.stringify(batch));
  await waitFor('the queue drained', async () =>
    (await queue.getProperties()).approximateMessagesCount === 0 ? true : undefined,
  );
}

describe('duplicate and out-of-order deliveries', () => {
  it('change nothing: versions never go back, a deleted row stays deleted, the delete is logged once', async () => {
    const p = product();
    expect(
      (
        await p.call(
          'PUT',
          `profiles/${PROFILE}`,
          sampleProfile(p, { tables: ['account'], relationships: [], writeDeleteLog: true }),
        )
      ).status,
    ).toBe(201);
    expect((await p.call('POST', `profiles/${PROFILE}/activate`)).status).toBe(202);
    await waitFor(
      'account in delta phase',
      async () =>
        (await p.deps.sync.checkpoints.read(PROFILE, 'account'))?.value.phase === 'delta' ? true : undefined,
      30_000,
    );
    await waitForConvergence(p, PROFILE, ['account']);

    const [edited, deleted] = [...sourceVersions(p.emulator, 'account').keys()];
    if (!edited || !deleted) throw new Error('the sample org has too few accounts');
    const original = await readSourceRow(p, edited);
    await writeToSource(p, 'PATCH', edited, { name: 'first edit' });
    const firstEdit = await readSourceRow(p, edited);
    await writeToSource(p, 'PATCH', edited, { name: 'second edit' });
    const secondEdit = await readSourceRow(p, edited);
    const beforeDelete = await readSourceRow(p, deleted);
    await writeToSource(p, 'DELETE', deleted);
    expect(original.versionNumber).toBeLessThan(firstEdit.versionNumber);
    expect(firstEdit.versionNumber).toBeLessThan(secondEdit.versionNumber);
    await waitForConvergence(p, PROFILE, ['account']);
    const converged = await destinationVersions(p, PROFILE, 'account');
    const destination = await sqlDestination(p, PROFILE);
    const deleteLog = async () =>
      (await destination.readTable('DeleteLog')).filter((row) => String(row.RecordId).toLowerCase() === deleted);
    const logged = await deleteLog();
    expect(logged).toHaveLength(1);
    // The delete the poller sent carried the watermark of its delta token, which is where the checkpoint stands now.
    const watermark = (await p.deps.sync.checkpoints.read(PROFILE, 'account'))?.value.watermark ?? 0;
    expect(logged[0]?.VersionNumber).toBe(watermark);

    const source = { profile: PROFILE, table: 'account', readAt: new Date() };
    const upsert = (row: RowUpsert) => upsertBatches(source, [row], watermark);
    const deleteBatch = deleteBatches(source, [deleted], new Set(), watermark);
    await deliver(p, [
      ...upsert(firstEdit), // older after newer
      ...upsert(secondEdit), // the newest again
      ...upsert(secondEdit), // the same batch twice
      ...upsert(original), // oldest last
      ...deleteBatch, // the delete again
      ...deleteBatch,
      ...upsert(beforeDelete), // an upsert older than the delete, after it
    ]);

    expect(await destinationVersions(p, PROFILE, 'account')).toEqual(converged);
    expect(converged.get(edited)).toBe(secondEdit.versionNumber);
    expect(converged.has(deleted)).toBe(false);
    const rows = await destination.readRows('account');
    expect(rows.find((row) => String(row.Id) === edited)?.name).toBe('second edit');
    expect(await deleteLog()).toEqual(logged);
    expect((await p.call('GET', `profiles/${PROFILE}/failures`)).body).toEqual({ countsByTable: {}, records: [] });
    await waitForConvergence(p, PROFILE, ['account'], 5_000);
  }, 60_000);

  it('applies a batch polled before a deactivation that arrives after it, so activating again loses nothing', async () => {
    const p = product();
    // On a server: an in-memory PGlite would not outlive the runtime the deactivation closes.
    p.env.DVX_SECRET_PAUSED_DESTINATION = postgres();
    const profile = sampleProfile(p, {
      tables: ['account'],
      relationships: [],
      destination: {
        kind: 'sql',
        dialect: 'postgres',
        connection: { appSetting: 'DVX_SECRET_PAUSED_DESTINATION' },
        schema: 'paused',
        prefix: '',
      },
    });
    expect((await p.call('PUT', 'profiles/paused', profile)).status).toBe(201);
    expect((await p.call('POST', 'profiles/paused/activate')).status).toBe(202);
    await waitFor(
      'account in delta phase',
      async () =>
        (await p.deps.sync.checkpoints.read('paused', 'account'))?.value.phase === 'delta' ? true : undefined,
      30_000,
    );
    await waitForConvergence(p, 'paused', ['account']);
    const [, , gone] = [...sourceVersions(p.emulator, 'account').keys()];
    if (!gone) throw new Error('the sample org has too few accounts');
    expect((await p.call('POST', 'profiles/paused/deactivate')).status).toBe(200);
    // Deleted and polled while the profile was active; its batch was still queued when it was deactivated.
    await writeToSource(p, 'DELETE', gone);
    const watermark = (await p.deps.sync.checkpoints.read('paused', 'account'))?.value.watermark ?? 0;
    await deliver(
      p,
      deleteBatches({ profile: 'paused', table: 'account', readAt: new Date() }, [gone], new Set(), watermark + 1),
    );
    expect((await destinationVersions(p, 'paused', 'account')).has(gone)).toBe(false);
    expect((await p.call('POST', 'profiles/paused/activate')).status).toBe(202);
    await waitForConvergence(p, 'paused', ['account']);
  }, 60_000);
});
