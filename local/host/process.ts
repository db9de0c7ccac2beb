/**
 * Runs `local/host/main.ts` as a child process: benchmarks and the chaos suite need hosts they can run
 * side by side (scale-out) and kill without warning (SIGKILL mid-sync), which an in-process host cannot be.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { z } from 'zod';
import { ExportError } from '../../shared/errors';

export interface HostProcessOptions {
  /** The host's whole environment besides PATH-like basics: storage, queue, schedules, secrets. */
  env: Record<string, string>;
  functionKey: string;
  port?: number;
  pageSize?: number;
  fanOut?: number;
  /** Streams reading one table's initial load at once (SyncOptions.readStreams). */
  readStreams?: number;
  /** Queue lock (visibility timeout) in seconds; the host's default otherwise. */
  lockSeconds?: number;
  /** Receives the host's log lines (stderr); without it they are dropped. */
  log?: (line: string) => void;
  startTimeoutMs?: number;
}

export interface HostProcess {
  baseUrl: string;
  pid: number;
  /** Resolves with the exit code (or the signal's name) once the process has gone. */
  exited: Promise<number | string>;
  /** Sends the host an HTTP request with the function key. */
  call(method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** The crash: no shutdown, no flushing, in-flight work simply stops. */
  kill(): Promise<void>;
  /** A clean shutdown (SIGTERM), forced after 10 s. */
  stop(): Promise<void>;
}

const readyLine = z.object({ ready: z.literal(true), baseUrl: z.string().url(), pid: z.number().int() });

export async function startHostProcess(options: HostProcessOptions): Promise<HostProcess> {
  const args = [
    '--port',
    String(options.port ?? 0),
    ...(options.pageSize ? ['--page-size', String(options.pageSize)] : []),
    ...(options.fanOut ? ['--fan-out', String(options.fanOut)] : []),
    ...(options.readStreams ? ['--read-streams', String(options.readStreams)] : []),
    ...(options.lockSeconds ? ['--lock-seconds', String(options.lockSeconds)] : []),
  ];
  const child = fork(path.join(__dirname, 'main.ts'), args, {
    execArgv: ['--import', 'tsx'],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: process.env.NODE_ENV ?? '',
      ...options.env,
      LOCAL_FUNCTION_KEY: options.functionKey,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  forwardLines(child, options.log);
  const ready = await waitForReady(child, exited, options.startTimeoutMs ?? 60_000);
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return {
    baseUrl: ready.baseUrl,
    pid: ready.pid,
    exited,
    async call(method, route, body) {
      const response = await fetch(`${ready.baseUrl}/${route}`, {
        method,
        headers: { 'x-functions-key': options.functionKey, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    },
    kill,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function forwardLines(child: ChildProcess, log: ((line: string) => void) | undefined): void {
  let pending = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    if (log) for (const line of lines) log(line);
  });
}

function waitForReady(
  child: ChildProcess,
  exited: Promise<number | string>,
  timeoutMs: number,
): Promise<z.infer<typeof readyLine>> {
  return new Promise((resolve, reject) => {
    let output = '';
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(
        new ExportError('config', `The local host process did not start: ${reason}`, {
          where: 'local/host/main.ts',
          fix: `Check the host's settings (AzureWebJobsStorage, CHANGES_QUEUE, …) and its output:\n${output.slice(-2000)}`,
        }),
      );
    };
    const timer = setTimeout(() => fail(`no ready line within ${timeoutMs} ms`), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of output.split('\n').slice(0, -1)) {
        if (settled || !line.startsWith('{')) continue;
        const parsed = readyLine.safeParse(JSON.parse(line));
        if (parsed.success) {
          settled = true;
          clearTimeout(timer);
          child.stdout?.resume();
          resolve(parsed.data);
          return;
        }
      }
    });
    void exited.then((code) => fail(`exited (${code}) before it was ready`));
  });
}
