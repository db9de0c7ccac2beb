/**
 * `npm start`: the whole product on embedded defaults — the Dataverse emulator with the sample org, Azurite,
 * the local host running the function table, and PGlite as the destination (psql can look into it). It creates a
 * sample profile through the HTTP API, activates it, shows the initial sync per table, then keeps syncing while a
 * change generator edits the org. `--once` runs a scripted check instead and exits 0 only when the destination
 * equals the source. `npm start -- --help` lists the flags.
 */
import path from 'node:path';
import { ExportError } from '../shared/errors';
import { parseStartOptions, usage, UsageError, type StartOptions } from './cli/options';
import { controlsTerminal, packParts, restoreTerminal, stoppedLine, terminalColumns, wrapWords } from './cli/terminal';
import { consoleLog, type MinimumLogLevel } from './host/console-log';
import { readLocalSettings } from './host/local-settings-file';
import type { ProductHost } from './host/product-host';
import { failedTables, initialSyncProgress, type TableProgressView } from './progress';
import { sampleCounts } from './sample-org';
import { runOnceCheck } from './start-once';
import {
  assertPortFree,
  chooseFunctionKey,
  claimFolder,
  prepareEmbeddedDatabase,
  SAMPLE_SEED,
  servePsql,
  startBackingServices,
  startHost,
  stopAll,
  type FunctionKeyChoice,
  type Running,
} from './start-services';
import { createWorkload, type Workload } from './workload/workload';

const repoRoot = path.resolve(__dirname, '..');
const PROFILE = 'sample';
const SAMPLE_TABLES = ['account', 'contact', 'opportunity', 'systemuser', 'role'];

const say = (line: string) => process.stdout.write(`${line}\n`);
/** A path as the admin typed it: relative to where npm start ran when inside it, absolute otherwise. */
const shown = (location: string): string => {
  const relative = path.relative(process.cwd(), location);
  return relative === '' ? '.' : relative.startsWith('..') ? location : relative;
};
const running: Running = {};
let env: Record<string, string | undefined> = { ...process.env };
/** Set once Ctrl-C (or the end of --once) starts the shutdown: work still in flight then fails harmlessly. */
let stopping = false;

/** Stops everything, puts the terminal back and, unless the run simply finished, says what it stopped. */
async function shutdown(code: number, tellWhatStopped: boolean): Promise<never> {
  stopping = true;
  const keptIn = running.folder?.shared ? shown(running.folder.location) : undefined;
  const stopped = await stopAll(running).catch(() => ['(some parts failed to stop)']);
  restoreTerminal(process.stdout, env);
  if (tellWhatStopped) say(`${controlsTerminal(process.stdout, env) ? '\n' : ''}${stoppedLine(stopped, keptIn)}`);
  process.exit(code);
}

/**
 * Ctrl-C reaches this process twice (from the terminal and again from npm, which forwards it), so every signal
 * is handled and repeats are ignored: a second one must not kill the process halfway through stopping.
 */
function onSignal(): void {
  if (!stopping) void shutdown(0, true);
}

