/**
 * Journey: `npm start` (local/start.ts) gets Ctrl-C (SIGINT) in the middle of its initial sync and is started
 * again on the same data folder. It must continue from the page checkpoints (pages copied before are not read
 * again from the first page) and the destination must end equal to the source. The source is an emulator this
 * test owns, given with --dataverse, so it stays on one URL across both runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { sampleCounts } from '../../local/sample-org';
import { compareTable, describeDifference, isEqual } from '../../local/verify';
import { createPgliteConnection } from '../../shared/destinations/sql/pglite-connection';
import { createSqlDestination } from '../../shared/destinations/sql/destination';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
import { waitFor } from '../support/wait';

const repoRoot = path.resolve(__dirname, '../..');
const key = 'journey-start-function-key';
const token = 'journey-start-emulator-token';
const PAGE_SIZE = 100;
const TABLES = ['account', 'contact', 'opportunity', 'systemuser', 'role', 'systemuserroles'];

// Inside the repository (.data is ignored by git): Azurite's child process resolves tsx from its data folder.
mkdirSync(path.join(repoRoot, '.data'), { recursive: true });
const dataDir = mkdtempSync(path.join(repoRoot, '.data', 'journey-start-resume-'));
let emulator: Emulator;
const children: ChildProcess[] = [];
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: 1, accounts: 1_000, token });
}, 60_000);
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await emulator?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const statusBody = z.object({
  tables: z.array(z.object({ table: z.string(), phase: z.string(), pages: z.number() })),
});

async function start(): Promise<{ child: ChildProcess; apiUrl: string; output: () => string }> {
  const args = ['--import', 'tsx', 'local/start.ts', '--port', '0', '--dataverse', emulator.baseUrl];
  args.push('--data', dataDir, '--page-size', String(PAGE_SIZE), '--changes-per-second', '0');
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, LOCAL_FUNCTION_KEY: key, DATAVERSE_TOKEN: token, AzureWebJobsStorage: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor('the start banner', () => (output.includes('Press Ctrl-C to stop.') ? true : undefined), 150_000).catch(
    (error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    },
  );
  const apiUrl = /API: (http:\/\/\S+)/.exec(output)?.[1];
  expect(apiUrl, output).toBeDefined();
  return { child, apiUrl: apiUrl as string, output: () => output };
}

/** The profile's tables, or none before start.ts has created and activated it. */
async function tablesOf(apiUrl: string) {
  const response = await fetch(`${apiUrl}/profiles/sample/status`, { headers: { 'x-functions-key': key } });
  const parsed = statusBody.safeParse(await response.json().catch(() => undefined));
  return parsed.success ? parsed.data.tables : [];
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );

describe('npm start stopped with Ctrl-C during the initial sync', () => {
  it('continues from the checkpoints on the next start and converges', async () => {
    emulator.faults.set({ latencyMs: 100 });
    const first = await start();
    await waitFor(
      'a few copied pages',
      async () => {
        const tables = await tablesOf(first.apiUrl);
        return tables.reduce((sum, table) => sum + table.pages, 0) >= 6 ? true : undefined;
      },
      60_000,
    );
    first.child.kill('SIGINT');
    expect(await exited(first.child), first.output()).toBe(0);
    emulator.faults.set({ latencyMs: 0 });

    const second = await start();
    const resumed = await tablesOf(second.apiUrl);
    const pagesAtStart = resumed.reduce((sum, table) => sum + table.pages, 0);
    expect(pagesAtStart, 'the pages copied before the stop are still counted').toBeGreaterThanOrEqual(6);
    const done = await waitFor(
      'every table in delta phase',
      async () => {
        const tables = await tablesOf(second.apiUrl);
        return tables.length === TABLES.length && tables.every((table) => table.phase === 'delta') ? tables : undefined;
      },
      90_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${second.output()}`);
    });
    // The page counters went on from where they stood (not reset, and no page counted twice): every table has
    // exactly its number of pages, and the pages counted before the stop were part of them.
    const counts = sampleCounts(1_000);
    for (const table of done) {
      const rows = counts[table.table as keyof typeof counts];
      expect(table.pages, table.table).toBe(Math.max(1, Math.ceil(rows / PAGE_SIZE)));
    }
    second.child.kill('SIGINT');
    expect(await exited(second.child)).toBe(0);

    const connection = await createPgliteConnection(path.join(dataDir, 'local', 'databases', 'sample'));
    const destination = createSqlDestination(connection, postgresDialect, {
      schema: 'dbo',
      prefix: '',
      writeDeleteLog: true,
      widenOverlongStrings: true,
    });
    try {
      for (const table of TABLES) {
        const difference = await compareTable(emulator, destination, table);
        expect(isEqual(difference), `${table}: ${describeDifference(difference)}`).toBe(true);
      }
    } finally {
      await destination.close();
    }
  }, 420_000);
});
