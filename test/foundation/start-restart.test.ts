import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RESTORE_TERMINAL } from '../../local/cli/terminal';
import { existsSync } from 'node:fs';
import { toolsRequired } from '../support/nuget-package';
import { runStart, waitForOutput, type StartProcess } from '../support/start-process';

/** PostgreSQL's client; CI has it (DVX_REQUIRE_TOOLS=1 makes it required), a laptop may not: apt-get install postgresql-client. */
const PSQL = '/usr/bin/psql';
const hasPsql = existsSync(PSQL) || toolsRequired();
if (!hasPsql) console.warn(`skipped: the psql test needs ${PSQL} (apt-get install postgresql-client)`);

const runs: StartProcess[] = [];
const folders: string[] = [];
afterEach(() => {
  for (const run of runs.splice(0)) if (run.child.exitCode === null) run.child.kill('SIGKILL');
});
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function dataFolder(): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), 'dvx-start-'));
  folders.push(folder);
  return folder;
}

/** A run on `data` with the terminal control forced on (its output is a pipe here) and no change generator. */
function start(data: string): StartProcess {
  const run = runStart(['--port', '0', '--data', data, '--changes-per-second', '0', '--scale', '200'], {
    DVX_TERMINAL_CONTROL: '1',
    LOCAL_FUNCTION_KEY: '',
  });
  runs.push(run);
  return run;
}

const printedKey = (output: string): string | undefined => /Function key \([^\n]*\n\s+(\S+)/.exec(output)?.[1];

async function stopWithCtrlC(run: StartProcess): Promise<string> {
  run.child.kill('SIGINT');
  expect(await run.exited).toBe(0);
  return run.stdout();
}

// A start waits on Azurite, the emulator and an initial sync; on a loaded machine that takes minutes.
describe('npm start across restarts', { timeout: 420_000 }, () => {
  it('keeps the same function key for the same data folder, in a file only its owner reads', async () => {
    const data = await dataFolder();
    const first = start(data);
    await waitForOutput(first, 'Press Ctrl-C to stop.');
    const key = printedKey(first.stdout());
    expect(key, first.stdout()).toBeDefined();
    expect(first.stdout()).toContain('Function key (NEW');
    const api = /API: (\S+)/.exec(first.stdout())?.[1];
    expect((await fetch(`${api}/health`, { headers: { 'x-functions-key': key as string } })).status).toBe(200);
    expect((await stat(path.join(data, 'local', 'function-key'))).mode & 0o777).toBe(0o600);
    await stopWithCtrlC(first);

    const second = start(data);
    await waitForOutput(second, 'Press Ctrl-C to stop.');
    expect(printedKey(second.stdout())).toBe(key);
    expect(second.stdout()).toContain('the same as last time');
    await stopWithCtrlC(second);
  });

  it('Ctrl-C gives the terminal back and says in one line what it stopped and where the data stays', async () => {
    const data = await dataFolder();
    const run = start(data);
    await waitForOutput(run, '\npsql: ');
    const output = await stopWithCtrlC(run);
    expect(output).toContain(RESTORE_TERMINAL);
    const stopped = output.split('\n').filter((line) => line.startsWith('Stopped:'));
    expect(stopped).toEqual([
      `Stopped: psql server, host, emulator, Azurite; data kept in ${path.join(data, 'local')} — run npm start again to continue`,
    ]);
    // The restore comes after the last progress output, so nothing the run printed can hide the cursor again.
    expect(output.lastIndexOf(RESTORE_TERMINAL)).toBeGreaterThan(output.lastIndexOf('\x1b[?25l'));
  });

  it.runIf(hasPsql)('lets psql into the embedded database: its row count equals the status API’s', async () => {
    const data = await dataFolder();
    const run = start(data);
    await waitForOutput(run, 'Initial sync done');
    const psqlLine = /^psql: psql "([^"]+)"$/m.exec(run.stdout())?.[1];
    expect(psqlLine, run.stdout()).toMatch(
      /^host=127\.0\.0\.1 port=\d+ user=postgres dbname=postgres sslmode=disable$/,
    );
    const api = /API: (\S+)/.exec(run.stdout())?.[1];
    const key = printedKey(run.stdout()) as string;
    const status = (await (
      await fetch(`${api}/profiles/sample/status`, { headers: { 'x-functions-key': key } })
    ).json()) as { tables: Array<{ table: string; rowsInDestination: number }> };
    const accounts = status.tables.find((table) => table.table === 'account')?.rowsInDestination;
    expect(accounts).toBeGreaterThan(0);
    const { stdout } = await promisify(execFile)(PSQL, [
      psqlLine as string,
      '-Atc',
      'select count(*) from dbo.account',
    ]);
    expect(Number(stdout.trim())).toBe(accounts);
    await stopWithCtrlC(run);
  });
});
