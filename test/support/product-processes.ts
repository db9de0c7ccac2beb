/**
 * The product as it runs deployed, on this machine: Azurite, the Dataverse emulator and a PostgreSQL 15
 * server in this process's care, and one or more local hosts as child processes on the same storage and
 * queue (a scaled-out Function App). Used by the benchmarks and the chaos suite, which need hosts that
 * can be killed without warning and measured on their own (RSS, CPU).
 */
import { startAzurite, type RunningAzurite } from '../../local/azurite/azurite';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../local/emulator/server';
import { startHostProcess, type HostProcess, type HostProcessOptions } from '../../local/host/process';
import { startPostgresServer, type PostgresServer, type PostgresServerOptions } from './postgres-server';

export const PROCESS_FUNCTION_KEY = 'process-product-function-key';
export const PROCESS_EMULATOR_TOKEN = 'process-product-emulator-token';

export interface ProcessProductOptions {
  emulator?: Partial<EmulatorOptions>;
  postgres?: PostgresServerOptions;
  /** Extra host settings (each host gets the same). */
  env?: Record<string, string>;
  pageSize?: number;
  fanOut?: number;
  /** Streams reading one table's initial load at once (local/host/process.ts). */
  readStreams?: number;
  lockSeconds?: number;
  /** How long a host may take to answer its first request (local/host/process.ts; 60 s when absent). */
  startTimeoutMs?: number;
  /** Receives every host's log lines, prefixed with the host's number. */
  log?: (line: string) => void;
}

export interface ProcessProduct {
  azurite: RunningAzurite;
  emulator: Emulator;
  postgres: PostgresServer;
  /** The hosts started so far that are still meant to be running. */
  hosts: HostProcess[];
  env: Record<string, string>;
  /** Starts one more host process on the same storage, queue and destination. */
  startHost(): Promise<HostProcess>;
  /** A profile for the emulator's sample org into the PostgreSQL server (schema `schema`). */
  postgresProfile(schema: string, overrides?: Record<string, unknown>): Record<string, unknown>;
  stop(): Promise<void>;
}

export async function startProcessProduct(options: ProcessProductOptions = {}): Promise<ProcessProduct> {
  const azurite = await startAzurite({ inMemory: true });
  const emulator = await startEmulator({
    port: 0,
    seed: 3,
    accounts: 100,
    token: PROCESS_EMULATOR_TOKEN,
    ...options.emulator,
  });
  const postgres = await startPostgresServer(options.postgres);
  const env = {
    AzureWebJobsStorage: azurite.connectionString,
    CHANGES_QUEUE: 'dataverse-changes',
    POLL_SCHEDULE: '* * * * * *',
    LAKE_MAINTENANCE_SCHEDULE: '0 * * * * *',
    DVX_SECRET_DV_TOKEN: PROCESS_EMULATOR_TOKEN,
    DVX_LOCAL_MODE: '1',
    DVX_SECRET_DESTINATION: postgres.connectionString,
    LOG_LEVEL: 'warning',
    ...options.env,
  };
  const product: ProcessProduct = {
    azurite,
    emulator,
    postgres,
    hosts: [],
    env,
    async startHost() {
      const number = product.hosts.length + 1;
      const hostOptions: HostProcessOptions = {
        env,
        functionKey: PROCESS_FUNCTION_KEY,
        ...(options.pageSize ? { pageSize: options.pageSize } : {}),
        ...(options.fanOut ? { fanOut: options.fanOut } : {}),
        ...(options.readStreams ? { readStreams: options.readStreams } : {}),
        ...(options.lockSeconds ? { lockSeconds: options.lockSeconds } : {}),
        ...(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {}),
        ...(options.log ? { log: (line: string) => options.log?.(`[host ${number}] ${line}`) } : {}),
      };
      const host = await startHostProcess(hostOptions);
      product.hosts.push(host);
      void host.exited.then(() => {
        const index = product.hosts.indexOf(host);
        if (index >= 0) product.hosts.splice(index, 1);
      });
      return host;
    },
    postgresProfile(schema, overrides = {}) {
      return {
        source: {
          environmentUrl: emulator.baseUrl,
          auth: { kind: 'static-token', token: { appSetting: 'DVX_SECRET_DV_TOKEN' } },
        },
        tables: ['account'],
        relationships: [],
        destination: { kind: 'sql', dialect: 'postgres', schema, connection: { appSetting: 'DVX_SECRET_DESTINATION' } },
        retryCount: 2,
        retryIntervalSeconds: 0,
        ...overrides,
      };
    },
    async stop() {
      await Promise.all(product.hosts.map((host) => host.kill()));
      await emulator.close();
      await azurite.stop();
      await postgres.stop();
    },
  };
  return product;
}
