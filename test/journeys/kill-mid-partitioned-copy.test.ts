/**
 * Journey: a table read in partitions (several streams at once, docs/notes/parallel-initial-sync.md) loses its
 * host to SIGKILL while partitions are being copied; rows change in Dataverse while it is down. The host that
 * comes back finishes the copy from the partitions' checkpoints, and the table converges with the source: no
 * row missing, none stale, none extra. Real processes: Azurite, the emulator, a PostgreSQL server and the local
 * host as a child process (test/support/product-processes.ts).
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceVersions } from '../../local/verify';
import { sampleRowId } from '../../local/sample-org';
import { startProcessProduct, type ProcessProduct } from '../support/product-processes';
import { waitFor } from '../support/wait';

const ACCOUNTS = 4000;
const SCHEMA = 'partitionedkill';
const PROFILE = 'partitioned';
const SEED = 11;
let product: ProcessProduct;
/** The hosts' last log lines, shown when the journey fails. */
const hostLines: string[] = [];

beforeAll(async () => {
  product = await startProcessProduct({
    // 40 s per 5000-row page of every column: a 250-row partition takes 2 s, 4 at a time, so the 16 partitions of
    // the copy take about 8 s, long enough to catch it part-way.
    emulator: { seed: SEED, accounts: ACCOUNTS, contacts: 0, faults: { pageLatencyMs: 40_000, dopHint: 4 } },
    pageSize: 250,
    readStreams: 8,
    lockSeconds: 10,
    env: { LOG_LEVEL: 'information' },
    log: (line) => {
      hostLines.push(line);
      if (hostLines.length > 80) hostLines.shift();
    },
  });
}, 120_000);
afterAll(() => product?.stop(), 60_000);

async function destinationVersions(): Promise<Map<string, number>> {
  const client = new Client({ connectionString: product.postgres.connectionString });
  await client.connect();
  try {
    const result = await client
      .query<{ id: string; version: string }>(
        `SELECT "Id"::text AS id, "versionnumber"::text AS version FROM "${SCHEMA}"."account"`,
      )
      // Not created yet (42P01, undefined_table): activation creates it.
      .catch((error: unknown) => {
        if ((error as { code?: string }).code === '42P01') return { rows: [] };
        throw error;
      });
    return new Map(result.rows.map((row) => [row.id.toLowerCase(), Number(row.version)]));
  } finally {
    await client.end();
  }
}

function differences(source: Map<string, number>, destination: Map<string, number>): string[] {
  const wrong: string[] = [];
  for (const [id, version] of source)
    if (destination.get(id) !== version) wrong.push(`${id}: source ${version}, destination ${destination.get(id)}`);
  for (const id of destination.keys()) if (!source.has(id)) wrong.push(`${id}: extra in the destination`);
  return wrong;
}

describe('SIGKILL in the middle of a partitioned initial copy', () => {
  it('finishes after a restart with every row of the source, changes made meanwhile included', async () => {
    let host = await product.startHost();
    const call = async (method: string, route: string, body?: unknown) => {
      const response = await host.call(method, route, body);
      if (response.status >= 300)
        throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    };
    await call('PUT', `profiles/${PROFILE}`, product.postgresProfile(SCHEMA));
    await call('POST', `profiles/${PROFILE}/activate`);

    // Only partitions write rows (the key pass reads ids): some rows but not all means partitions are in flight.
    const copiedBeforeKill = await waitFor(
      'some partitions copied but not all',
      async () => {
        const rows = (await destinationVersions()).size;
        return rows > 0 && rows < ACCOUNTS ? rows : undefined;
      },
      60_000,
    ).catch(async (error: unknown) => {
      const rows = (await destinationVersions()).size;
      const status = JSON.stringify((await host.call('GET', `profiles/${PROFILE}/status`)).body).slice(0, 600);
      // The first failed record in full (its reason): why rows did not reach the destination.
      const listed = (await host.call('GET', `profiles/${PROFILE}/failures?pageSize=1`)).body as {
        records?: Array<{ key: string }>;
      };
      const first = listed.records?.[0];
      const failures = first
        ? JSON.stringify((await host.call('GET', `profiles/${PROFILE}/failures/${first.key}`)).body)
        : 'none';
      const stats = `${JSON.stringify(product.emulator.stats)}, destination rows ${rows}, status ${status}`;
      throw new Error(
        `${String(error)}\nemulator: ${stats}\nfailed records: ${failures.slice(0, 2000)}\nhost log:\n${hostLines.join('\n')}`,
      );
    });
    await host.kill();
    expect(copiedBeforeKill).toBeLessThan(ACCOUNTS);

    // Changes while no host runs, after the key pass took its token: the delta must bring them on top.
    const store = product.emulator.store;
    for (let index = 0; index < 20; index++)
      store.update('account', sampleRowId(SEED, 'account', index * 97), { name: `renamed ${index}` });
    for (let index = 1; index <= 10; index++) store.delete('account', sampleRowId(SEED, 'account', index * 89 + 1));
    for (let index = 0; index < 5; index++) store.create('account', { name: `created while down ${index}` });

    host = await product.startHost();
    const source = () => sourceVersions(product.emulator, 'account');
    const remaining = await waitFor(
      'the destination to converge with the source',
      async () => {
        const wrong = differences(source(), await destinationVersions());
        return wrong.length === 0 ? wrong : undefined;
      },
      70_000,
    ).catch(async (error: unknown) => {
      const wrong = differences(source(), await destinationVersions());
      throw new Error(`${String(error)}; ${wrong.length} rows differ, e.g. ${wrong.slice(0, 5).join('; ')}`);
    });
    expect(remaining).toEqual([]);
    const status = (await call('GET', `profiles/${PROFILE}/status`)) as {
      tables: Array<{ table: string; phase: string; failedRecords: number }>;
    };
    const account = status.tables.find((table) => table.table === 'account');
    expect(account?.phase).toBe('delta');
    // Every row applied, none parked as a failed record on the way.
    expect(account?.failedRecords).toBe(0);
    // Read by several streams at once, and never with the affinity cookie.
    expect(product.emulator.stats.maxConcurrent).toBeGreaterThan(1);
    expect(product.emulator.stats.affinityCookieRequests).toBe(0);
  }, 180_000);
});
