// The app settings contract between the code and infra/: which settings the code and the Functions host read,
// which of them Azure must have, and what the compiled ARM template sets on the function app.
// Identity-based connections follow learn.microsoft.com/azure/azure-functions/functions-reference
// #connecting-to-host-storage-with-an-identity and #common-properties-for-identity-based-connections.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { armResources, valueAt, type ArmResource, type ArmTemplate } from './arm-rules';

export type Scope = 'required' | 'optional' | 'local-only';

export interface SettingRule {
  scope: Scope;
  /** The literal value Azure needs, where there is exactly one. */
  value?: string;
  why: string;
}

/** The Functions host's connection for its own storage (timers, leases, Durable Functions). */
export const HOST_STORAGE_CONNECTION = 'AzureWebJobsStorage';

/**
 * Settings of an identity-based connection using the user-assigned identity: `credential` and `clientId` pick
 * it, the rest say where the service is. Durable Functions' Azure Storage provider needs tables as well as blobs
 * and queues, so the host storage is described by its three service URIs.
 */
export function identityConnectionSettings(
  connection: string,
  kind: 'storage' | 'serviceBus',
): Record<string, SettingRule> {
  const where =
    kind === 'storage' ? ['blobServiceUri', 'queueServiceUri', 'tableServiceUri'] : ['fullyQualifiedNamespace'];
  const rules: [string, SettingRule][] = [
    ...where.map((name): [string, SettingRule] => [
      `${connection}__${name}`,
      { scope: 'required', why: `where connection ${connection} points` },
    ]),
    [
      `${connection}__credential`,
      { scope: 'required', value: 'managedidentity', why: `connection ${connection} uses a managed identity` },
    ],
    [
      `${connection}__clientId`,
      { scope: 'required', why: `which user-assigned identity connection ${connection} uses` },
    ],
  ];
  return Object.fromEntries(rules);
}

/** Settings read by the host or a library rather than by our code. */
export const hostSettings: Record<string, SettingRule> = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: { scope: 'optional', why: 'host telemetry to Application Insights' },
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: {
    scope: 'optional',
    why: 'Entra ingestion: the Application Insights resource has local auth disabled',
  },
};

/** Why each setting the code reads is required, optional or local-only in Azure. A new setting must be added here. */
export const codeSettings: Record<string, SettingRule> = {
  AzureWebJobsStorage: {
    scope: 'local-only',
    why: 'a connection string carries an account key; Azure uses the identity-based AzureWebJobsStorage__* settings',
  },
  AZURE_CLIENT_ID: {
    scope: 'required',
    why: 'DefaultAzureCredential must pick the user-assigned identity (Key Vault, lake, Dataverse, state)',
  },
  LOG_LEVEL: { scope: 'optional', why: 'defaults to information' },
  STATUS_DEGRADED_AFTER_POLLS: { scope: 'optional', why: 'defaults to 3 poll intervals' },
  FAILED_RECORD_RETENTION_DAYS: {
    scope: 'required',
    why: 'the app sweep must keep failed records as long as the storage lifecycle rule (parameter failedRecordRetentionDays)',
  },
  INITIAL_SYNC_READ_STREAMS: {
    scope: 'required',
    why: "how many partitions of a table the initial sync reads at once is the operator's choice (Bicep parameter initialSyncReadStreams), visible in the deployment",
  },
  DVX_LOCAL_MODE: {
    scope: 'local-only',
    why: 'local mode (loopback emulator, Azurite, PGlite, static tokens); on App Service it stops start-up (shared/security/policy.ts)',
  },
  DVX_DATA_DIR: { scope: 'local-only', why: 'folder of embedded PGlite databases, which exist in local mode only' },
  DVX_ALLOWED_SOURCE_HOSTS: {
    scope: 'optional',
    why: 'operator allow-list of Dataverse hosts beyond Microsoft cloud hosts; default none',
  },
  DVX_ALLOWED_LAKE_HOSTS: {
    scope: 'optional',
    why: "operator allow-list of lake hosts beyond this cloud's storage endpoints; default none",
  },
  REQUIRE_APP_ROLE: {
    scope: 'optional',
    why: 'set with App Service Authentication (modules/auth.bicep, parameter adminApiClientId); empty means function keys only',
  },
};

/** Flex Consumption rejects or ignores these (learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations). */
export const flexForbidden = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
];

function sourceFiles(root: string, folder: string): { path: string; text: string }[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.ts'))
    .map((path) => ({ path: `${folder}/${path}`, text: readFileSync(join(root, folder, path), 'utf8') }));
}

