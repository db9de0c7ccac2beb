/**
 * `npm run bench -- source [--rows N] [--page-size P] [--seed S]`: the Dataverse client walking a full
 * change-tracked initial load of `account` from the emulator, which runs in its own process (as
 * Dataverse would be remote) started through `npm run emulator`'s entry point.
 * Figures: pages/s, rows/s, rows, pages, and peak RSS of the client and the emulator.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { staticTokenSource } from '../../shared/dataverse/auth';
import { DataverseClient } from '../../shared/dataverse/client';
import { sampleTable } from '../../local/sample-org';

const argsSchema = z.object({
  rows: z.coerce.number().int().positive().default(1_000_000),
  'page-size': z.coerce.number().int().min(1).max(5000).default(5000),
  seed: z.coerce.number().int().default(1),
});

/** Linux `VmHWM` (peak resident set) of another process, in MB; undefined elsewhere. */
function peakRssMb(pid: number): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

export async function run(argv: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args: argv,
    options: { rows: { type: 'string' }, 'page-size': { type: 'string' }, seed: { type: 'string' } },
    allowPositionals: true,
  });
  const args = argsSchema.parse(values);
  const root = join(__dirname, '../..');
  const emulator = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'local/emulator/cli.ts'),
      '--port',
      '0',
      '--scale',
      String(args.rows),
      '--seed',
      String(args.seed),
      '--token',
      'bench',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const [baseUrl] = await new Promise<string[]>((resolve, reject) => {
      emulator.once('exit', (code) => reject(new Error(`The emulator exited with ${code} before printing its URL`)));
      createInterface({ input: emulator.stdout }).once('line', (line) => resolve([line.trim()]));
    });
    const client = new DataverseClient({ baseUrl: baseUrl!, token: staticTokenSource('bench') });
    const account = sampleTable('account');
    let rows = 0;
    let pages = 0;
    const started = process.hrtime.bigint();
    for await (const page of client.initialLoad(account, { pageSize: args['page-size'] })) {
      rows += page.changes.length;
      pages++;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (rows !== args.rows) throw new Error(`Expected ${args.rows} rows, read ${rows}`);
    return {
      bench: 'source',
      table: 'account',
      columns: account.columns.length,
      rows,
      pages,
      pageSize: args['page-size'],
      seconds: Math.round(seconds * 10) / 10,
      pagesPerSecond: Math.round((pages / seconds) * 10) / 10,
      rowsPerSecond: Math.round(rows / seconds),
      clientPeakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      emulatorPeakRssMb: peakRssMb(emulator.pid ?? -1),
    };
  } finally {
    emulator.kill('SIGTERM');
  }
}
