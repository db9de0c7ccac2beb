import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sampleCounts } from '../../local/sample-org';
import { compareTable, isEqual } from '../../local/verify';
import { createWorkload } from '../../local/workload/workload';
import { createPgConnection } from '../../shared/destinations/sql/pg-connection';
import { createSqlDestination } from '../../shared/destinations/sql/destination';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
import { ORCHESTRATION_INSTANCES_TABLE } from '../../local/host/host';
import { createStorageClients } from '../../shared/storage/clients';
import { PROCESS_EMULATOR_TOKEN, startProcessProduct, type ProcessProduct } from '../support/product-processes';
import { waitFor } from '../support/wait';

const ACCOUNTS = 120;
let product: ProcessProduct;
beforeAll(async () => {
  product = await startProcessProduct({ emulator: { seed: 5, accounts: ACCOUNTS }, pageSize: 20 });
}, 90_000);
afterAll(async () => product?.stop(), 60_000);

describe('the local host as its own process', () => {
  it('serves the API with the key; two of them on one storage run one product, and killing one loses nothing', async () => {
    const [first, second] = await Promise.all([product.startHost(), product.startHost()]);
    expect((await fetch(`${first.baseUrl}/health`)).status).toBe(401);
    expect((await first.call('GET', 'health')).status).toBe(200);

    expect((await first.call('PUT', 'profiles/two', product.postgresProfile('hostprocess'))).status).toBe(201);
    // Created through one process, activated through the other: they share the stores.
    expect((await second.call('POST', 'profiles/two/activate')).status).toBe(202);
    await waitFor(
      'both processes to see account in delta phase',
      async () => {
        const statuses = await Promise.all([first, second].map((host) => host.call('GET', 'profiles/two/status')));
        return statuses.every((status) => JSON.stringify(status.body).includes('"phase":"delta"')) ? true : undefined;
      },
      60_000,
    );

    await first.kill();
    expect(await first.exited).toBe('SIGKILL');
    expect(product.hosts).toEqual([second]);
    const workload = createWorkload({
      baseUrl: product.emulator.baseUrl,
      token: PROCESS_EMULATOR_TOKEN,
      seed: 9,
      sampleSeed: 5,
      rows: { account: sampleCounts(ACCOUNTS).account },
    });
    for (let index = 0; index < 40; index++) await workload.step();

    const connection = await createPgConnection(product.postgres.connectionString, 1);
    const destination = createSqlDestination(connection, postgresDialect, {
      schema: 'hostprocess',
      prefix: '',
      writeDeleteLog: false,
      widenOverlongStrings: true,
    });
    try {
      await waitFor(
        'the surviving process to apply the changes',
        async () => (isEqual(await compareTable(product.emulator, destination, 'account')) ? true : undefined),
        60_000,
      );
    } finally {
      await destination.close();
    }
  }, 180_000);

  it('runs an initial sync on one host only, and another host takes it over when that one is killed', async () => {
    const [owner, standby] = await Promise.all([product.startHost(), product.startHost()]);
    const instances = createStorageClients({
      kind: 'connectionString',
      connectionString: product.azurite.connectionString,
    }).table(ORCHESTRATION_INSTANCES_TABLE);
    const ownerOf = async () => {
      for await (const entity of instances.listEntities<{ owner?: string; runtimeStatus: string; input: string }>()) {
        if (entity.runtimeStatus === 'Running' && entity.input.includes('handover')) return entity.owner;
      }
      return undefined;
    };
    expect(
      (
        await owner.call(
          'PUT',
          'profiles/handover',
          product.postgresProfile('handover', { tables: ['account', 'contact'] }),
        )
      ).status,
    ).toBe(201);
    // Slow pages: the sync is still copying while the other hosts run their takeover scans.
    product.emulator.faults.set({ latencyMs: 1_500 });
    expect((await owner.call('POST', 'profiles/handover/activate')).status).toBe(202);
    const first = await waitFor('the sync to have an owner', ownerOf, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    expect(await ownerOf(), 'a live owner keeps its instance').toBe(first);

    await owner.kill();
    product.emulator.faults.set({ latencyMs: 0 });
    const next = await waitFor(
      'another host to take the sync over',
      async () => {
        const current = await ownerOf();
        return current && current !== first ? current : undefined;
      },
      40_000,
    );
    expect(next).not.toBe(first);
    await waitFor(
      'the sync to finish on the host that took it over',
      async () => {
        const status = await standby.call('GET', 'profiles/handover/status');
        const phases = z
          .object({ tables: z.array(z.object({ phase: z.string() })) })
          .parse(status.body)
          .tables.map((table) => table.phase);
        return phases.length === 2 && phases.every((phase) => phase === 'delta') ? true : undefined;
      },
      60_000,
    );
  }, 180_000);
});
