/**
 * A local run the way `npm start` builds it from a data folder (local/start.ts): Azurite storing under the folder,
 * the emulator keeping its state file there (a new port on every start, as `--port 0` gives), and the product
 * host with DVX_DATA_DIR. Stopping stops all three; starting again on the same folder is a restart of `npm start`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { startAzurite, type RunningAzurite } from '../../../local/azurite/azurite';
import { consoleLog } from '../../../local/host/console-log';
import { startProductHost, type ProductHost } from '../../../local/host/product-host';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../../local/emulator/server';
import { EMULATOR_TOKEN, TEST_KEY } from '../../support/pipeline';

export interface LocalRun {
  azurite: RunningAzurite;
  emulator: Emulator;
  product: ProductHost;
  call(method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

export interface LocalRunOptions {
  dataDir: string;
  /** Emulator state file; the data folder's `emulator-state.json` when absent. */
  statePath?: string;
  /** A port for the emulator; 0 (a new one) when absent. */
  emulatorPort?: number;
  emulator?: EmulatorOptions;
}

export async function startLocalRun(options: LocalRunOptions): Promise<LocalRun> {
  const azurite = await startAzurite({ location: join(options.dataDir, 'azurite') });
  const emulator = await startEmulator({
    seed: 3,
    accounts: 40,
    token: EMULATOR_TOKEN,
    ...options.emulator,
    port: options.emulatorPort ?? 0,
    statePath: options.statePath ?? join(options.dataDir, 'emulator-state.json'),
  });
  const env: Record<string, string | undefined> = {
    AzureWebJobsStorage: azurite.connectionString,
    POLL_SCHEDULE: '* * * * * *',
    LAKE_MAINTENANCE_SCHEDULE: '0 * * * * *',
    CHANGES_QUEUE: 'dataverse-changes',
    DVX_SECRET_DV_TOKEN: EMULATOR_TOKEN,
    DVX_LOCAL_MODE: '1',
    DVX_DATA_DIR: options.dataDir,
  };
  const product = await startProductHost({
    env,
    port: 0,
    functionKey: TEST_KEY,
    log: consoleLog(process.env.TEST_HOST_LOG === '1' ? 'information' : 'none'),
    sync: { pageSize: 25, fanOut: 1 },
    polling: { minPollMs: 20, maxPollMs: 200, lockSeconds: 30 },
  });
  const call = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${product.host.baseUrl}/${route}`, {
      method,
      headers: { 'x-functions-key': TEST_KEY, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  return {
    azurite,
    emulator,
    product,
    call,
    async stop() {
      await product.close();
      await emulator.close();
      await azurite.stop();
    },
  };
}

/** The profile `npm start` puts (local/start.ts), on the run's emulator URL: PUT again on every start. */
export function startProfile(run: LocalRun, destination: Record<string, unknown> = { kind: 'sql', dialect: 'pglite' }) {
  return {
    source: {
      environmentUrl: run.emulator.baseUrl,
      auth: { kind: 'static-token', token: { appSetting: 'DVX_SECRET_DV_TOKEN' } },
    },
    tables: ['account', 'contact'],
    relationships: [],
    destination,
    writeDeleteLog: true,
    retryCount: 2,
    retryIntervalSeconds: 0,
  };
}

/**
 * A data folder for one journey, removed after it, with whatever run `current()` names stopped first (a journey
 * replaces its run when it restarts the product, so the run is read at the end, not now).
 */
export function useJourneyDataDir(name: string, current: () => LocalRun | undefined): string {
  const dataDir = mkdtempSync(join(tmpdir(), `dvexport-journey-${name}-`));
  afterAll(async () => {
    await current()?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);
  return dataDir;
}
