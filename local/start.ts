/**
 * `npm start`: the whole product on embedded defaults — the Dataverse emulator with the sample org, Azurite,
 * the local host running the function table, and PGlite as the destination. It creates a sample profile
 * through the HTTP API, activates it, shows the initial sync per table, then keeps syncing while a change
 * generator edits the org. `--once` runs a scripted check instead and exits 0 only when the destination
 * equals the source.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { FunctionDeps } from '../functions/deps';
import { ExportError } from '../shared/errors';
import { startAzurite, type RunningAzurite } from './azurite/azurite';
import { claimDataFolder, type DataFolder } from './data-folder';
import { startEmulator, type Emulator } from './emulator/server';
import { consoleLog, type MinimumLogLevel } from './host/console-log';
import { readLocalSettings } from './host/local-settings-file';
import { startProductHost, type ProductHost } from './host/product-host';
import { initialSyncProgress, type TableProgressView } from './progress';
import { DEFAULT_SAMPLE_ACCOUNTS, sampleCounts } from './sample-org';
import { compareTable, isEqual, versionsEqual, type TableDifference } from './verify';
import { createWorkload, type Workload } from './workload/workload';

const repoRoot = path.resolve(__dirname, '..');
const PROFILE = 'sample';
const SAMPLE_SEED = 1;
const ONCE_OPERATIONS = 300;

/** Set once Ctrl-C (or the end of --once) starts the shutdown: work still in flight then fails harmlessly. */
let stopping = false;

interface Options {
  port: number;
  dataverse?: string;
  destination?: string;
  changesPerSecond: number;
  once: boolean;
  scale: number;
  /** Where the run keeps its data (default `.data` in the repository): a restart on the same folder continues. */
  dataDir?: string;
  /** Rows per initial-sync page (Azure fixes it in code); smaller shows the page checkpoints at work. */
  pageSize?: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '7071' },
      dataverse: { type: 'string' },
      destination: { type: 'string' },
      'changes-per-second': { type: 'string', default: '1' },
      scale: { type: 'string', default: String(DEFAULT_SAMPLE_ACCOUNTS) },
      once: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      'page-size': { type: 'string' },
    },
    strict: true,
  });
  const integer = (name: string, text: string, min: number, max: number): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ExportError('config', `--${name} must be a whole number from ${min} to ${max}, not '${text}'`, {
        where: `--${name}`,
      });
    }
    return value;
  };
  return {
    port: integer('port', values.port, 0, 65_535),
    ...(values.dataverse ? { dataverse: values.dataverse } : {}),
    ...(values.destination ? { destination: values.destination } : {}),
    changesPerSecond: integer('changes-per-second', values['changes-per-second'], 0, 1000),
    once: values.once,
    scale: integer('scale', values.scale, 1, 1_000_000),
    ...(values['data-dir'] ? { dataDir: path.resolve(values['data-dir']) } : {}),
    ...(values['page-size'] ? { pageSize: integer('page-size', values['page-size'], 1, 5000) } : {}),
  };
}

/** PGlite lives in DVX_DATA_DIR/databases/<profile> (shared/security/policy.ts): a profile names no folder. */
function destinationFor(options: Options): Record<string, unknown> {
  if (!options.destination) return { kind: 'sql', dialect: 'pglite' };
  const dialect = /^postgres(ql)?:\/\//i.test(options.destination) ? 'postgres' : 'mssql';
  return { kind: 'sql', dialect, connection: { appSetting: 'DVX_SECRET_DESTINATION_CONNECTION' } };
}

function sourceAuthFor(env: Record<string, string | undefined>, external: string | undefined): Record<string, unknown> {
  if (!external || env.DATAVERSE_TOKEN)
    return { kind: 'static-token', token: { appSetting: 'DVX_SECRET_DATAVERSE_TOKEN' } };
  if (env.DATAVERSE_TENANT_ID && env.DATAVERSE_CLIENT_ID && env.DATAVERSE_CLIENT_SECRET) {
    return {
      kind: 'client-secret',
      tenantId: env.DATAVERSE_TENANT_ID,
      clientId: env.DATAVERSE_CLIENT_ID,
      clientSecret: { appSetting: 'DVX_SECRET_DATAVERSE_CLIENT_SECRET' },
    };
  }
  throw new ExportError('config', `--dataverse ${external} needs credentials`, {
    where: '--dataverse',
    fix: 'Set DATAVERSE_TOKEN (a bearer token; any value for an emulator), or DATAVERSE_TENANT_ID, DATAVERSE_CLIENT_ID and DATAVERSE_CLIENT_SECRET for an app registration that is an application user of the environment.',
  });
}

