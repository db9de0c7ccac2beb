/**
 * Vitest global setup: every throwaway PostgreSQL cluster of one test run lives under one directory, and the
 * run's teardown stops whatever is still running there. A test that times out never reaches its own `stop()`,
 * and `runuser` does not pass its parent's death on to postgres, so without this its server outlives the run.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { POSTGRES_RUN_DIR, pgCtl } from './postgres-server';

const run = promisify(execFile);

/** Stops every cluster under `runDir` that is still running and removes the directory. Returns how many it stopped. */
export async function stopLeftoverClusters(runDir: string): Promise<number> {
  let stopped = 0;
  for (const entry of existsSync(runDir) ? readdirSync(runDir) : []) {
    const dataDir = join(runDir, entry, 'data');
    if (!existsSync(join(dataDir, 'postmaster.pid'))) continue;
    const [command, args] = pgCtl(dataDir, ['stop', '-m', 'immediate', '-w']);
    await run(command, args).then(
      () => (stopped += 1),
      () => undefined,
    );
  }
  rmSync(runDir, { recursive: true, force: true });
  return stopped;
}

export default function setup(): () => Promise<void> {
  const runDir = mkdtempSync(join(tmpdir(), 'dvx-pg-run-'));
  // The clusters inside belong to the postgres user when the tests run as root: it must be able to reach them.
  chmodSync(runDir, 0o755);
  process.env[POSTGRES_RUN_DIR] = runDir;
  return async () => {
    await stopLeftoverClusters(runDir);
  };
}
