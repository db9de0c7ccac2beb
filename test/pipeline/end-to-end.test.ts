import { describe, expect, it } from 'vitest';
import { createWorkload, isRowOperation } from '../../local/workload/workload';
import { sampleCounts } from '../../local/sample-org';
import {
  clearFaults,
  EMULATOR_TOKEN,
  sampleProfile,
  sourceVersions,
  useProduct,
  waitForConvergence,
} from '../support/pipeline';
import { waitFor } from '../support/wait';

const product = useProduct({ sync: { pageSize: 25, fanOut: 2 } });
const tables = ['account', 'contact', 'systemuser', 'role', 'systemuserroles'];

interface StatusBody {
  state: string;
  initialSync: { runtimeStatus: string } | null;
  tables: Array<{ table: string; phase: string; rowsInDestination: number | null; failedRecords: number }>;
}

describe('end to end on the local host (emulator → Azurite queue → PGlite)', () => {
  it('activates a profile, copies every table, then follows creates, updates, deletes and delete-then-recreate', async () => {
    const p = product();
    const put = await p.call('PUT', 'profiles/sales', sampleProfile(p));
    expect(put.status, JSON.stringify(put.body)).toBe(201);

    const activated = await p.call('POST', 'profiles/sales/activate');
    expect(activated.status, JSON.stringify(activated.body)).toBe(202);
    expect(activated.body).toMatchObject({ instanceId: 'initial-sync-sales', tables });

    const status = await waitFor(
      'every table in delta phase',
      async () => {
        const response = await p.call('GET', 'profiles/sales/status');
        const body = response.body as StatusBody;
        return body.tables.length === tables.length && body.tables.every((table) => table.phase === 'delta')
          ? body
          : undefined;
      },
      90_000,
    );
    expect(status.state).toBe('active');
    const counts = sampleCounts(60);
    expect(status.tables.find((table) => table.table === 'account')?.rowsInDestination).toBe(counts.account);
    await waitForConvergence(p, 'sales', tables);

    const workload = createWorkload({
      baseUrl: p.emulator.baseUrl,
      token: EMULATOR_TOKEN,
      seed: 5,
      sampleSeed: 3,
      rows: { account: counts.account, contact: counts.contact },
    });
    const done = [];
    for (let i = 0; i < 120; i++) done.push(await workload.step());
    expect(new Set(done.map((operation) => operation.kind))).toEqual(
      new Set(['create', 'update', 'delete', 'recreate']),
    );
    await waitForConvergence(p, 'sales', ['account', 'contact'], 60_000);

    const recreated = done.filter(isRowOperation).filter((operation) => operation.kind === 'recreate');
    for (const operation of recreated) {
      if (workload.alive(operation.table).has(operation.id))
        expect(sourceVersions(p.emulator, operation.table).has(operation.id)).toBe(true);
    }
    const failures = await p.call('GET', 'profiles/sales/failures');
    expect(failures.body).toMatchObject({ records: [] });
  });

  it('answers 409 to a second activation while the initial sync runs, and 401 without a key', async () => {
    const p = product();
    await p.call('PUT', 'profiles/second', sampleProfile(p, { tables: ['account'], relationships: [] }));
    // Slow Dataverse down so the initial sync is certainly still running when the second request comes.
    p.emulator.faults.set({ latencyMs: 300 });
    try {
      const first = await p.call('POST', 'profiles/second/activate');
      expect(first.status).toBe(202);
      const again = await p.call('POST', 'profiles/second/activate');
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ error: { instanceId: 'initial-sync-second' } });
    } finally {
      clearFaults(p.emulator);
    }
    const unauthorized = await fetch(`${p.host.baseUrl}/profiles/second/status`);
    expect(unauthorized.status).toBe(401);
  });
});
