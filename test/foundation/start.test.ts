import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait';

const repoRoot = path.resolve(__dirname, '../..');
const key = 'start-test-function-key';

interface Started {
  process: ChildProcess;
  apiUrl: string;
  azuritePid: number;
  output: () => string;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

async function startProduct(): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', '--port', '0'], {
    cwd: repoRoot,
    env: { ...process.env, LOCAL_FUNCTION_KEY: key, AzureWebJobsStorage: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor('the start banner', () => (output.includes('Press Ctrl-C to stop.') ? true : undefined), 60_000).catch(
    (error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    },
  );
  const apiUrl = /API: (http:\/\/\S+)/.exec(output)?.[1];
  const azuritePid = Number(/Azurite \(pid (\d+)\)/.exec(output)?.[1]);
  expect(apiUrl, output).toBeDefined();
  expect(azuritePid, output).toBeGreaterThan(0);
  return { process: child, apiUrl: apiUrl as string, azuritePid, output: () => output };
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );

describe('npm start', () => {
  it('serves the health endpoint, and Ctrl-C stops the host and Azurite cleanly', async () => {
    const product = await startProduct();
    expect(product.output()).not.toContain(key);
    const health = await fetch(`${product.apiUrl}/health`, { headers: { 'x-functions-key': key } });
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('ok');

    product.process.kill('SIGINT');
    expect(await exited(product.process)).toBe(0);
    await waitFor('Azurite to exit', () => (isAlive(product.azuritePid) ? undefined : true), 10_000);
  });

  it('leaves no Azurite behind when the host itself is killed, and two runs at once do not collide', async () => {
    const [first, second] = await Promise.all([startProduct(), startProduct()]);
    expect(first.azuritePid).not.toBe(second.azuritePid);
    expect(first.apiUrl).not.toBe(second.apiUrl);
    for (const product of [first, second]) {
      const health = await fetch(`${product.apiUrl}/health`, { headers: { 'x-functions-key': key } });
      expect(health.status).toBe(200);
    }
    expect(first.output().includes('holds .data/local') || second.output().includes('holds .data/local')).toBe(true);

    first.process.kill('SIGKILL');
    second.process.kill('SIGKILL');
    await Promise.all([exited(first.process), exited(second.process)]);
    await waitFor(
      'both Azurites to exit',
      () => (isAlive(first.azuritePid) || isAlive(second.azuritePid) ? undefined : true),
      10_000,
    );
  });
});
