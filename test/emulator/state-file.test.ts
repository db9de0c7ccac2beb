/**
 * The `--state` file survives a process killed while writing it: readers never see a half-written file, a
 * start after SIGKILL works, and a file cut short some other way stops the start with what to do.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../local/emulator/server';
import { sampleRowId } from '../../local/sample-org';

const directory = mkdtempSync(join(tmpdir(), 'dataverse-emulator-state-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const ROWS = 1000;

/**
 * Reads the file over and over while the writer replaces it, until 20 reads have seen at least 4 of its
 * versions (or 30 s pass): each read is the version it found, or why it could not be parsed.
 */
async function watchWhileWriting(statePath: string): Promise<Array<number | string>> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'state-writer.ts'), statePath, `${ROWS}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('written') && resolve());
      child.once('exit', (code) => reject(new Error(`the writer exited (${code}) before its first write`)));
    });
    const reads: Array<number | string> = [];
    const enough = () => reads.length >= 20 && new Set(reads).size >= 4;
    for (const end = Date.now() + 30_000; Date.now() < end && !enough();) {
      try {
        reads.push((JSON.parse(readFileSync(statePath, 'utf8')) as { version: number }).version);
      } catch (error) {
        reads.push((error as Error).message);
      }
    }
    return reads;
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

describe('emulator state file under a kill', () => {
  it('is never seen half-written, and a start after SIGKILL restores the writes', async () => {
    const statePath = join(directory, 'killed.json');
    const reads = await watchWhileWriting(statePath);
    expect(new Set(reads).size).toBeGreaterThanOrEqual(4);
    expect(reads.filter((read) => typeof read === 'string')).toEqual([]);

    const restarted = await startEmulator({ seed: 4, accounts: ROWS, statePath });
    try {
      const first = restarted.store.get('account', sampleRowId(4, 'account', 0));
      expect(first?.row.name).toMatch(/^Write \d+$/);
    } finally {
      await restarted.close();
    }
  }, 60_000);

  it('refuses an empty or cut-short file, naming it and saying how to go on', async () => {
    const statePath = join(directory, 'cut.json');
    for (const content of ['', '{"seed":4,"accounts":3000,"version":12,"tab']) {
      writeFileSync(statePath, content);
      const start = startEmulator({ seed: 4, accounts: 30, statePath });
      await expect(start).rejects.toThrow(`The emulator state file ${statePath} cannot be read`);
      await expect(start).rejects.toMatchObject({ where: statePath, fix: expect.stringMatching(/^Delete the file/) });
    }
  });
});
