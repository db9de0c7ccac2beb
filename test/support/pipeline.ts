/**
 * The whole product on the local host for end-to-end tests: Azurite, the Dataverse emulator, the function
 * table with real adapters, and helpers to compare the destination with the source row by row.
 */
import { afterAll, beforeAll } from 'vitest';
import type { FunctionDeps } from '../../functions/deps';
import { startAzurite, type RunningAzurite } from '../../local/azurite/azurite';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../local/emulator/server';
import { consoleLog } from '../../local/host/console-log';
import type { LocalHost } from '../../local/host/host';
import { startProductHost, type ProductHost } from '../../local/host/product-host';
import type { SyncOptions } from '../../shared/sync/wiring/services';
import { compareTable, describeDifference, destinationVersions as versionsIn, versionsEqual } from '../../local/verify';
import { startPostgresServer, type PostgresServer } from './postgres-server';
import { isSqlDestination, type SqlDestination } from '../../shared/destinations/sql/destination';
import { waitFor } from './wait';

export { sourceVersions } from '../../local/verify';

export const TEST_KEY = 'pipeline-test-function-key';
export const EMULATOR_TOKEN = 'emulator-test-token-value';

export interface ProductUnderTest {
  azurite: RunningAzurite;
  emulator: Emulator;
  host: LocalHost;
  deps: FunctionDeps;
  env: Record<string, string | undefined>;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** Starts the host again on the same Azurite and emulator (a restart after a crash). */
  restartHost(): Promise<void>;
}

export interface ProductOptions {
  emulator?: EmulatorOptions;
  sync?: Partial<SyncOptions>;
  env?: Record<string, string>;
  /** Receives every line the host logs, at every level (for tests that inspect logs). */
  logLines?: (line: string) => void;
}

export async function startProduct(options: ProductOptions = {}): Promise<ProductUnderTest> {
  const azurite = await startAzurite({ inMemory: true });
  const emulator = await startEmulator({ port: 0, seed: 3, accounts: 60, token: EMULATOR_TOKEN, ...options.emulator });
  const env: Record<string, string | undefined> = {
    AzureWebJobsStorage: azurite.connectionString,
    POLL_SCHEDULE: '* * * * * *',
    LAKE_MAINTENANCE_SCHEDULE: '0 * * * * *',
    CHANGES_QUEUE: 'dataverse-changes',
    DVX_SECRET_DV_TOKEN: EMULATOR_TOKEN,
    // A local run: the emulator on loopback and PGlite are allowed (shared/security/policy.ts).
    DVX_LOCAL_MODE: '1',
    ...options.env,
  };
  const product = { azurite, emulator, env } as ProductUnderTest;
  let running: ProductHost | undefined;
  const startHost = async () => {
    running = await startProductHost({
      env,
      port: 0,
      functionKey: TEST_KEY,
      log: options.logLines
        ? consoleLog('trace', options.logLines)
        : consoleLog(process.env.TEST_HOST_LOG === '1' ? 'information' : 'none'),
      ...(options.sync ? { sync: options.sync } : {}),
      polling: { minPollMs: 20, maxPollMs: 200, lockSeconds: 30 },
    });
    product.host = running.host;
    product.deps = running.deps;
  };
  await startHost();
  product.call = async (method, path, body) => {
    const response = await fetch(`${product.host.baseUrl}/${path}`, {
      method,
      headers: { 'x-functions-key': TEST_KEY, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  product.restartHost = async () => {
    await running?.close();
    await startHost();
  };
  return product;
}

export async function stopProduct(product: ProductUnderTest | undefined): Promise<void> {
  if (!product) return;
  await product.host?.close();
  await product.deps?.sync.runtimes.closeAll();
  await product.deps?.sync.queue.close();
  await product.emulator.close();
  await product.azurite.stop();
}

export function useProduct(options: ProductOptions = {}): () => ProductUnderTest {
  let product: ProductUnderTest | undefined;
  beforeAll(async () => {
    product = await startProduct(options);
  }, 120_000);
  afterAll(async () => stopProduct(product), 60_000);
  return () => {
    if (!product) throw new Error('the product is not started');
    return product;
  };
}

/** A profile body for the emulator's sample org, exporting into embedded PGlite. */
export function sampleProfile(
  product: ProductUnderTest,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    source: {
      environmentUrl: product.emulator.baseUrl,
      auth: { kind: 'static-token', token: { appSetting: 'DVX_SECRET_DV_TOKEN' } },
    },
    tables: ['account', 'contact', 'systemuser', 'role'],
    relationships: ['systemuserroles_association'],
    destination: { kind: 'sql', dialect: 'pglite' },
    writeDeleteLog: true,
    retryCount: 2,
    retryIntervalSeconds: 0,
    ...overrides,
  };
}

/** Turns every emulator fault off (`faults.set` keeps the settings it is not given). */
export function clearFaults(emulator: Emulator): void {
  emulator.faults.set({ throttleRate: 0, unavailableRate: 0, latencyMs: 0, expiredTokens: false, forbidden: false });
}

/** The profile's destination as the SQL destination it is in these tests (reads rows and tables). */
export async function sqlDestination(product: ProductUnderTest, profile: string): Promise<SqlDestination> {
  const { destination } = await product.deps.sync.runtimes.get(profile);
  if (!isSqlDestination(destination)) throw new Error(`Profile '${profile}' does not export to SQL`);
  return destination;
}

/** id → versionnumber of every row of a destination table. */
export async function destinationVersions(
  product: ProductUnderTest,
  profile: string,
  table: string,
): Promise<Map<string, number>> {
  const { destination } = await product.deps.sync.runtimes.get(profile);
  return versionsIn(destination, table);
}

/**
 * Waits until the destination holds exactly the source's rows at the source's versions, then holds every
 * column of them against the source: a wrong value fails at once (a row at the source's version is not
 * rewritten, so waiting longer cannot fix it).
 */
export async function waitForConvergence(
  product: ProductUnderTest,
  profile: string,
  tables: string[],
  timeoutMs = 60_000,
): Promise<void> {
  let last = '';
  const wrong: string[] = [];
  await waitFor(
    `destination = source for ${tables.join(', ')}`,
    async () => {
      const { destination } = await product.deps.sync.runtimes.get(profile);
      for (const table of tables) {
        const difference = await compareTable(product.emulator, destination, table);
        if (!versionsEqual(difference)) {
          last = describeDifference(difference);
          return undefined;
        }
        if (difference.wrongValueCount > 0) wrong.push(describeDifference(difference));
      }
      return true;
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last difference: ${last}`);
  });
  if (wrong.length > 0)
    throw new Error(`destination rows at the source's versions hold other values: ${wrong.join(' | ')}`);
}

/** A PostgreSQL server for one test file: started before its tests, stopped after them; the getter gives its connection string. */
export function usePostgresServer(): () => string {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgresServer();
  }, 60_000);
  afterAll(async () => server?.stop());
  return () => {
    if (!server) throw new Error('the PostgreSQL server is not started');
    return server.connectionString;
  };
}
