import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleCounts } from '../../local/sample-org';
import { compareTable, isEqual } from '../../local/verify';
import { createWorkload } from '../../local/workload/workload';
import { createPgConnection } from '../../shared/destinations/sql/pg-connection';
import { createSqlDestination } from '../../shared/destinations/sql/destination';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
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
    await waitFor('both processes to see account in delta phase', async () => {
      const statuses = await Promise.all([first, second].map((host) => host.call('GET', 'profiles/two/status')));
      return statuses.every((status) => JSON.stringify(status.body).includes('"phase":"delta"')) ? true : undefined;
    }, 60_000);

    await first.kill();
    expect(await first.exited).toBe('SIGKILL');
    expect(product.hosts).toEqual([second]);
    const workload = createWorkload({ baseUrl: product.emulator.baseUrl, token: PROCESS_EMULATOR_TOKEN, seed: 9, sampleSeed: 5, rows: { account: sampleCounts(ACCOUNTS).account } });
    for (let index = 0; index < 40; index++) await workload.step();

    const connection = await createPgConnection(product.postgres.connectionString, 1);
    const destination = createSqlDestination(connection, postgresDialect, { schema: 'hostprocess', prefix: '', writeDeleteLog: false, widenOverlongStrings: true });
    try {
      await waitFor('the surviving process to apply the changes', async () => (isEqual(await compareTable(product.emulator, destination, 'account')) ? true : undefined), 60_000);
    } finally {
      await destination.close();
    }
  }, 180_000);
});
