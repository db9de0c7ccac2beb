/**
 * App settings, validated once at start-up. A bad or missing setting stops start-up with a message that
 * names it, says what is wrong and where to fix it, instead of failing later inside a handler.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { ExportError } from '../errors';
import { PLATFORM_VARIABLES, securityPolicy, type SecurityPolicy } from '../security/policy';

const logLevels = ['trace', 'debug', 'information', 'warning', 'error', 'none'] as const;
const DEFAULT_CHANGES_QUEUE = 'dataverse-changes';

export const DEFAULT_POLL_SCHEDULE = '*/5 * * * * *';
export const DEFAULT_LAKE_MAINTENANCE_SCHEDULE = '0 * * * * *';
export const DEFAULT_SCHEMA_REFRESH_SCHEDULE = '0 */5 * * * *';
export const DEFAULT_FAILURE_RETENTION_SCHEDULE = '0 30 3 * * *';
export const DEFAULT_FAILED_RECORD_RETENTION_DAYS = 30;
export const DEFAULT_STATUS_DEGRADED_AFTER_POLLS = 3;
export const DEFAULT_INITIAL_SYNC_READ_STREAMS = 8;
/** Dataverse's limit of concurrent requests per user (shared/sync/capture/initial-sync-plan.ts MAX_CONCURRENT_REQUESTS). */
const MAX_READ_STREAMS = 52;

/** Defaults of settings that triggers name as `%SETTING%`: the local host uses them when the setting is unset. */
export const triggerSettingDefaults: Record<string, string> = {
  POLL_SCHEDULE: DEFAULT_POLL_SCHEDULE,
  LAKE_MAINTENANCE_SCHEDULE: DEFAULT_LAKE_MAINTENANCE_SCHEDULE,
  SCHEMA_REFRESH_SCHEDULE: DEFAULT_SCHEMA_REFRESH_SCHEDULE,
  FAILURE_RETENTION_SCHEDULE: DEFAULT_FAILURE_RETENTION_SCHEDULE,
};

export const settingDescriptions = {
  POLL_SCHEDULE: `NCRONTAB schedule of the change poller, six fields with seconds first. Default: ${DEFAULT_POLL_SCHEDULE} (npm start uses every second).`,
  LAKE_MAINTENANCE_SCHEDULE:
    `NCRONTAB schedule of lake maintenance (in-place snapshots, incremental folder rollover) for active lake profiles, six fields with seconds first. ` +
    `Default: ${DEFAULT_LAKE_MAINTENANCE_SCHEDULE} (every minute; the profile's intervals decide when a snapshot or rollover is due).`,
  SCHEMA_REFRESH_SCHEDULE:
    `NCRONTAB schedule of the check for attributes added to or changed in the exported tables while in delta (adds columns, back-fills them), six fields with seconds first. ` +
    `Default: ${DEFAULT_SCHEMA_REFRESH_SCHEDULE} (every five minutes).`,
  FAILURE_RETENTION_SCHEDULE:
    `NCRONTAB schedule of the sweep that deletes failed records and unprocessable messages older than FAILED_RECORD_RETENTION_DAYS, six fields with seconds first. ` +
    `Default: ${DEFAULT_FAILURE_RETENTION_SCHEDULE} (daily at 03:30 UTC).`,
  FAILED_RECORD_RETENTION_DAYS:
    `Days failed records and unprocessable messages are kept (whole days, at least 1). Default: ${DEFAULT_FAILED_RECORD_RETENTION_DAYS}. ` +
    'In Azure the storage lifecycle rule uses the same number (Bicep parameter failedRecordRetentionDays).',
  STATUS_DEGRADED_AFTER_POLLS: `Poll intervals (of POLL_SCHEDULE) a table in delta may go without a successful poll before status and /api/health call it degraded. Default: ${DEFAULT_STATUS_DEGRADED_AFTER_POLLS}.`,
  INITIAL_SYNC_READ_STREAMS:
    `Requests reading one table's initial sync at once, 1 to ${MAX_READ_STREAMS}: the table is read in partitions of ids, as many at once as Dataverse's x-ms-dop-hint suggests and at most this (docs/notes/parallel-initial-sync.md). ` +
    `1 reads it page after page. Default: ${DEFAULT_INITIAL_SYNC_READ_STREAMS}.`,
  AzureWebJobsStorage:
    'Storage connection string for state, checkpoints and failed records (local: set by the local host to Azurite). ' +
    'In Azure leave it empty and set the AzureWebJobsStorage__*ServiceUri settings for managed identity.',
  AzureWebJobsStorage__blobServiceUri: 'Blob endpoint of the host storage account, for identity-based access (Azure).',
  AzureWebJobsStorage__queueServiceUri:
    'Queue endpoint of the host storage account, for identity-based access (Azure).',
  AzureWebJobsStorage__tableServiceUri:
    'Table endpoint of the host storage account, for identity-based access (Azure).',
  AZURE_CLIENT_ID:
    'Client id of the user-assigned managed identity used for storage, Service Bus, Key Vault and Dataverse (Azure).',
  LOG_LEVEL: `Lowest log level written: one of ${logLevels.join(', ')}. Default: information.`,
  CHANGES_QUEUE:
    `Name of the change-batch queue (Service Bus queue in Azure, Azure Storage queue otherwise). Default: ${DEFAULT_CHANGES_QUEUE}. ` +
    '3 to 63 lower-case letters, digits and single hyphens, so the same name works on both transports.',
  ServiceBus__fullyQualifiedNamespace:
    'Service Bus namespace host name (e.g. sb-dvexport.servicebus.windows.net). Set: change batches go through Service Bus. ' +
    'Empty: through an Azure Storage queue on AzureWebJobsStorage (local runs).',
  ServiceBus__clientId:
    'Client id of the managed identity the app uses for Service Bus. Empty: DefaultAzureCredential (Azure CLI login locally).',
  DVX_LOCAL_MODE:
    '1: local mode (the emulator on loopback, Azurite, PGlite, static tokens), set by npm start and in local.settings.json. ' +
    'Ignored nowhere: on Azure App Service (WEBSITE_SITE_NAME or WEBSITE_INSTANCE_ID set by the platform) it stops start-up.',
  DVX_ALLOWED_SOURCE_HOSTS:
    'Comma-separated Dataverse host names a profile may name besides Microsoft cloud hosts (*.crm[N].dynamics.com and the sovereign ones); "*.example.com" allows sub-domains. Default: none.',
  DVX_ALLOWED_LAKE_HOSTS:
    "Comma-separated lake storage host names a profile may name besides <account>.blob|dfs.<this cloud's storage suffix>. Default: none.",
  DVX_DATA_DIR:
    'Local mode only: folder of the embedded databases, one sub-folder per profile (npm start sets it to .data/local). Empty: PGlite in memory.',
  REQUIRE_APP_ROLE:
    'App role (e.g. Export.Admin) every admin API call must carry in the X-MS-CLIENT-PRINCIPAL header App Service Authentication adds. ' +
    'Set in Azure by the Bicep; empty locally, where the function key is the only check.',
} as const;

