import { chmodSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { POSTGRES_RUN_DIR, startPostgresServer } from '../support/postgres-server';
import { stopLeftoverClusters } from '../support/postgres-run-dir';

const canConnect = async (connectionString: string): Promise<boolean> => {
  const client = new Client({ connectionString, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
};

describe('the test run directory of throwaway PostgreSQL clusters', () => {
  it.skipIf(process.env.PG_CONNECTION_STRING)(
    'stops a cluster a test left running (as one that timed out) and removes it',
    async () => {
      const runDir = mkdtempSync(join(tmpdir(), 'dvx-pg-run-'));
      chmodSync(runDir, 0o755);
      const previous = process.env[POSTGRES_RUN_DIR];
      process.env[POSTGRES_RUN_DIR] = runDir;
      try {
        const server = await startPostgresServer();
        expect(await canConnect(server.connectionString)).toBe(true);
        expect(await stopLeftoverClusters(runDir)).toBe(1);
        expect(await canConnect(server.connectionString)).toBe(false);
        expect(existsSync(runDir)).toBe(false);
      } finally {
        if (previous === undefined) delete process.env[POSTGRES_RUN_DIR];
        else process.env[POSTGRES_RUN_DIR] = previous;
      }
    },
  );
});
