/**
 * Starts Azurite (Blob, Queue, Table) from node_modules on free ports, with its data in a folder of its
 * own, and stops it again. Two runs never share ports or data.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ExportError } from '../../shared/errors';

export const AZURITE_ACCOUNT = 'devstoreaccount1';
// Azurite's published well-known development key: not a secret.
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface RunningAzurite {
  blobEndpoint: string;
  queueEndpoint: string;
  tableEndpoint: string;
  connectionString: string;
  pid: number;
  stop(): Promise<void>;
}

export type AzuriteOptions =
  /** Data kept in this folder (created if missing), so a restarted host finds its state again. */
  | { location: string; startTimeoutMs?: number }
  /** Nothing kept on disk: tests. */
  | { inMemory: true; startTimeoutMs?: number };

const LISTENING = /Azurite (Blob|Queue|Table) service is successfully listening at (http:\/\/\S+)/;

export async function startAzurite(options: AzuriteOptions): Promise<RunningAzurite> {
  if ('location' in options) await mkdir(options.location, { recursive: true });
  const args = [
    '--blobPort',
    '0',
    '--queuePort',
    '0',
    '--tablePort',
    '0',
    '--blobHost',
    '127.0.0.1',
    '--queueHost',
    '127.0.0.1',
    '--tableHost',
    '127.0.0.1',
    ...('location' in options ? ['--location', options.location] : ['--inMemoryPersistence']),
    '--skipApiVersionCheck',
    '--loose',
    '--disableTelemetry',
  ];
  const child = fork(path.join(__dirname, 'run-azurite.cjs'), args, {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    cwd: 'location' in options ? options.location : undefined,
  });
  const endpoints = await waitForEndpoints(child, options.startTimeoutMs ?? 30_000);
  const blobEndpoint = `${endpoints.Blob}/${AZURITE_ACCOUNT}`;
  const queueEndpoint = `${endpoints.Queue}/${AZURITE_ACCOUNT}`;
  const tableEndpoint = `${endpoints.Table}/${AZURITE_ACCOUNT}`;
  return {
    blobEndpoint,
    queueEndpoint,
    tableEndpoint,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
      `BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};TableEndpoint=${tableEndpoint};`,
    pid: child.pid ?? -1,
    stop: () => stopChild(child),
  };
}

function waitForEndpoints(child: ChildProcess, timeoutMs: number): Promise<Record<'Blob' | 'Queue' | 'Table', string>> {
  return new Promise((resolve, reject) => {
    const found: Partial<Record<'Blob' | 'Queue' | 'Table', string>> = {};
    let output = '';
    const fail = (message: string) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.kill('SIGKILL');
      reject(
        new ExportError('config', `Azurite did not start: ${message}`, {
          where: 'local/azurite',
          fix: 'Run `npm install` so node_modules/azurite exists, and check the output below.\n' + output.slice(-2000),
        }),
      );
    };
    const timer = setTimeout(() => fail(`no listening message within ${timeoutMs} ms`), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of chunk.toString().split('\n')) {
        const match = LISTENING.exec(line);
        if (match) found[match[1] as 'Blob' | 'Queue' | 'Table'] = match[2];
      }
      if (found.Blob && found.Queue && found.Table) {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(found as Record<'Blob' | 'Queue' | 'Table', string>);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const onExit = (code: number | null) => fail(`exited with code ${code}`);
    child.once('exit', onExit);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
