import { describe, expect, it } from 'vitest';
import { sampleCounts } from '../../local/sample-org';
import { createWorkload } from '../../local/workload/workload';
import {
  clearFaults,
  EMULATOR_TOKEN,
  usePostgresServer,
  sampleProfile,
  sourceVersions,
  sqlDestination,
  useProduct,
  waitForConvergence,
  type ProductUnderTest,
} from '../support/pipeline';
import { waitFor } from '../support/wait';

const product = useProduct({ sync: { pageSize: 25, fanOut: 2 } });
const postgres = usePostgresServer();

const PROFILE = 'server';
const TABLES = ['account', 'contact'];

const phaseOf = async (p: ProductUnderTest, table: string) =>
  (await p.deps.sync.checkpoints.read(PROFILE, table))?.value.phase;

async function writeToSource(
  p: ProductUnderTest,
  method: 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<void> {
  const response = await fetch(`${p.emulator.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.status).toBe(204);
}

describe('on a PostgreSQL server while Dataverse throttles, fails and expires delta tokens', () => {
  it('copies and follows the workload under 429s and 503s until destination = source', async () => {
    const p = product();
    p.env.DVX_SECRET_SERVER_DESTINATION = postgres();
    const profile = sampleProfile(p, {
      tables: TABLES,
      relationships: [],
      destination: {
        kind: 'sql',
        dialect: 'postgres',
        connection: { appSetting: 'DVX_SECRET_SERVER_DESTINATION' },
        schema: 'e2e',
        prefix: 'dv',
      },
    });
    expect((await p.call('PUT', `profiles/${PROFILE}`, profile)).status).toBe(201);
    p.emulator.faults.set({ throttleRate: 0.15, retryAfterSeconds: 0, unavailableRate: 0.15 });
    expect((await p.call('POST', `profiles/${PROFILE}/activate`)).status).toBe(202);
    await waitFor(
      'both tables in delta phase',
      async () =>
        (await Promise.all(TABLES.map((table) => phaseOf(p, table)))).every((phase) => phase === 'delta')
          ? true
          : undefined,
      40_000,
    );
    await waitForConvergence(p, PROFILE, TABLES);

    // The workload's own writes must not be refused; the pipeline's reads are, while it follows them.
    clearFaults(p.emulator);
    const counts = sampleCounts(60);
    const workload = createWorkload({
      baseUrl: p.emulator.baseUrl,
      token: EMULATOR_TOKEN,
      seed: 11,
      sampleSeed: 3,
      rows: { account: counts.account, contact: counts.contact },
    });
    for (let i = 0; i < 60; i++) await workload.step();
    p.emulator.faults.set({ throttleRate: 0.15, retryAfterSeconds: 0, unavailableRate: 0.15 });
    try {
      await waitForConvergence(p, PROFILE, TABLES, 40_000);
    } finally {
      clearFaults(p.emulator);
    }
    expect(p.emulator.stats.throttled).toBeGreaterThan(0);
    expect(p.emulator.stats.unavailable).toBeGreaterThan(0);
    expect((await p.call('GET', `profiles/${PROFILE}/failures`)).body).toEqual({ countsByTable: {}, records: [] });
  }, 90_000);

  it('re-baselines a table whose delta token expired and brings in the changes made meanwhile', async () => {
    const p = product();
    const [updated, deletedMeanwhile] = [...sourceVersions(p.emulator, 'account').keys()];
    if (!updated || !deletedMeanwhile) throw new Error('not enough accounts');
    p.emulator.faults.set({ expiredTokens: true });
    try {
      await writeToSource(p, 'PATCH', `accounts(${updated})`, { name: 'changed while the token expired' });
      await writeToSource(p, 'POST', 'accounts', { name: 'created while the token expired' });
      // A delete the expired token can no longer report: only the resync's sweep can remove this row.
      await writeToSource(p, 'DELETE', `accounts(${deletedMeanwhile})`);
      // The poller records the expired token after it has started the resync.
      const lastError = await waitFor(
        'account re-baselining',
        async () => {
          const status = (await p.call('GET', `profiles/${PROFILE}/status`)).body as {
            tables: Array<{ table: string; lastError: { errorClass: string; message: string } | null }>;
          };
          return status.tables.find((table) => table.table === 'account')?.lastError ?? undefined;
        },
        20_000,
      );
      expect(lastError).toMatchObject({ errorClass: 'expired-token' });
      expect(await phaseOf(p, 'account')).not.toBe('initial');
    } finally {
      clearFaults(p.emulator);
    }
    await waitFor(
      'account back in delta phase',
      async () => ((await phaseOf(p, 'account')) === 'delta' ? true : undefined),
      30_000,
    );
    await waitForConvergence(p, PROFILE, TABLES);
    const destination = await sqlDestination(p, PROFILE);
    const rows = await destination.readRows('account');
    expect(rows.map((row) => row.name)).toEqual(
      expect.arrayContaining(['changed while the token expired', 'created while the token expired']),
    );
    expect(rows.map((row) => row.Id)).not.toContain(deletedMeanwhile);
    const deleteLog = await destination.readTable('dv_DeleteLog');
    expect(deleteLog.map((row) => String(row.RecordId).toLowerCase())).toContain(deletedMeanwhile);
  }, 60_000);
});
