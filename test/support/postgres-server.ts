/**
 * A throwaway PostgreSQL 15 cluster for tests and benchmarks: initdb into a temp dir (trust auth),
 * postgres on a free localhost port with its socket in the same dir, stopped and removed on teardown.
 * Set PG_CONNECTION_STRING to use an existing server instead (CI services, a developer's own server).
 */
import { spawn, execFile } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);
/** Where a test run keeps its clusters (set by `postgres-run-dir.ts`, which stops leftovers); the temp dir otherwise. */
export const POSTGRES_RUN_DIR = 'DVX_POSTGRES_RUN_DIR';
const BIN = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
const SERVICE_USER = 'postgres';

export interface PostgresServer {
  connectionString: string;
  /** Stops the cluster and deletes its directory; a no-op for PG_CONNECTION_STRING. */
  stop(): Promise<void>;
}

/** postgres refuses to run as root, so when we are root every server command runs as the postgres user. */
const isRoot = (): boolean => process.getuid?.() === 0;
const asServiceUser = (command: string, args: string[]): [string, string[]] =>
  isRoot() ? ['runuser', ['-u', SERVICE_USER, '--', command, ...args]] : [command, args];

/** `pg_ctl -D dataDir …`, as the postgres user when we are root. */
export const pgCtl = (dataDir: string, args: string[]): [string, string[]] =>
  asServiceUser(join(BIN, 'pg_ctl'), ['-D', dataDir, ...args]);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(connectionString: string, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new Client({ connectionString });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not start within 30 s:\n${log()}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export interface PostgresServerOptions {
  /** More server settings (`-c name=value`), e.g. track_commit_timestamp for the delta-latency benchmark. */
  settings?: Record<string, string>;
}

export async function startPostgresServer(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const external = process.env.PG_CONNECTION_STRING;
  if (external) return { connectionString: external, stop: async () => undefined };

  const root = mkdtempSync(join(process.env[POSTGRES_RUN_DIR] ?? tmpdir(), 'dvx-pg-'));
  if (isRoot()) {
    const { stdout } = await run('id', ['-u', SERVICE_USER]);
    const { stdout: group } = await run('id', ['-g', SERVICE_USER]);
    chownSync(root, Number(stdout.trim()), Number(group.trim()));
  }
  const dataDir = join(root, 'data');
  const [initdb, initdbArgs] = asServiceUser(join(BIN, 'initdb'), [
    '-D',
    dataDir,
    '-A',
    'trust',
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  await run(initdb, initdbArgs);

  const port = await freePort();
  // Durability settings are off: these clusters hold throwaway test data and fsync only slows tests down.
  const [postgres, postgresArgs] = asServiceUser(join(BIN, 'postgres'), [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-k',
    root,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=50',
    ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ]);
  const child = spawn(postgres, postgresArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const connectionString = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  try {
    await waitUntilReady(connectionString, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    throw error;
  }

  return {
    connectionString,
    stop: async () => {
      const [command, args] = pgCtl(dataDir, ['stop', '-m', 'fast', '-w']);
      await run(command, args).catch(() => child.kill('SIGKILL'));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
