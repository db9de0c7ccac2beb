import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type RunningAzurite } from '../../local/azurite/azurite';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { startHostProcess, type HostProcess } from '../../local/host/process';
import { sampleCounts } from '../../local/sample-org';
import { compareTable, isEqual } from '../../local/verify';
import { createWorkload } from '../../local/workload/workload';
import { createPgConnection } from '../../shared/destinations/sql/pg-connection';
import { createSqlDestination } from '../../shared/destinations/sql/destination';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
import { usePostgresServer } from '../support/pipeline';
import { waitFor } from '../support/wait';

const KEY = 'host-process-test-key';
const TOKEN = 'host-process-emulator-token';
const postgres = usePostgresServer();
let azurite: RunningAzurite;
let emulator: Emulator;
const hosts: HostProcess[] = [];

beforeAll(async () => {
  azurite = await startAzurite({ inMemory: true });
  emulator = await startEmulator({ port: 0, seed: 5, accounts: 120, token: TOKEN });
}, 60_000);
afterAll(async () => {
  await Promise.all(hosts.map((host) => host.kill()));
  await emulator?.close();
  await azurite?.stop();
});

const start = async () => {
  const host = await startHostProcess({
    env: {
      AzureWebJobsStorage: azurite.connectionString,
      CHANGES_QUEUE: 'dataverse-changes',
      POLL_SCHEDULE: '* * * * * *',
      DV_TOKEN: TOKEN,
      DESTINATION: postgres(),
      LOG_LEVEL: 'warning',
    },
    functionKey: KEY,
    pageSize: 20,
  });
  hosts.push(host);
  return host;
};

describe('the local host as its own process', () => {
  it('serves the API with the key; two of them on one storage run one product, and killing one loses nothing', async () => {
    const [first, second] = await Promise.all([start(), start()]);
    expect((await fetch(`${first.baseUrl}/health`)).status).toBe(401);
    expect((await first.call('GET', 'health')).status).toBe(200);

    const profile = {
      source: { environmentUrl: emulator.baseUrl, auth: { kind: 'static-token', token: { appSetting: 'DV_TOKEN' } } },
      tables: ['account'],
      relationships: [],
      destination: { kind: 'sql', dialect: 'postgres', schema: 'hostprocess', connection: { appSetting: 'DESTINATION' } },
      retryCount: 2,
      retryIntervalSeconds: 0,
    };
    expect((await first.call('PUT', 'profiles/two', profile)).status).toBe(201);
    // Created through one process, activated through the other: they share the stores.
    expect((await second.call('POST', 'profiles/two/activate')).status).toBe(202);
    await waitFor('both processes to see account in delta phase', async () => {
      const statuses = await Promise.all([first, second].map((host) => host.call('GET', 'profiles/two/status')));
      return statuses.every((status) => JSON.stringify(status.body).includes('"phase":"delta"')) ? true : undefined;
    }, 60_000);

    await first.kill();
    expect(await first.exited).toBe('SIGKILL');
    const workload = createWorkload({ baseUrl: emulator.baseUrl, token: TOKEN, seed: 9, sampleSeed: 5, rows: { account: sampleCounts(120).account } });
    for (let index = 0; index < 40; index++) await workload.step();

    const connection = await createPgConnection(postgres(), 1);
    const destination = createSqlDestination(connection, postgresDialect, { schema: 'hostprocess', prefix: '', writeDeleteLog: false, widenOverlongStrings: true });
    try {
      await waitFor('the surviving process to apply the changes', async () => (isEqual(await compareTable(emulator, destination, 'account')) ? true : undefined), 60_000);
    } finally {
      await destination.close();
    }
  }, 180_000);
});
