/**
 * `npm run host`: the local host alone, as its own process — what `func start` is to Azure. Storage, the
 * change queue and the rest come from local.settings.json and the environment (AzureWebJobsStorage must
 * point at a running Azurite or storage account). Several of these processes on the same storage are the
 * local picture of a scaled-out Function App: they share the queues, leases and orchestration instances.
 *
 * When it is listening it prints one JSON line on stdout, `{"ready":true,"baseUrl":…,"pid":…}`, so a
 * parent (benchmarks, the chaos suite) can wait for it; SIGTERM or SIGINT closes it cleanly, and a SIGKILL
 * is the crash the product must survive. `HOST_MEMORY_LOG_MS` makes it log its memory use (memory-log.ts).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ExportError } from '../../shared/errors';
import { consoleLog, type MinimumLogLevel } from './console-log';
import { readLocalSettings } from './local-settings-file';
import { startMemoryLog } from './memory-log';
import { startProductHost } from './product-host';

const repoRoot = path.resolve(__dirname, '../..');

const optionsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65_535),
  // Initial-sync tuning that Azure fixes in code; tests and benchmarks set it to see more pages per table.
  'page-size': z.coerce.number().int().min(1).max(5000).optional(),
  'fan-out': z.coerce.number().int().min(1).max(64).optional(),
  // Overrides the app setting INITIAL_SYNC_READ_STREAMS (default 8); 1 reads each table page after page.
  'read-streams': z.coerce.number().int().min(1).max(52).optional(),
  // How long a received queue message stays invisible: after a crash its batches come back this much later.
  'lock-seconds': z.coerce.number().int().min(1).max(600).optional(),
});

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '7071' },
      'page-size': { type: 'string' },
      'fan-out': { type: 'string' },
      'read-streams': { type: 'string' },
      'lock-seconds': { type: 'string' },
    },
    strict: true,
  });
  const parsed = optionsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'option');
    throw new ExportError('config', `--${name} is not valid: ${issue?.message ?? 'unknown reason'}`, {
      where: `--${name}`,
      fix: '--port 0–65535 (0: any free port), --page-size 1–5000, --fan-out 1–64, --read-streams 1–52, --lock-seconds 1–600.',
    });
  }
  return parsed.data;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const env: Record<string, string | undefined> = {
    ...(await readLocalSettings(path.join(repoRoot, 'local.settings.json'))),
    ...process.env,
  };
  const log = consoleLog((env.LOG_LEVEL as MinimumLogLevel | undefined) ?? 'information');
  startMemoryLog(env.HOST_MEMORY_LOG_MS, log);
  const functionKey = env.LOCAL_FUNCTION_KEY || randomBytes(24).toString('base64url');
  const product = await startProductHost({
    env,
    port: options.port,
    functionKey,
    log,
    sync: {
      ...(options['page-size'] ? { pageSize: options['page-size'] } : {}),
      ...(options['fan-out'] ? { fanOut: options['fan-out'] } : {}),
      ...(options['read-streams'] ? { readStreams: options['read-streams'] } : {}),
    },
    ...(options['lock-seconds'] ? { polling: { lockSeconds: options['lock-seconds'] } } : {}),
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    await product.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  // Started by startHostProcess: a parent that dies (even by SIGKILL) takes this host with it.
  process.once('disconnect', () => process.exit(0));
  if (!env.LOCAL_FUNCTION_KEY) log.warn(`function key for this run (send it as x-functions-key): ${functionKey}`);
  process.stdout.write(`${JSON.stringify({ ready: true, baseUrl: product.host.baseUrl, pid: process.pid })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
