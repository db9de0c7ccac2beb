/**
 * `npm start`: Azurite plus the local host running the product's function table.
 * Flags: --port <n> (default 7071; 0 picks a free port).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createFunctionDeps } from '../functions/deps';
import { functionTable } from '../functions/table';
import { ExportError } from '../shared/errors';
import { createStorageClients } from '../shared/storage/clients';
import { loadSettings } from '../shared/config/settings';
import { startAzurite, type RunningAzurite } from './azurite/azurite';
import { claimDataFolder, type DataFolder } from './azurite/data-folder';
import { consoleLog } from './host/console-log';
import { startLocalHost, type LocalHost } from './host/host';
import { readLocalSettings } from './host/local-settings-file';

const repoRoot = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '7071' } },
    strict: true,
  });
  const port = Number.parseInt(values.port, 10);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ExportError('config', `--port must be a port number, not '${values.port}'`, { where: '--port', fix: 'Use e.g. --port 7071, or 0 for any free port.' });
  }

  const env: Record<string, string | undefined> = { ...(await readLocalSettings(path.join(repoRoot, 'local.settings.json'))), ...process.env };
  const log = consoleLog(loadLogLevel(env));

  const running: { folder?: DataFolder; azurite?: RunningAzurite; host?: LocalHost } = {};
  const shutdown = async (signal: string) => {
    log.info(`${signal} received; stopping`);
    await running.host?.close();
    await running.azurite?.stop();
    await running.folder?.release();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  let azurite: RunningAzurite | undefined;
  if (!env.AzureWebJobsStorage) {
    const folder = await claimDataFolder(path.join(repoRoot, '.azurite'));
    running.folder = folder;
    if (!folder.shared) log.warn(`another 'npm start' holds .azurite/local; this run keeps its data in ${path.relative(repoRoot, folder.location)} and removes it on exit`);
    azurite = await startAzurite({ location: folder.location });
    running.azurite = azurite;
    env.AzureWebJobsStorage = azurite.connectionString;
  }
  const settings = loadSettings(env);
  const functionKey = env.LOCAL_FUNCTION_KEY ?? randomBytes(24).toString('base64url');
  const host = await startLocalHost({
    definitions: functionTable,
    createDeps: ({ orchestrations }) => createFunctionDeps(env, () => orchestrations),
    storage: createStorageClients(settings.storage),
    env,
    port,
    keys: { functionKey, masterKey: randomBytes(24).toString('base64url') },
    log,
  });
  running.host = host;

  const lines = [
    '',
    'dataverse-export local host is running.',
    azurite
      ? `  Azurite (pid ${azurite.pid}): blob ${azurite.blobEndpoint}, queue ${azurite.queueEndpoint}, table ${azurite.tableEndpoint}`
      : '  Storage: AzureWebJobsStorage from your settings',
    `  API: ${host.baseUrl}`,
    ...functionTable.flatMap((definition) =>
      definition.kind === 'http' ? [`    ${definition.methods.join(',').padEnd(6)} ${host.baseUrl}/${definition.route}`] : [],
    ),
    env.LOCAL_FUNCTION_KEY
      ? '  Function key: LOCAL_FUNCTION_KEY from your settings (send it as x-functions-key or ?code=)'
      : `  Function key for this run (send it as x-functions-key or ?code=): ${functionKey}`,
    `  Try: curl -H "x-functions-key: <key>" ${host.baseUrl}/health`,
    '  Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function loadLogLevel(env: Record<string, string | undefined>) {
  const level = env.LOG_LEVEL;
  return level === 'trace' || level === 'debug' || level === 'warning' || level === 'error' || level === 'none' ? level : 'information';
}

main().catch((error: unknown) => {
  if (error instanceof ExportError) {
    process.stderr.write(`\n${error.message}\n${error.fix ? `How to fix: ${error.fix}\n` : ''}`);
  } else {
    process.stderr.write(`\nStart-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