async function main(): Promise<void> {
  const options = parseOptions();
  const env: Record<string, string | undefined> = {
    ...(await readLocalSettings(path.join(repoRoot, 'local.settings.json'))),
    ...process.env,
  };
  const logLevel = (env.LOG_LEVEL as MinimumLogLevel | undefined) ?? 'warning';
  const log = consoleLog(logLevel);
  const say = (line: string) => process.stdout.write(`${line}\n`);

  const running: {
    folder?: DataFolder;
    azurite?: RunningAzurite;
    emulator?: Emulator;
    product?: ProductHost;
    workload?: NodeJS.Timeout;
  } = {};
  const stop = async () => {
    clearInterval(running.workload);
    await running.product?.close();
    await running.emulator?.close();
    await running.azurite?.stop();
    await running.folder?.release();
  };
  const shutdown = async (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    await stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  // Everything a run keeps lives in one folder, so a restarted run continues where it stopped; --once keeps nothing.
  let dataDir: string | undefined;
  if (!options.once && !env.AzureWebJobsStorage) {
    const folder = await claimDataFolder(options.dataDir ?? path.join(repoRoot, '.data'));
    running.folder = folder;
    dataDir = folder.location;
    if (!folder.shared)
      log.warn(
        `another 'npm start' holds .data/local; this run keeps its data in ${path.relative(repoRoot, folder.location)} and removes it on exit`,
      );
  }
  if (!env.AzureWebJobsStorage) {
    running.azurite = await startAzurite(dataDir ? { location: path.join(dataDir, 'azurite') } : { inMemory: true });
    env.AzureWebJobsStorage = running.azurite.connectionString;
  }
  if (!options.dataverse) {
    const token = env.DATAVERSE_TOKEN ?? randomBytes(16).toString('hex');
    running.emulator = await startEmulator({
      port: 0,
      seed: SAMPLE_SEED,
      accounts: options.scale,
      token,
      ...(dataDir ? { statePath: path.join(dataDir, 'emulator-state.json') } : {}),
    });
    env.DATAVERSE_TOKEN = token;
  }
  // Profiles may name only DVX_SECRET_* settings (shared/security/policy.ts); the documented variables are copied there.
  if (env.DATAVERSE_TOKEN) env.DVX_SECRET_DATAVERSE_TOKEN = env.DATAVERSE_TOKEN;
  if (env.DATAVERSE_CLIENT_SECRET) env.DVX_SECRET_DATAVERSE_CLIENT_SECRET = env.DATAVERSE_CLIENT_SECRET;
  if (options.destination) env.DVX_SECRET_DESTINATION_CONNECTION = options.destination;
  // This process is a local run: the emulator on loopback, Azurite and PGlite are allowed (never on App Service).
  env.DVX_LOCAL_MODE = '1';
  if (dataDir) env.DVX_DATA_DIR = dataDir;
  env.POLL_SCHEDULE ??= '* * * * * *';
  env.CHANGES_QUEUE ??= 'dataverse-changes';
  const functionKey = env.LOCAL_FUNCTION_KEY ?? randomBytes(24).toString('base64url');
  const product = await startProductHost({
    env,
    port: options.port,
    functionKey,
    log,
    ...(options.pageSize ? { sync: { pageSize: options.pageSize } } : {}),
  });
  running.product = product;
  const { host } = product;
  const environmentUrl = options.dataverse ?? running.emulator?.baseUrl;
  say(
    [
      '',
      'dataverse-export is running on the local host.',
      running.azurite
        ? `  Azurite (pid ${running.azurite.pid}): blob ${running.azurite.blobEndpoint}`
        : '  Storage: AzureWebJobsStorage from your settings',
      `  Dataverse: ${environmentUrl}${running.emulator ? ' (built-in emulator, sample org)' : ''}`,
      `  Destination: ${options.destination ? 'your connection string' : `PGlite (embedded PostgreSQL)${dataDir ? ` in ${path.relative(repoRoot, path.join(dataDir, 'databases', PROFILE))}` : ', in memory'}`}`,
      `  API: ${host.baseUrl}`,
      env.LOCAL_FUNCTION_KEY
        ? '  Function key: LOCAL_FUNCTION_KEY from your settings (send it as x-functions-key or ?code=)'
        : `  Function key for this run (send it as x-functions-key or ?code=): ${functionKey}`,
      `  Status: curl -H "x-functions-key: <key>" ${host.baseUrl}/profiles/${PROFILE}/status`,
      '  Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  const call = async (method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
    const response = await fetch(`${host.baseUrl}/${route}`, {
      method,
      headers: { 'x-functions-key': functionKey, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  const profile = {
    description: 'Created by npm start: the sample org into the embedded database.',
    source: { environmentUrl, auth: sourceAuthFor(env, options.dataverse) },
    tables: ['account', 'contact', 'opportunity', 'systemuser', 'role'],
    relationships: ['systemuserroles_association'],
    destination: destinationFor(options),
    writeDeleteLog: true,
  };
  const put = await call('PUT', `profiles/${PROFILE}`, profile);
  if (put.status >= 300)
    throw new ExportError('config', `Creating the sample profile failed (${put.status}): ${JSON.stringify(put.body)}`);
  const activated = await call('POST', `profiles/${PROFILE}/activate`);
  if (activated.status !== 202 && activated.status !== 409) {
    throw new ExportError(
      'config',
      `Activating the sample profile failed (${activated.status}): ${JSON.stringify(activated.body)}`,
    );
  }
  say(`Profile '${PROFILE}' activated: initial sync of ${profile.tables.join(', ')} and systemuserroles.`);

  const started = Date.now();
  const counts = sampleCounts(options.scale);
  const progress = initialSyncProgress(running.emulator ? { ...counts } : {}, say);
  for (;;) {
    const status = (await call('GET', `profiles/${PROFILE}/status`)).body as { tables: TableProgressView[] };
    progress.update(status.tables);
    if (status.tables.length > 0 && status.tables.every((table) => table.phase === 'delta')) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  progress.stop();
  say(`Initial sync done in ${((Date.now() - started) / 1000).toFixed(1)} s. Following changes now.`);

  const workload: Workload | undefined = running.emulator
    ? createWorkload({
        baseUrl: running.emulator.baseUrl,
        token: env.DATAVERSE_TOKEN as string,
        seed: options.once ? 42 : Date.now(),
        sampleSeed: SAMPLE_SEED,
        rows: { account: counts.account, contact: counts.contact },
      })
    : undefined;

  if (options.once) {
    if (!workload || !running.emulator)
      throw new ExportError('config', '--once needs the built-in emulator (leave out --dataverse)');
    for (let i = 0; i < ONCE_OPERATIONS; i++) await workload.step();
    say(
      `Applied ${ONCE_OPERATIONS} scripted creates, updates, deletes and re-creates through the Web API; waiting for the destination to match.`,
    );
    const differences = await waitUntilEqual(
      product.deps,
      running.emulator,
      [...profile.tables, 'systemuserroles'],
      60_000,
    );
    for (const difference of differences) {
      say(
        `  ${difference.table.padEnd(16)} source ${String(difference.sourceRows).padStart(6)}  destination ${String(difference.destinationRows).padStart(6)}  ${isEqual(difference) ? 'equal' : `DIFFERENT: ${difference.missingOrStale.length} missing or stale, ${difference.extra.length} extra, ${difference.wrongValueCount} wrong values`}`,
      );
      for (const wrong of difference.wrongValues) say(`    ${wrong}`);
    }
    const equal = differences.every(isEqual);
    say(
      equal
        ? 'The destination equals the source, row by row and column by column.'
        : 'The destination does NOT equal the source (see above).',
    );
    await shutdown('done', equal ? 0 : 1);
    return;
  }

  if (workload && options.changesPerSecond > 0) {
    say(
      `Changing the sample org at ${options.changesPerSecond} change(s) per second (--changes-per-second 0 to stop).`,
    );
    let busy = false;
    running.workload = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        for (let i = 0; i < options.changesPerSecond; i++) await workload.step();
      })()
        .catch((error: unknown) =>
          log.warn(`change generator: ${error instanceof Error ? error.message : String(error)}`),
        )
        .finally(() => (busy = false));
    }, 1000);
  }
  setInterval(() => {
    void call('GET', `profiles/${PROFILE}/status`).then(({ body }) => {
      const tables = (
        body as {
          tables: Array<{ table: string; rowsInDestination: number | null; lagSeconds: number; failedRecords: number }>;
        }
      ).tables;
      say(
        `${new Date().toISOString()}  ${tables.map((t) => `${t.table} ${t.rowsInDestination ?? '?'} rows, lag ${t.lagSeconds}s${t.failedRecords ? `, ${t.failedRecords} failed` : ''}`).join(' | ')}`,
      );
    });
  }, 10_000).unref();
}

async function waitUntilEqual(
  deps: FunctionDeps,
  emulator: Emulator,
  tables: string[],
  timeoutMs: number,
): Promise<TableDifference[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { destination } = await deps.sync.runtimes.get(PROFILE);
    const differences = await Promise.all(tables.map((table) => compareTable(emulator, destination, table)));
    // Rows at the source's versions are not rewritten: once versions agree, wrong values stay wrong.
    if (differences.every(versionsEqual) || Date.now() > deadline) return differences;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

main().catch((error: unknown) => {
  if (stopping) return;
  if (error instanceof ExportError) {
    process.stderr.write(`\n${error.message}\n${error.fix ? `How to fix: ${error.fix}\n` : ''}`);
  } else {
    process.stderr.write(
      `\nStart-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