type Call = (method: string, route: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

const apiCaller =
  (baseUrl: string, functionKey: string): Call =>
  async (method, route, body) => {
    const response = await fetch(`${baseUrl}/${route}`, {
      method,
      headers: { 'x-functions-key': functionKey, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };

/** PGlite lives in DVX_DATA_DIR/databases/<profile> (shared/security/policy.ts): a profile names no folder. */
function destinationFor(options: StartOptions): Record<string, unknown> {
  if (!options.destination) return { kind: 'sql', dialect: 'pglite' };
  const dialect = /^postgres(ql)?:\/\//i.test(options.destination) ? 'postgres' : 'mssql';
  return { kind: 'sql', dialect, connection: { appSetting: 'DVX_SECRET_DESTINATION_CONNECTION' } };
}

function sourceAuthFor(external: string | undefined): Record<string, unknown> {
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

async function createSampleProfile(call: Call, options: StartOptions, environmentUrl: string | undefined) {
  const profile = {
    description: 'Created by npm start: the sample org into the embedded database.',
    source: { environmentUrl, auth: sourceAuthFor(options.dataverse) },
    tables: SAMPLE_TABLES,
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
}

function keyLines(choice: FunctionKeyChoice): string[] {
  const where = choice.file ? shown(choice.file) : undefined;
  switch (choice.origin) {
    case 'settings':
      return ['  Function key: LOCAL_FUNCTION_KEY from your settings'];
    case 'new':
      return [`  Function key (NEW, saved in ${where}; the same next time):`, `    ${choice.key}`];
    case 'saved':
      return [`  Function key (the same as last time, from ${where}):`, `    ${choice.key}`];
    case 'this run':
      return ['  Function key (for this run only):', `    ${choice.key}`];
  }
}

function banner(parts: {
  options: StartOptions;
  product: ProductHost;
  key: FunctionKeyChoice;
  environmentUrl: string | undefined;
  dataDir: string | undefined;
}): string {
  const { options, product, key, dataDir } = parts;
  const port = new URL(product.host.baseUrl).port;
  const database = dataDir ? ` in ${shown(path.join(dataDir, 'databases', PROFILE))}` : '';
  return [
    '',
    'dataverse-export is running on the local host.',
    `  Console: http://localhost:${port}/api/console/`,
    ...keyLines(parts.key),
    '  (the console asks for the key; the API takes it as the x-functions-key header)',
    `  API: ${product.host.baseUrl}`,
    `  Dataverse: ${parts.environmentUrl}${running.emulator ? ' (built-in emulator, sample org)' : ''}`,
    `  Destination: ${options.destination ? 'your connection string' : `PGlite (embedded PostgreSQL)${database || ', in memory'}`}`,
    running.azurite
      ? `  Azurite (pid ${running.azurite.pid}): blob ${running.azurite.blobEndpoint}`
      : '  Storage: AzureWebJobsStorage from your settings',
    `  Status: curl -H "x-functions-key: ${key.file ? `$(cat ${shown(key.file)})` : '<key>'}" ${product.host.baseUrl}/profiles/${PROFILE}/status`,
    ...(options.once ? [] : ['  Press Ctrl-C to stop.']),
    '',
  ].join('\n');
}

async function followInitialSync(call: Call, totals: Record<string, number>): Promise<void> {
  const started = Date.now();
  const progress = initialSyncProgress(totals, say);
  for (;;) {
    const status = (await call('GET', `profiles/${PROFILE}/status`)).body as { tables: TableProgressView[] };
    progress.update(status.tables);
    const failed = failedTables(status.tables);
    if (failed.length > 0) {
      progress.stop();
      throw new ExportError(
        'config',
        `The initial sync failed:\n${failed.map((table) => `  ${table.table}: ${table.health?.reason ?? 'no reason given'}`).join('\n')}`,
        {
          where: `profile ${PROFILE}`,
          fix: `Fix the cause above, then run npm start again (it resumes from .data), or POST /api/profiles/${PROFILE}/activate.`,
        },
      );
    }
    if (status.tables.length > 0 && status.tables.every((table) => table.phase === 'delta')) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  progress.stop();
  say(`Initial sync done in ${((Date.now() - started) / 1000).toFixed(1)} s. Following changes now.`);
}

function followChanges(call: Call, workload: Workload | undefined, options: StartOptions, log: (m: string) => void) {
  if (workload && options.changesPerSecond > 0) {
    say(`Changing the sample org at ${options.changesPerSecond} change(s) per second (--changes-per-second 0: none).`);
    let busy = false;
    const generator = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        for (let i = 0; i < options.changesPerSecond; i++) await workload.step();
      })()
        .catch((error: unknown) => log(`change generator: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => (busy = false));
    }, 1000);
    running.timers = [...(running.timers ?? []), generator];
  }
  const statusLine = setInterval(() => {
    void call('GET', `profiles/${PROFILE}/status`).then(
      ({ body }) => {
        type Row = TableProgressView & { rowsInDestination: number | null; lagSeconds: number; failedRecords: number };
        const tables = (body as { tables: Row[] }).tables;
        const unhealthy = (t: Row): string =>
          t.health && t.health.state !== 'ok' ? `, ${t.health.state.toUpperCase()}` : '';
        const parts = tables.map(
          (t) =>
            `${t.table} ${t.rowsInDestination ?? '?'} rows, lag ${t.lagSeconds}s${t.failedRecords ? `, ${t.failedRecords} failed` : ''}${unhealthy(t)}`,
        );
        const time = new Date().toISOString().slice(11, 19);
        for (const line of packParts([time, ...parts], terminalColumns(process.stdout))) say(line);
        // The reason is long: one line per table that is not ok, under the summary.
        for (const t of tables)
          if (t.health && t.health.state !== 'ok') say(`  ${t.table} ${t.health.state}: ${t.health.reason ?? ''}`);
      },
      (error: unknown) => stopping || log(`status: ${error instanceof Error ? error.message : String(error)}`),
    );
  }, 10_000);
  running.timers = [...(running.timers ?? []), statusLine];
}

async function main(): Promise<void> {
  const options = parseStartOptions(process.argv.slice(2));
  if (options === 'help') {
    say(usage(terminalColumns(process.stdout)));
    return;
  }
  env = { ...(await readLocalSettings(path.join(repoRoot, 'local.settings.json'))), ...process.env };
  const log = consoleLog((env.LOG_LEVEL as MinimumLogLevel | undefined) ?? 'warning');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await assertPortFree(options.port);

  // Everything a run keeps lives in one folder, so a restarted run continues where it stopped; --once keeps nothing.
  const dataDir = await claimFolder(options, env, running, log);
  await startBackingServices(options, env, dataDir, running);
  // Profiles may name only DVX_SECRET_* settings (shared/security/policy.ts); the documented variables are copied there.
  if (env.DATAVERSE_TOKEN) env.DVX_SECRET_DATAVERSE_TOKEN = env.DATAVERSE_TOKEN;
  if (env.DATAVERSE_CLIENT_SECRET) env.DVX_SECRET_DATAVERSE_CLIENT_SECRET = env.DATAVERSE_CLIENT_SECRET;
  if (options.destination) env.DVX_SECRET_DESTINATION_CONNECTION = options.destination;
  // This process is a local run: the emulator on loopback, Azurite and PGlite are allowed (never on App Service).
  env.DVX_LOCAL_MODE = '1';
  if (dataDir) env.DVX_DATA_DIR = dataDir;
  env.POLL_SCHEDULE ??= '* * * * * *';
  env.CHANGES_QUEUE ??= 'dataverse-changes';
  const key = await chooseFunctionKey(env, dataDir);
  const product = await startHost(
    {
      env,
      port: options.port,
      functionKey: key.key,
      log,
      ...(options.pageSize ? { sync: { pageSize: options.pageSize } } : {}),
    },
    running,
  );
  const call = apiCaller(product.host.baseUrl, key.key);
  const environmentUrl = options.dataverse ?? running.emulator?.baseUrl;
  say(banner({ options, product, key, environmentUrl, dataDir }));
  // Created in a child process after the banner (initdb competing with the start-up would delay it); the profile
  // below opens it.
  if (dataDir && !options.destination) await prepareEmbeddedDatabase(path.join(dataDir, 'databases', PROFILE));
  await createSampleProfile(call, options, environmentUrl);
  // The database opens with the profile's destination, so its psql line comes after the banner.
  const psql =
    dataDir && !options.destination ? await servePsql(product, PROFILE, dataDir, options.psqlPort, running) : undefined;
  if (psql) say(`psql: ${psql.command}`);
  const activated = `Profile '${PROFILE}' activated: initial sync of ${SAMPLE_TABLES.join(', ')} and systemuserroles.`;
  for (const line of wrapWords(activated, terminalColumns(process.stdout))) say(line);

  const counts = sampleCounts(options.scale);
  await followInitialSync(call, running.emulator ? { ...counts } : {});
  const workload: Workload | undefined = running.emulator
    ? createWorkload({
        baseUrl: running.emulator.baseUrl,
        token: env.DATAVERSE_TOKEN as string,
        seed: options.once ? 42 : Date.now(),
        sampleSeed: SAMPLE_SEED,
        rows: { account: counts.account, contact: counts.contact },
      })
    : undefined;
  if (!options.once) return followChanges(call, workload, options, (message) => log.warn(message));
  if (!workload || !running.emulator)
    throw new ExportError('config', '--once needs the built-in emulator (leave out --dataverse)');
  const tables = [...SAMPLE_TABLES, 'systemuserroles'];
  const equal = await runOnceCheck(
    { deps: product.deps, profile: PROFILE, emulator: running.emulator, workload, tables },
    say,
  );
  await shutdown(equal ? 0 : 1, false);
}

function explain(error: unknown): string {
  if (error instanceof UsageError) return error.message;
  if (error instanceof ExportError) return `${error.message}${error.fix ? `\nHow to fix: ${error.fix}` : ''}`;
  return `Start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}

async function fail(error: unknown): Promise<void> {
  if (stopping) return;
  process.stderr.write(`${explain(error)}\n`);
  const nothingStarted = Object.keys(running).length === 0;
  if (nothingStarted) {
    restoreTerminal(process.stdout, env);
    process.exit(error instanceof UsageError ? error.exitCode : 1);
  }
  await shutdown(error instanceof UsageError ? error.exitCode : 1, true);
}

// An error nobody awaited still stops Azurite and the host and gives the terminal back, like Ctrl-C does.
process.on('uncaughtException', (error) => void fail(error));
process.on('unhandledRejection', (reason) => void fail(reason));
main().catch(fail);
