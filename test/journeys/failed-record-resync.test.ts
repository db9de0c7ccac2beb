import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import {
  EMULATOR_TOKEN,
  usePostgresServer,
  sampleProfile,
  sourceVersions,
  useProduct,
  waitForConvergence,
} from '../support/pipeline';
import { waitFor } from '../support/wait';

// A real PostgreSQL server rather than embedded PGlite: the test changes the destination's constraints from outside
// the product, as a DBA would, which an in-process PGlite owned by the host cannot offer.
const product = useProduct({ sync: { pageSize: 25, fanOut: 2 } });
const postgres = usePostgresServer();

async function destinationQuery(sql: string, values: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  const client = new Client({ connectionString: postgres() });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}

interface FailuresBody {
  records: Array<{ key: string; id: string }>;
}

describe('journey: a rejected row, resynced from the failed-records store', () => {
  it('keeps the newest reason while it still fails, then writes the row with its lookup types', async () => {
    const p = product();
    p.env.DVX_SECRET_RESYNC_DESTINATION = postgres();
    const profile = sampleProfile(p, {
      tables: ['account'],
      relationships: [],
      destination: {
        kind: 'sql',
        dialect: 'postgres',
        connection: { appSetting: 'DVX_SECRET_RESYNC_DESTINATION' },
        schema: 'journey',
      },
    });
    expect((await p.call('PUT', 'profiles/journey', profile)).status).toBe(201);
    expect((await p.call('POST', 'profiles/journey/activate')).status).toBe(202);
    await waitFor(
      'account in delta phase',
      async () =>
        (await p.deps.sync.checkpoints.read('journey', 'account'))?.value.phase === 'delta' ? true : undefined,
      30_000,
    );
    await waitForConvergence(p, 'journey', ['account']);
    const [id] = [...sourceVersions(p.emulator, 'account').keys()];
    if (!id) throw new Error('the sample org has no accounts');
    const ownerType = async () =>
      (await destinationQuery('SELECT owneridtype FROM journey.account WHERE "Id" = $1', [id]))[0]?.owneridtype;
    expect(await ownerType()).toBe('systemuser');

    await destinationQuery(`ALTER TABLE journey.account ADD CONSTRAINT first_rule CHECK (name NOT LIKE 'rejected%')`);
    const patched = await fetch(`${p.emulator.baseUrl}accounts(${id})`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'rejected by the destination' }),
    });
    expect(patched.status).toBe(204);
    const failures = await waitFor(
      'a failed record for the account',
      async () => {
        const body = (await p.call('GET', 'profiles/journey/failures')).body as FailuresBody;
        return body.records.length > 0 ? body : undefined;
      },
      20_000,
    );
    const key = failures.records[0]?.key ?? '';
    // The row is gone from the destination (as after a DBA's clean-up), so the resync alone writes it back.
    await destinationQuery('DELETE FROM journey.account WHERE "Id" = $1', [id]);

    await destinationQuery(
      `ALTER TABLE journey.account DROP CONSTRAINT first_rule, ADD CONSTRAINT second_rule CHECK (name NOT LIKE 'rejected%')`,
    );
    const again = await p.call('POST', 'profiles/journey/failures/resync', {});
    expect(again.body).toMatchObject({
      resolved: 0,
      stillFailing: [{ key, reason: expect.stringContaining('second_rule') }],
    });
    const kept = (await p.call('GET', `profiles/journey/failures/${key}`)).body as { reason: string };
    expect(kept.reason).toContain('second_rule');
    expect(kept.reason).not.toContain('first_rule');

    await destinationQuery('ALTER TABLE journey.account DROP CONSTRAINT second_rule');
    expect(await p.call('POST', 'profiles/journey/failures/resync', { keys: [key] })).toEqual({
      status: 200,
      body: { resolved: 1, stillFailing: [] },
    });
    // Written by the resync alone: the poller has long passed this version.
    expect(await ownerType()).toBe('systemuser');
    await waitForConvergence(p, 'journey', ['account']);
  }, 90_000);
});
