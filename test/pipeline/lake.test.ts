import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { createWorkload } from '../../local/workload/workload';
import { sampleCounts } from '../../local/sample-org';
import type { Emulator } from '../../local/emulator/server';
import { maintainDestinations } from '../../shared/sync/admin/maintenance';
import { readLikeCdmUtil, readLikeDataverseToSql, type LakeRow } from '../lake/lake-readers';
import { compareRows, sourceRows, sourceTable } from '../../local/verify';
import { clearFaults, EMULATOR_TOKEN, sampleProfile, useProduct } from '../support/pipeline';
import { waitFor } from '../support/wait';

const ACCOUNTS = 30;
const product = useProduct({ emulator: { accounts: ACCOUNTS }, sync: { pageSize: 25, fanOut: 2 } });
const tables = ['account', 'contact', 'systemuser', 'role', 'systemuserroles'];
const CONTAINER = 'dataverse-e2e-lake';

interface StatusBody {
  tables: Array<{ table: string; phase: string; rowsInDestination: number | null }>;
}

/** The lake's rows of a table (as a reader reads them) against the source: missing, stale, extra, and every column's value. */
function differences(emulator: Emulator, table: string, lake: Map<string, LakeRow> | undefined): string[] {
  const difference = compareRows(
    sourceTable(emulator, table),
    sourceRows(emulator, table),
    lake ?? new Map<string, LakeRow>(),
    'lake',
  );
  return [
    ...difference.missingOrStale.map((id) => `${table} ${id} missing or at another version`),
    ...difference.extra.map((id) => `${table} ${id} extra`),
    ...difference.wrongValues,
  ];
}

