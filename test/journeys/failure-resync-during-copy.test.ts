import { describe, expect, it } from 'vitest';
import {
  EMULATOR_TOKEN,
  clearFaults,
  destinationVersions,
  sampleProfile,
  sourceVersions,
  useProduct,
  waitForConvergence,
} from '../support/pipeline';
import { waitFor } from '../support/wait';

const product = useProduct({ sync: { pageSize: 25, fanOut: 1 } });

const phase = async (p: ReturnType<typeof product>) =>
  (await p.deps.sync.checkpoints.read('copying', 'account'))?.value.phase;

describe('journey: a failed record resynced while its table is copied again', () => {
  it('keeps the record of a row deleted meanwhile until the copy is done, then resolves it', async () => {
    const p = product();
    const profile = sampleProfile(p, { tables: ['account'], relationships: [] });
    expect((await p.call('PUT', 'profiles/copying', profile)).status).toBe(201);
    expect((await p.call('POST', 'profiles/copying/activate')).status).toBe(202);
    await waitFor('account in delta phase', async () => ((await phase(p)) === 'delta' ? true : undefined), 30_000);
    await waitForConvergence(p, 'copying', ['account']);
    const [id] = [...sourceVersions(p.emulator, 'account').keys()];
    if (!id) throw new Error('the sample org has no accounts');

    // A record of an earlier failure of this row (the destination had refused it then).
    const [key] = await p.deps.sync.failedRecords.record([
      {
        profile: 'copying',
        table: 'account',
        id,
        changeType: 'upsert',
        failedAt: new Date().toISOString(),
        reason: 'refused earlier',
        errorClass: 'data',
        attempt: 1,
        batchId: 'journey-batch',
        payload: { accountid: id },
      },
    ]);
    // A slow source holds the table's resync in its copy while the row is deleted and the failures are resynced.
    p.emulator.faults.set({ latencyMs: 1_500 });
    expect((await p.call('POST', 'profiles/copying/tables/account/resync')).status).toBe(202);
    await waitFor('account in resync phase', async () => ((await phase(p)) === 'resync' ? true : undefined), 30_000);
    const deleted = await fetch(`${p.emulator.baseUrl}accounts(${id})`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${EMULATOR_TOKEN}` },
    });
    expect(deleted.status).toBe(204);
    expect(await phase(p)).toBe('resync');
    const during = await p.call('POST', 'profiles/copying/failures/resync', { keys: [key] });
    expect(during.body).toMatchObject({
      resolved: 0,
      stillFailing: [{ key, reason: expect.stringContaining('copied') }],
    });
    expect((await destinationVersions(p, 'copying', 'account')).has(id)).toBe(true);

    clearFaults(p.emulator);
    await waitFor(
      'account in delta phase again',
      async () => ((await phase(p)) === 'delta' ? true : undefined),
      60_000,
    );
    await waitForConvergence(p, 'copying', ['account']);
    expect(await p.call('POST', 'profiles/copying/failures/resync', { keys: [key] })).toEqual({
      status: 200,
      body: { resolved: 1, stillFailing: [] },
    });
  }, 120_000);
});
