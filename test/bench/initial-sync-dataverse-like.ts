/**
 * `npm run bench -- initial-sync-dataverse-like [--accounts N] [--page-latency-ms P] [--dop-hint D] [--read-streams S]`:
 * the initial sync of `account` from an emulator that behaves like a Dataverse org under load rather than like this
 * machine's CPU: every page costs server time (`--page-latency-ms` per 5000 rows of every column, 5 s by default,
 * proportionally less for fewer rows or columns) and every answer carries `x-ms-dop-hint` (8 by default). The
 * emulator runs in its own process so it does not share the host's event loop. Run once with `--read-streams 1`
 * (one stream per table, as before) and once with the default 8 (docs/notes/parallel-initial-sync.md).
 * Target at 200,000 rows: one stream ≥ 200 s, partitioned ≤ 40 s.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { once } from 'node:events';
import { PROCESS_EMULATOR_TOKEN, startProcessProduct } from '../support/product-processes';
import { meterProcess, recordHostUsage } from './cost';
import { activateAndWait, postmasterPid, startCpuMeter } from './product-bench';
import { option } from './sample-upserts';

async function startEmulatorProcess(args: string[]): Promise<{ child: ChildProcess; baseUrl: string }> {
  const cli = path.resolve(__dirname, '../../local/emulator/cli.ts');
  const child = fork(cli, ['--port', '0', '--token', PROCESS_EMULATOR_TOKEN, ...args], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let output = '';
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    output += chunk.toString('utf8');
    const line = output.split('\n').find((text) => text.startsWith('http'));
    if (line) return { child, baseUrl: line.trim() };
  }
  throw new Error(`The emulator process ended before it printed its URL: ${output}`);
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const accounts = option(args, 'accounts', 200_000);
  const pageLatencyMs = option(args, 'page-latency-ms', 5_000);
  const dopHint = option(args, 'dop-hint', 8);
  const readStreams = option(args, 'read-streams', 8);
  const emulator = await startEmulatorProcess([
    '--scale',
    String(accounts),
    '--contacts',
    '0',
    '--page-latency-ms',
    String(pageLatencyMs),
    '--dop-hint',
    String(dopHint),
  ]);
  // The product's own in-process emulator is left idle: the profile reads from the emulator process.
  // BENCH_HOST_LOG=1 prints the host's log lines (LOG_LEVEL information) with the seconds since the start: where time goes.
  const benchStarted = Date.now();
  const log = process.env.BENCH_HOST_LOG
    ? (line: string) => process.stderr.write(`${((Date.now() - benchStarted) / 1000).toFixed(1)} ${line}\n`)
    : undefined;
  const product = await startProcessProduct({
    emulator: { accounts: 1, contacts: 0 },
    readStreams,
    ...(log ? { log, env: { LOG_LEVEL: 'information' } } : {}),
  });
  try {
    const host = await product.startHost();
    const profile = product.postgresProfile;
    product.postgresProfile = (schema, overrides = {}) => {
      const base = profile(schema, overrides);
      return { ...base, source: { ...(base.source as object), environmentUrl: emulator.baseUrl } };
    };
    const postgres = await postmasterPid(product.postgres.connectionString);
    const emulatorPid = emulator.child.pid ?? 0;
    const cpu = startCpuMeter({ host: host.pid, emulator: emulatorPid, ...(postgres ? { postgres } : {}) });
    const hostUsage = meterProcess(host.pid);
    const started = process.hrtime.bigint();
    const tables = await activateAndWait(product, host, { tables: ['account'] });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuFigures = cpu.stop();
    recordHostUsage(hostUsage.stop());
    const account = tables.find((table) => table.table === 'account');
    if (account?.initialRowsCopied !== accounts || account.rowsInDestination !== accounts)
      throw new Error(`account: the source has ${accounts} rows, the sync reports ${JSON.stringify(account)}`);
    return {
      benchmark: 'initial-sync-dataverse-like',
      rows: accounts,
      pageLatencyMs,
      dopHint,
      readStreams,
      seconds: Number(seconds.toFixed(1)),
      rowsPerSecond: Math.round(accounts / seconds),
      // On 2 cores the emulator's, the host's and PostgreSQL's CPU together can be the limit, not the page latency.
      cpu: cpuFigures,
      target: readStreams > 1 ? '<= 40 s at 200,000 rows' : 'one stream: >= 200 s at 200,000 rows',
    };
  } finally {
    await product.stop();
    emulator.child.kill('SIGTERM');
    await once(emulator.child, 'exit');
  }
}