describe('end to end on the local host into the lake (emulator → Azurite queue → append-only lake)', () => {
  it('activates a lake profile, copies every table, follows creates, updates, deletes, and reads back like DataverseToSql', async () => {
    const p = product();
    p.env.DVX_SECRET_LAKE_CONNECTION = p.azurite.connectionString;
    const container = BlobServiceClient.fromConnectionString(p.azurite.connectionString).getContainerClient(CONTAINER);
    const profile = sampleProfile(p, {
      destination: {
        kind: 'lake',
        storage: { connectionString: { appSetting: 'DVX_SECRET_LAKE_CONNECTION' } },
        container: CONTAINER,
        mode: 'appendOnly',
      },
    });
    const put = await p.call('PUT', 'profiles/lake', profile);
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    expect(JSON.stringify((await p.call('GET', 'profiles/lake')).body)).not.toContain(p.azurite.connectionString);

    const activated = await p.call('POST', 'profiles/lake/activate');
    expect(activated.status, JSON.stringify(activated.body)).toBe(202);
    const status = await waitFor(
      'every table in delta phase',
      async () => {
        const body = (await p.call('GET', 'profiles/lake/status')).body as StatusBody;
        return body.tables.length === tables.length && body.tables.every((table) => table.phase === 'delta')
          ? body
          : undefined;
      },
      45_000,
    );
    // The lake cannot count rows cheaply: status says so instead of guessing.
    expect(status.tables.map((table) => table.rowsInDestination)).toEqual(tables.map(() => null));

    // Every entity is Completed (DataverseToSql skips others) and holds exactly the source.
    const initial = await readLikeDataverseToSql(container);
    expect([...initial.keys()].sort()).toEqual([...tables].sort());
    expect(tables.flatMap((table) => differences(p.emulator, table, initial.get(table)))).toEqual([]);
    expect(initial.get('account')?.size).toBe(sampleCounts(ACCOUNTS).account);

    const counts = sampleCounts(ACCOUNTS);
    const workload = createWorkload({
      baseUrl: p.emulator.baseUrl,
      token: EMULATOR_TOKEN,
      seed: 7,
      sampleSeed: 3,
      rows: { account: counts.account, contact: counts.contact },
    });
    const done = [];
    for (let i = 0; i < 60; i++) done.push(await workload.step());
    expect(new Set(done.map((operation) => operation.kind))).toEqual(
      new Set(['create', 'update', 'delete', 'recreate']),
    );

    let last: string[] = [];
    await waitFor(
      'the lake equals the source after the changes',
      async () => {
        const lake = await readLikeDataverseToSql(container);
        last = ['account', 'contact'].flatMap((table) => differences(p.emulator, table, lake.get(table)));
        return last.length === 0 ? true : undefined;
      },
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; ${last.length} differences, first: ${last.slice(0, 5).join('; ')}`);
    });
    const failures = await p.call('GET', 'profiles/lake/failures');
    expect(failures.body).toMatchObject({ records: [] });
  });

  it('re-baselines a table whose delta token expired; the resync sweep removes a row deleted meanwhile', async () => {
    const p = product();
    const container = BlobServiceClient.fromConnectionString(p.azurite.connectionString).getContainerClient(CONTAINER);
    const [updated, deletedMeanwhile] = [...sourceRows(p.emulator, 'account').keys()];
    if (!updated || !deletedMeanwhile) throw new Error('not enough accounts');
    const write = async (method: 'PATCH' | 'DELETE', path: string, body?: unknown) => {
      const response = await fetch(`${p.emulator.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.status).toBe(204);
    };
    p.emulator.faults.set({ expiredTokens: true });
    try {
      await write('PATCH', `accounts(${updated})`, { name: 'changed while the token expired' });
      // A delete the expired token can no longer report: only the resync's sweep can remove this row from the lake.
      await write('DELETE', `accounts(${deletedMeanwhile})`);
      await waitFor(
        'account re-baselining',
        async () => {
          const body = (await p.call('GET', 'profiles/lake/status')).body as {
            tables: Array<{ table: string; lastError: { errorClass: string } | null }>;
          };
          return body.tables.find((table) => table.table === 'account')?.lastError?.errorClass === 'expired-token'
            ? true
            : undefined;
        },
        20_000,
      );
    } finally {
      clearFaults(p.emulator);
    }
    let last: string[] = [];
    await waitFor(
      'the lake equals the source after the resync',
      async () => {
        last = differences(p.emulator, 'account', (await readLikeDataverseToSql(container)).get('account'));
        return last.length === 0 ? true : undefined;
      },
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; ${last.length} differences, first: ${last.slice(0, 5).join('; ')}`);
    });
    const account = (await readLikeDataverseToSql(container)).get('account');
    expect(account?.has(deletedMeanwhile)).toBe(false);
    expect(account?.get(updated)?.name).toBe('changed while the token expired');
  });

  it('writes in-place snapshots from the maintenance run, which CDMUtil reads back as the source', async () => {
    const p = product();
    p.env.DVX_SECRET_LAKE_CONNECTION = p.azurite.connectionString;
    const name = 'dataverse-e2e-inplace';
    const container = BlobServiceClient.fromConnectionString(p.azurite.connectionString).getContainerClient(name);
    const profile = sampleProfile(p, {
      tables: ['account'],
      relationships: [],
      destination: {
        kind: 'lake',
        storage: { connectionString: { appSetting: 'DVX_SECRET_LAKE_CONNECTION' } },
        container: name,
        mode: 'inPlace',
        partitionGranularity: 'Month',
      },
    });
    expect((await p.call('PUT', 'profiles/inplace', profile)).status).toBe(201);
    expect((await p.call('POST', 'profiles/inplace/activate')).status).toBe(202);
    await waitFor(
      'account in delta phase',
      async () => {
        const body = (await p.call('GET', 'profiles/inplace/status')).body as StatusBody;
        return body.tables.every((table) => table.phase === 'delta') ? true : undefined;
      },
      30_000,
    );

    const maintained = await maintainDestinations(p.deps.sync);
    expect(maintained.find((result) => result.profile === 'inplace')).toMatchObject({
      outcome: 'done',
      done: [expect.stringMatching(/^snapshot of account in account\/Snapshot\//)],
    });
    // The append-only profile of the first test has nothing timed to do.
    expect(maintained.find((result) => result.profile === 'lake')).toMatchObject({ outcome: 'done', done: [] });

    const cdmUtil = await readLikeCdmUtil(container, `https://devstoreaccount1.dfs.core.windows.net/${name}`);
    const rows = cdmUtil.get('account')?.rows ?? [];
    const byId = new Map(rows.map((row) => [row.Id?.toLowerCase() ?? '', row]));
    expect(byId.size).toBe(rows.length);
    expect(differences(p.emulator, 'account', byId)).toEqual([]);
  });
});
