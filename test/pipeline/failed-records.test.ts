import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import {
  EMULATOR_TOKEN,
  TEST_KEY,
  usePostgresServer,
  destinationVersions,
  sampleProfile,
  sourceVersions,
  useProduct,
  waitForConvergence,
} from '../support/pipeline';
import { waitFor } from '../support/wait';

// A password the trust-auth test server never asks for: it must still never show in a failed record or a response.
const PASSWORD = 'pg-secret-password-value';
const product = useProduct({ sync: { pageSize: 25, fanOut: 2 } });
const postgres = usePostgresServer();

interface FailuresBody {
  countsByTable: Record<string, number>;
  records: Array<{ key: string; table: string; id: string; changeType: string }>;
}
interface StatusBody {
  tables: Array<{ table: string; phase: string; failedRecords: number }>;
}

async function destinationSql(sql: string): Promise<void> {
  const client = new Client({ connectionString: postgres() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('a row the destination rejects', () => {
  it('ends in the failed-records store with its reason, shows in status, and resync fixes it once the cause is gone', async () => {
    const p = product();
    const url = new URL(postgres());
    url.password = PASSWORD;
    p.env.DVX_SECRET_FAILING_DESTINATION = url.toString();
    const profile = sampleProfile(p, {
      tables: ['account'],
      relationships: [],
      destination: {
        kind: 'sql',
        dialect: 'postgres',
        connection: { appSetting: 'DVX_SECRET_FAILING_DESTINATION' },
        schema: 'failing',
      },
    });
    expect((await p.call('PUT', 'profiles/failing', profile)).status).toBe(201);
    expect((await p.call('POST', 'profiles/failing/activate')).status).toBe(202);
    await waitFor(
      'account in delta phase',
      async () =>
        (await p.deps.sync.checkpoints.read('failing', 'account'))?.value.phase === 'delta' ? true : undefined,
      30_000,
    );
    await waitForConvergence(p, 'failing', ['account']);

    // A real data error: the destination refuses this one name, as a constraint added by a DBA would.
    await destinationSql(
      `ALTER TABLE failing.account ADD CONSTRAINT no_rejected_names CHECK (name NOT LIKE 'rejected%')`,
    );
    const [id] = [...sourceVersions(p.emulator, 'account').keys()];
    if (!id) throw new Error('the sample org has no accounts');
    const patched = await fetch(`${p.emulator.baseUrl}accounts(${id})`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'rejected by the destination' }),
    });
    expect(patched.status).toBe(204);

    const failures = await waitFor(
      'a failed record for the account',
      async () => {
        const body = (await p.call('GET', 'profiles/failing/failures')).body as FailuresBody;
        return body.records.length > 0 ? body : undefined;
      },
      20_000,
    );
    expect(failures.countsByTable).toEqual({ account: 1 });
    expect(failures.records).toEqual([expect.objectContaining({ table: 'account', id, changeType: 'upsert' })]);
    const status = (await p.call('GET', 'profiles/failing/status')).body as StatusBody;
    expect(status.tables).toEqual([expect.objectContaining({ table: 'account', phase: 'delta', failedRecords: 1 })]);

    const key = failures.records[0]?.key ?? '';
    const download = await fetch(`${p.host.baseUrl}/profiles/failing/failures/${key}`, {
      headers: { 'x-functions-key': TEST_KEY },
    });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename=".+\.json"$/);
    const text = await download.text();
    const record = JSON.parse(text) as {
      profile: string;
      table: string;
      id: string;
      reason: string;
      errorClass: string;
      payload: Record<string, unknown>;
    };
    expect(record).toMatchObject({
      profile: 'failing',
      table: 'account',
      id,
      errorClass: 'data',
      payload: { accountid: id, name: 'rejected by the destination' },
    });
    expect(record.reason).toContain('no_rejected_names');
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(EMULATOR_TOKEN);
    // The rest of the table keeps flowing; only the rejected row is behind.
    const before = (await destinationVersions(p, 'failing', 'account')).get(id);
    expect(before).toBeLessThan(sourceVersions(p.emulator, 'account').get(id) ?? 0);

    // While a cause is still there (the DBA swapped the rule for another), resync keeps the record under its key, with the new reason.
    await destinationSql(
      `ALTER TABLE failing.account DROP CONSTRAINT no_rejected_names, ADD CONSTRAINT second_rule_rejects CHECK (name NOT LIKE 'rejected%')`,
    );
    const stillFailing = await p.call('POST', 'profiles/failing/failures/resync', {});
    expect(stillFailing.status).toBe(200);
    expect(stillFailing.body).toMatchObject({
      resolved: 0,
      stillFailing: [{ key, reason: expect.stringContaining('second_rule_rejects') }],
    });
    const kept = (await p.call('GET', `profiles/failing/failures/${key}`)).body as { reason: string };
    expect(kept.reason).toContain('second_rule_rejects');

    await destinationSql('ALTER TABLE failing.account DROP CONSTRAINT second_rule_rejects');
    const resynced = await p.call('POST', 'profiles/failing/failures/resync', { table: 'account' });
    expect(resynced).toEqual({ status: 200, body: { resolved: 1, stillFailing: [] } });
    expect((await p.call('GET', 'profiles/failing/failures')).body).toEqual({ countsByTable: {}, records: [] });
    const after = (await p.call('GET', 'profiles/failing/status')).body as StatusBody;
    expect(after.tables).toEqual([expect.objectContaining({ table: 'account', failedRecords: 0 })]);
    await waitForConvergence(p, 'failing', ['account']);
  }, 60_000);
});