/** Names read as `process.env.X`, `env.X` or `env['X']` in shared/ and functions/ (local/ and test/ are not deployed). */
export function envReads(root: string): Map<string, string[]> {
  const reads = new Map<string, string[]>();
  const pattern = /\b(?:process\.env|env)(?:\.([A-Za-z_]\w*)|\[\s*['"`]([^'"`]+)['"`]\s*\])/g;
  for (const file of [...sourceFiles(root, 'shared'), ...sourceFiles(root, 'functions')]) {
    for (const match of file.text.matchAll(pattern)) {
      const name = match[1] ?? match[2] ?? '';
      reads.set(name, [...(reads.get(name) ?? []), file.path]);
    }
  }
  return reads;
}

/** `%SETTING%` references the host resolves from app settings: trigger options in functions/ and host.json. */
export function percentReferences(root: string): Map<string, string[]> {
  const references = new Map<string, string[]>();
  const files = [
    ...sourceFiles(root, 'functions'),
    { path: 'host.json', text: readFileSync(join(root, 'host.json'), 'utf8') },
  ];
  for (const file of files) {
    // Only inside string literals: comments mention the `%AppSetting%` form itself.
    for (const match of file.text.matchAll(/['"]%([A-Za-z_]\w*)%/g)) {
      const name = match[1] ?? '';
      references.set(name, [...(references.get(name) ?? []), file.path]);
    }
  }
  return references;
}

export interface AppSettingsFound {
  site: ArmResource;
  settings: Record<string, unknown>;
}

/** The function app (kind functionapp) and every setting it gets: `siteConfig.appSettings` and `sites/config` appsettings. */
export function functionAppSettings(main: ArmTemplate): AppSettingsFound {
  const resources = armResources(main);
  const sites = resources.filter(
    ({ resource }) =>
      resource.type === 'Microsoft.Web/sites' &&
      typeof resource.kind === 'string' &&
      resource.kind.includes('functionapp'),
  );
  if (sites.length !== 1) throw new Error(`expected one function app in the template, found ${sites.length}`);
  const site = sites[0] as ArmResource;
  const inline = (valueAt(site.resource, ['properties', 'siteConfig', 'appSettings']) ?? []) as {
    name: string;
    value: unknown;
  }[];
  const settings: Record<string, unknown> = Object.fromEntries(inline.map((entry) => [entry.name, entry.value]));
  for (const { template, resource } of resources) {
    if (
      template === site.template &&
      resource.type === 'Microsoft.Web/sites/config' &&
      /'appsettings'\)\]$|\/appsettings$/.test(resource.name)
    ) {
      Object.assign(settings, resource.properties);
    }
  }
  return { site, settings };
}

/**
 * The value a template expression has at deployment when it is fixed by parameters: `[parameters('x')]` and
 * `[string(parameters('x'))]` followed through the module deployments up to main's parameter file or defaults.
 * Anything else (a reference() to a deployed resource) is only known in Azure: undefined.
 */
export function resolveValue(
  main: ArmTemplate,
  templatePath: string,
  value: unknown,
  mainValues: Record<string, unknown>,
): unknown {
  if (typeof value !== 'string' || !value.startsWith('[')) return value;
  const plain = /^\[parameters\('(\w+)'\)\]$/.exec(value)?.[1];
  const stringified = /^\[string\(parameters\('(\w+)'\)\)\]$/.exec(value)?.[1];
  const name = plain ?? stringified;
  if (!name) return undefined;
  const resolved = parameterValue(main, templatePath, name, mainValues);
  // The parameters passed through string() in these templates are scalars (names, numbers, flags).
  return stringified && resolved !== undefined ? `${resolved as string | number | boolean}` : resolved;
}

function templateAt(main: ArmTemplate, templatePath: string): { template: ArmTemplate; deployment?: ArmResource } {
  if (templatePath === 'main') return { template: main };
  const deployment = armResources(main).find(
    ({ template, resource }) =>
      resource.type === 'Microsoft.Resources/deployments' && `${template}/${resource.name}` === templatePath,
  );
  const template = deployment?.resource.properties?.template as ArmTemplate | undefined;
  if (!deployment || !template) throw new Error(`no module template at ${templatePath}`);
  return { template, deployment };
}

function parameterValue(
  main: ArmTemplate,
  templatePath: string,
  name: string,
  mainValues: Record<string, unknown>,
): unknown {
  const { template, deployment } = templateAt(main, templatePath);
  if (!deployment && name in mainValues) return mainValues[name];
  const passed = deployment?.resource.properties?.parameters as Record<string, { value?: unknown }> | undefined;
  if (deployment && passed?.[name]) return resolveValue(main, deployment.template, passed[name].value, mainValues);
  const declared = (template.parameters as Record<string, { defaultValue?: unknown }> | undefined)?.[name];
  return resolveValue(main, templatePath, declared?.defaultValue, mainValues);
}
