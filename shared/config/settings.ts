/**
 * App settings, validated once at start-up. A bad or missing setting stops start-up with a message that
 * names it, says what is wrong and where to fix it, instead of failing later inside a handler.
 */
import { z } from 'zod';
import { ExportError } from '../errors';

const logLevels = ['trace', 'debug', 'information', 'warning', 'error', 'none'] as const;

export const settingDescriptions = {
  AzureWebJobsStorage:
    'Storage connection string for state, checkpoints and failed records (local: set by the local host to Azurite). ' +
    'In Azure leave it empty and set the AzureWebJobsStorage__*ServiceUri settings for managed identity.',
  AzureWebJobsStorage__blobServiceUri: 'Blob endpoint of the host storage account, for identity-based access (Azure).',
  AzureWebJobsStorage__queueServiceUri: 'Queue endpoint of the host storage account, for identity-based access (Azure).',
  AzureWebJobsStorage__tableServiceUri: 'Table endpoint of the host storage account, for identity-based access (Azure).',
  AZURE_CLIENT_ID: 'Client id of the user-assigned managed identity used for storage, Service Bus, Key Vault and Dataverse (Azure).',
  LOG_LEVEL: `Lowest log level written: one of ${logLevels.join(', ')}. Default: information.`,
} as const;

export type SettingName = keyof typeof settingDescriptions;

const optionalText = z.string().trim().min(1).optional();
const optionalUrl = z.url({ protocol: /^https?$/ }).optional();

const settingsSchema = z
  .object({
    AzureWebJobsStorage: optionalText,
    AzureWebJobsStorage__blobServiceUri: optionalUrl,
    AzureWebJobsStorage__queueServiceUri: optionalUrl,
    AzureWebJobsStorage__tableServiceUri: optionalUrl,
    AZURE_CLIENT_ID: optionalText,
    LOG_LEVEL: z.enum(logLevels).default('information'),
  } satisfies Record<SettingName, z.ZodType>);

const storageUriSettings = [
  'AzureWebJobsStorage__blobServiceUri',
  'AzureWebJobsStorage__queueServiceUri',
  'AzureWebJobsStorage__tableServiceUri',
] as const;

/** Checked on the raw values so it is reported together with every other problem, not after them. */
function storageProblem(values: Record<string, string | undefined>): string | undefined {
  if (values.AzureWebJobsStorage !== undefined) return undefined;
  if (storageUriSettings.every((name) => values[name] !== undefined)) return undefined;
  return (
    'AzureWebJobsStorage: no storage is configured: set AzureWebJobsStorage to a connection string, or all three ' +
    'AzureWebJobsStorage__blobServiceUri, __queueServiceUri and __tableServiceUri for managed identity'
  );
}

export type StorageSettings =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'identity'; blobServiceUri: string; queueServiceUri: string; tableServiceUri: string; clientId?: string };

export interface Settings {
  storage: StorageSettings;
  logLevel: (typeof logLevels)[number];
}

/** Reads the settings from an environment (process.env in both hosts). Throws a config ExportError listing every problem. */
export function loadSettings(env: Record<string, string | undefined>): Settings {
  const blankAsMissing = Object.fromEntries(
    Object.keys(settingDescriptions).map((name) => [name, env[name]?.trim() === '' ? undefined : env[name]]),
  );
  const parsed = settingsSchema.safeParse(blankAsMissing);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)),
    ...[storageProblem(blankAsMissing)].filter((problem) => problem !== undefined),
  ];
  if (!parsed.success || problems.length > 0) {
    throw new ExportError('config', `Invalid app settings:\n${problems.map((problem) => `- ${problem}`).join('\n')}`, {
      where: problems.map((problem) => problem.split(':')[0]).join(', '),
      fix: 'Set them in local.settings.json ("Values") when running locally, or in the Function App\'s app settings in Azure. ' +
        'local.settings.sample.json documents every setting.',
    });
  }
  const value = parsed.data;
  const storage: StorageSettings =
    value.AzureWebJobsStorage !== undefined
      ? { kind: 'connectionString', connectionString: value.AzureWebJobsStorage }
      : {
          kind: 'identity',
          blobServiceUri: value.AzureWebJobsStorage__blobServiceUri as string,
          queueServiceUri: value.AzureWebJobsStorage__queueServiceUri as string,
          tableServiceUri: value.AzureWebJobsStorage__tableServiceUri as string,
          ...(value.AZURE_CLIENT_ID ? { clientId: value.AZURE_CLIENT_ID } : {}),
        };
  return { storage, logLevel: value.LOG_LEVEL };
}
