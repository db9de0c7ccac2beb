/**
 * The parts `npm start` runs and stops together: the data folder, Azurite, the Dataverse emulator, the product
 * host and the psql server over the embedded database. Stopping says which of them it stopped, in one line.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { ExportError } from '../shared/errors';
import { embeddedStartParams, openEmbeddedDatabase } from '../shared/destinations/sql/pglite-connection';
import { startAzurite, type RunningAzurite } from './azurite/azurite';
import { UsageError, type StartOptions } from './cli/options';
import { claimDataFolder, type DataFolder } from './data-folder';
import { serveEmbeddedDatabase, type EmbeddedPsql } from './embedded-psql';
import { startEmulator, type Emulator } from './emulator/server';
import { loadOrCreateFunctionKey } from './function-key';
import type { HostLog } from './host/console-log';
import { startProductHost, type ProductHost } from './host/product-host';

export const SAMPLE_SEED = 1;

export interface Running {
  folder?: DataFolder;
  azurite?: RunningAzurite;
  emulator?: Emulator;
  product?: ProductHost;
  psql?: EmbeddedPsql;
  /** The change generator and the periodic status line. */
  timers?: NodeJS.Timeout[];
}

export interface FunctionKeyChoice {
  key: string;
  /** How the banner describes it: from the settings, new, or the one an earlier run saved. */
  origin: 'settings' | 'new' | 'saved' | 'this run';
  file?: string;
}

const isAddressInUse = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'EADDRINUSE';

export const portTaken = (flag: string, port: number): UsageError =>
  new UsageError(
    `port ${port} is already in use (another npm start or func host?); try ${flag} 0 to pick a free port`,
    1,
  );

/** Fails in one line before anything starts when the port is taken (the host checks again when it binds). */
export async function assertPortFree(port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error) => reject(isAddressInUse(error) ? portTaken('--port', port) : error));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

/** The folder a run keeps its data in; none for --once or when storage comes from the settings. */
export async function claimFolder(
  options: StartOptions,
  env: Record<string, string | undefined>,
  running: Running,
  log: HostLog,
): Promise<string | undefined> {
  if (options.once || env.AzureWebJobsStorage) return undefined;
  const root = path.resolve(options.data);
  const folder = await claimDataFolder(root);
  running.folder = folder;
  if (!folder.shared)
    log.warn(
      `another 'npm start' holds ${path.join(options.data, 'local')}; this run keeps its data in ${folder.location} and removes it on exit`,
    );
  return folder.location;
}

export async function startBackingServices(
  options: StartOptions,
  env: Record<string, string | undefined>,
  dataDir: string | undefined,
  running: Running,
): Promise<void> {
  if (!env.AzureWebJobsStorage) {
    running.azurite = await startAzurite(dataDir ? { location: path.join(dataDir, 'azurite') } : { inMemory: true });
    env.AzureWebJobsStorage = running.azurite.connectionString;
  }
  if (!options.dataverse) {
    const token = env.DATAVERSE_TOKEN ?? randomBytes(16).toString('hex');
    running.emulator = await startEmulator({
      port: 0,
      seed: SAMPLE_SEED,
      accounts: options.scale,
      token,
      ...(dataDir ? { statePath: path.join(dataDir, 'emulator-state.json') } : {}),
    });
    env.DATAVERSE_TOKEN = token;
  }
}

/**
 * Creates the embedded database's folder (PGlite's initdb) in a short-lived child process when it does not
 * exist yet, so the destination only reopens it. Done in this process, initdb's WebAssembly memory stayed
 * resident for the whole run (about 350 MB of the 1 GB `npm start` held; BENCHMARKS.md, start-memory).
 */
export async function prepareEmbeddedDatabase(folder: string): Promise<void> {
  if (existsSync(path.join(folder, 'PG_VERSION'))) return;
  await mkdir(path.dirname(folder), { recursive: true });
  // The destination's memory settings, so the child's peak is lower too (it runs them once initdb is done).
  const child = fork(path.join(__dirname, 'start-initdb.cjs'), [folder, ...embeddedStartParams()], {
    // Plain CommonJS, like Azurite's runner: no tsx loader needed.
    execArgv: [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0)
    throw new ExportError('config', `Creating the embedded database in ${folder} failed: ${stderr.trim()}`, {
      where: folder,
      fix: 'Remove the folder (it holds no synced data yet) and run npm start again.',
    });
}

export async function chooseFunctionKey(
  env: Record<string, string | undefined>,
  dataDir: string | undefined,
): Promise<FunctionKeyChoice> {
  if (env.LOCAL_FUNCTION_KEY) return { key: env.LOCAL_FUNCTION_KEY, origin: 'settings' };
  if (!dataDir) return { key: randomBytes(24).toString('base64url'), origin: 'this run' };
  const stored = await loadOrCreateFunctionKey(dataDir);
  return { key: stored.key, origin: stored.isNew ? 'new' : 'saved', file: stored.file };
}

export async function startHost(
  options: {
    env: Record<string, string | undefined>;
    port: number;
    functionKey: string;
    log: HostLog;
    sync?: { pageSize: number };
  },
  running: Running,
): Promise<ProductHost> {
  try {
    running.product = await startProductHost(options);
    return running.product;
  } catch (error) {
    throw isAddressInUse(error) ? portTaken('--port', options.port) : error;
  }
}

/** Serves the profile's embedded database to psql; only once the destination has opened it. */
export async function servePsql(
  product: ProductHost,
  profile: string,
  dataDir: string,
  port: number,
  running: Running,
): Promise<EmbeddedPsql | undefined> {
  await product.deps.sync.runtimes.get(profile);
  const db = openEmbeddedDatabase(path.join(dataDir, 'databases', profile));
  if (!db) return undefined;
  try {
    running.psql = await serveEmbeddedDatabase(db, port);
    return running.psql;
  } catch (error) {
    throw isAddressInUse(error) ? portTaken('--psql-port', port) : error;
  }
}

/** Stops whatever runs, last started first; returns what it stopped, for the one line Ctrl-C leaves. */
export async function stopAll(running: Running): Promise<string[]> {
  const stopped: string[] = [];
  for (const timer of running.timers ?? []) clearInterval(timer);
  if (running.psql) await running.psql.stop().then(() => stopped.push('psql server'));
  if (running.product) await running.product.close().then(() => stopped.push('host'));
  if (running.emulator) await running.emulator.close().then(() => stopped.push('emulator'));
  if (running.azurite) await running.azurite.stop().then(() => stopped.push('Azurite'));
  await running.folder?.release();
  return stopped;
}
