/**
 * Runs `npm start` (`node --import tsx local/start.ts`, as the npm script does) with piped output, for the tests
 * of its command line, its terminal handling and its restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './wait';

export const repoRoot = path.resolve(__dirname, '../..');

export interface StartProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

export function runStart(args: string[], env: Record<string, string> = {}): StartProcess {
  // AzureWebJobsStorage empty: npm start runs its own Azurite even when the caller's environment names one.
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, AzureWebJobsStorage: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Waits until stdout shows `text`; fails with everything the process said when it does not in time. */
export async function waitForOutput(run: StartProcess, text: string, timeoutMs = 180_000): Promise<void> {
  await waitFor(`'${text}' from npm start`, () => (run.stdout().includes(text) ? true : undefined), timeoutMs).catch(
    (error: Error) => {
      throw new Error(`${error.message}\n--- stdout\n${run.stdout()}\n--- stderr\n${run.stderr()}`);
    },
  );
}

/** The lines a person reads: what the process wrote, without blank lines. */
export const linesOf = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');