export type SettingName = keyof typeof settingDescriptions;

function isSixFieldSchedule(value: string): boolean {
  if (value.trim().split(/\s+/).length !== 6) return false;
  try {
    new Cron(value, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}

const optionalText = z.string().trim().min(1).optional();
const optionalUrl = z.url({ protocol: /^https?$/ }).optional();
const hostList = z
  .string()
  .regex(
    /^\s*(\*\.)?[a-z0-9.-]+(\s*,\s*(\*\.)?[a-z0-9.-]+)*\s*$/i,
    'comma-separated host names, e.g. proxy.contoso.com,*.contoso.net',
  )
  .optional();

const settingsSchema = z.object({
  AzureWebJobsStorage: optionalText,
  AzureWebJobsStorage__blobServiceUri: optionalUrl,
  AzureWebJobsStorage__queueServiceUri: optionalUrl,
  AzureWebJobsStorage__tableServiceUri: optionalUrl,
  AZURE_CLIENT_ID: optionalText,
  LOG_LEVEL: z.enum(logLevels).default('information'),
  POLL_SCHEDULE: z
    .string()
    .default(DEFAULT_POLL_SCHEDULE)
    .refine(
      isSixFieldSchedule,
      'must be an NCRONTAB expression with six fields: {second} {minute} {hour} {day} {month} {day-of-week}',
    ),
  SCHEMA_REFRESH_SCHEDULE: z
    .string()
    .default(DEFAULT_SCHEMA_REFRESH_SCHEDULE)
    .refine(
      isSixFieldSchedule,
      'must be an NCRONTAB expression with six fields: {second} {minute} {hour} {day} {month} {day-of-week}',
    ),
  LAKE_MAINTENANCE_SCHEDULE: z
    .string()
    .default(DEFAULT_LAKE_MAINTENANCE_SCHEDULE)
    .refine(
      isSixFieldSchedule,
      'must be an NCRONTAB expression with six fields: {second} {minute} {hour} {day} {month} {day-of-week}',
    ),
  FAILURE_RETENTION_SCHEDULE: z
    .string()
    .default(DEFAULT_FAILURE_RETENTION_SCHEDULE)
    .refine(
      isSixFieldSchedule,
      'must be an NCRONTAB expression with six fields: {second} {minute} {hour} {day} {month} {day-of-week}',
    ),
  FAILED_RECORD_RETENTION_DAYS: z
    .string()
    .regex(/^[1-9]\d{0,4}$/, 'must be a whole number of days from 1 to 99999')
    .transform(Number)
    .default(DEFAULT_FAILED_RECORD_RETENTION_DAYS),
  STATUS_DEGRADED_AFTER_POLLS: z
    .string()
    .regex(/^[1-9]\d{0,3}$/, 'must be a whole number of poll intervals from 1 to 9999')
    .transform(Number)
    .default(DEFAULT_STATUS_DEGRADED_AFTER_POLLS),
  INITIAL_SYNC_READ_STREAMS: z
    .string()
    .regex(/^[1-9]\d?$/, `must be a whole number of streams from 1 to ${MAX_READ_STREAMS} (1: page after page)`)
    .transform(Number)
    .refine((streams) => streams <= MAX_READ_STREAMS, {
      message: `must be at most ${MAX_READ_STREAMS}, Dataverse's limit of concurrent requests per user`,
    })
    .default(DEFAULT_INITIAL_SYNC_READ_STREAMS),
  // Azure Storage queue naming rules; every Service Bus queue name of this form is valid too.
  CHANGES_QUEUE: z
    .string()
    .regex(
      /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/,
      '3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit',
    )
    .default(DEFAULT_CHANGES_QUEUE),
  ServiceBus__fullyQualifiedNamespace: z
    .string()
    .trim()
    .regex(
      /^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)+$/i,
      'a host name such as sb-dvexport.servicebus.windows.net, without https:// or a path',
    )
    .optional(),
  ServiceBus__clientId: optionalText,
  DVX_LOCAL_MODE: z.enum(['0', '1']).optional(),
  DVX_ALLOWED_SOURCE_HOSTS: hostList,
  DVX_ALLOWED_LAKE_HOSTS: hostList,
  DVX_DATA_DIR: optionalText,
  REQUIRE_APP_ROLE: z
    .string()
    .trim()
    .regex(/^[A-Za-z][A-Za-z0-9._-]{0,119}$/, 'an app role value such as Export.Admin')
    .optional(),
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

export interface ChangeQueueSettings {
  queueName: string;
  /** Absent: the change queue is an Azure Storage queue on the host storage. */
  serviceBus?: { fullyQualifiedNamespace: string; clientId?: string };
}

export interface Settings {
  storage: StorageSettings;
  changeQueue: ChangeQueueSettings;
  logLevel: (typeof logLevels)[number];
  pollSchedule: string;
  lakeMaintenanceSchedule: string;
  schemaRefreshSchedule: string;
  failureRetentionSchedule: string;
  failedRecordRetentionDays: number;
  /** Poll intervals without a successful poll before a table in delta is degraded. */
  statusDegradedAfterPolls: number;
  /** Requests reading one table's initial sync at once (SyncOptions.readStreams); 1 reads it page after page. */
  initialSyncReadStreams: number;
  security: SecurityPolicy;
  /** Set in Azure: admin API calls need this app role in the client principal. */
  requiredAppRole?: string;
}

/** Reads the settings from an environment (process.env in both hosts). Throws a config ExportError listing every problem. */
export function loadSettings(env: Record<string, string | undefined>): Settings {
  const blankAsMissing = Object.fromEntries(
    Object.keys(settingDescriptions).map((name) => [name, env[name]?.trim() === '' ? undefined : env[name]]),
  );
  const parsed = settingsSchema.safeParse(blankAsMissing);
  let security: SecurityPolicy | undefined;
  let securityProblem: string | undefined;
  try {
    security = securityPolicy(blankAsMissingWith(env, blankAsMissing));
  } catch (error) {
    securityProblem = `DVX_LOCAL_MODE: ${error instanceof Error ? error.message : String(error)}`;
  }
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)),
    ...[storageProblem(blankAsMissing), securityProblem].filter((problem) => problem !== undefined),
  ];
  if (!parsed.success || problems.length > 0 || security === undefined) {
    throw new ExportError('config', `Invalid app settings:\n${problems.map((problem) => `- ${problem}`).join('\n')}`, {
      where: problems.map((problem) => problem.split(':')[0]).join(', '),
      fix:
        'Set them in local.settings.json ("Values") when running locally, or in the Function App\'s app settings in Azure. ' +
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
  const changeQueue: ChangeQueueSettings = {
    queueName: value.CHANGES_QUEUE,
    ...(value.ServiceBus__fullyQualifiedNamespace
      ? {
          serviceBus: {
            fullyQualifiedNamespace: value.ServiceBus__fullyQualifiedNamespace,
            ...(value.ServiceBus__clientId ? { clientId: value.ServiceBus__clientId } : {}),
          },
        }
      : {}),
  };
  return {
    storage,
    changeQueue,
    logLevel: value.LOG_LEVEL,
    pollSchedule: value.POLL_SCHEDULE,
    lakeMaintenanceSchedule: value.LAKE_MAINTENANCE_SCHEDULE,
    schemaRefreshSchedule: value.SCHEMA_REFRESH_SCHEDULE,
    failureRetentionSchedule: value.FAILURE_RETENTION_SCHEDULE,
    failedRecordRetentionDays: value.FAILED_RECORD_RETENTION_DAYS,
    statusDegradedAfterPolls: value.STATUS_DEGRADED_AFTER_POLLS,
    initialSyncReadStreams: value.INITIAL_SYNC_READ_STREAMS,
    security,
    ...(value.REQUIRE_APP_ROLE ? { requiredAppRole: value.REQUIRE_APP_ROLE } : {}),
  };
}

/** The settings plus the platform's own variables, which are no settings of ours but tell where the process runs. */
const blankAsMissingWith = (
  env: Record<string, string | undefined>,
  settings: Record<string, string | undefined>,
): Record<string, string | undefined> => ({
  ...Object.fromEntries(PLATFORM_VARIABLES.map((name) => [name, env[name]])),
  ...settings,
});
