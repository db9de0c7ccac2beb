// Compares the settings the code and the host read (app-settings-contract.ts) with what the compiled ARM
// template sets on the function app. Every problem is one line naming the setting.
import { settingDescriptions, loadSettings } from '../../shared/config/settings';
import { SERVICE_BUS_CONNECTION } from '../../functions/register';
import type { ArmTemplate } from './arm-rules';
import { valueAt } from './arm-rules';
import {
  HOST_STORAGE_CONNECTION,
  codeSettings,
  envReads,
  flexForbidden,
  functionAppSettings,
  hostSettings,
  identityConnectionSettings,
  percentReferences,
  resolveValue,
  type SettingRule,
} from './app-settings-contract';

/** Every setting with its rule: identity connections, `%SETTING%` references (the host cannot start a trigger without them), code and host settings. */
export function settingsContract(root: string): Record<string, SettingRule> {
  const references = Object.fromEntries(
    [...percentReferences(root)].map(([name, files]): [string, SettingRule] => [
      name,
      {
        scope: 'required',
        why: `named as %${name}% in ${[...new Set(files)].join(', ')}; the host does not start without it`,
      },
    ]),
  );
  return {
    ...codeSettings,
    ...hostSettings,
    ...references,
    ...identityConnectionSettings(HOST_STORAGE_CONNECTION, 'storage'),
    ...identityConnectionSettings(SERVICE_BUS_CONNECTION, 'serviceBus'),
  };
}

/** Settings the code reads that the contract does not classify: each needs a decision (required, optional, local-only). */
export function unclassifiedReads(root: string): string[] {
  const contract = settingsContract(root);
  const read = new Set([...Object.keys(settingDescriptions), ...envReads(root).keys()]);
  return [...read].filter((name) => !(name in contract)).sort();
}

const normalized = (name: string): string => name.toLowerCase().replace(/_/g, '');

function spelledAs(name: string, candidates: string[]): string {
  const other = candidates.find((candidate) => candidate !== name && normalized(candidate) === normalized(name));
  return other
    ? ` (set as ${other}: spelled differently; Linux app settings are case-sensitive environment variables)`
    : '';
}

/** Values only Azure knows (endpoints, the identity's client id), in the shape the settings have there. */
function deployedSample(name: string): string | undefined {
  if (name.endsWith('ServiceUri')) return 'https://account.example.core.windows.net/';
  if (name.endsWith('__fullyQualifiedNamespace')) return 'namespace.servicebus.windows.net';
  if (/(__clientId|_CLIENT_ID)$/.test(name)) return '00000000-0000-0000-0000-000000000000';
  return undefined;
}

/** The identity deployment a clientId or identity id expression points at (`…'Microsoft.Resources/deployments', 'identity')…`). */
function identitySource(main: ArmTemplate, templatePath: string, expression: unknown): string | undefined {
  // An object key compiles to `[format('{0}', parameters('x'))]`, a value to `[parameters('x')]`.
  const parameter =
    typeof expression === 'string'
      ? /^\[(?:format\('\{0\}', )?parameters\('(\w+)'\)\)?\]$/.exec(expression)?.[1]
      : undefined;
  const module = templatePath.split('/').at(-1);
  const deployment = (Array.isArray(main.resources) ? main.resources : Object.values(main.resources)).find(
    (resource) => resource.type === 'Microsoft.Resources/deployments' && resource.name === module,
  );
  const passed = parameter ? valueAt(deployment, ['properties', 'parameters', parameter, 'value']) : expression;
  return typeof passed === 'string' ? /'Microsoft\.Resources\/deployments', '([^']+)'/.exec(passed)?.[1] : undefined;
}

export function checkAppSettings(main: ArmTemplate, root: string, mainValues: Record<string, unknown>): string[] {
  const { site, settings } = functionAppSettings(main);
  const contract = settingsContract(root);
  const names = Object.keys(settings);
  const problems: string[] = [];
  for (const [name, rule] of Object.entries(contract)) {
    const set = name in settings;
    if (rule.scope === 'required' && !set)
      problems.push(`${name}: required (${rule.why}) but the template does not set it${spelledAs(name, names)}`);
    if (rule.scope === 'local-only' && set) problems.push(`${name}: local only (${rule.why}) but the template sets it`);
    if (set && rule.value !== undefined && settings[name] !== rule.value) {
      problems.push(
        `${name}: must be ${JSON.stringify(rule.value)}, the template sets ${JSON.stringify(settings[name])}`,
      );
    }
  }
  for (const name of names.filter((candidate) => !(candidate in contract))) {
    problems.push(`${name}: set on the function app but read by nothing${spelledAs(name, Object.keys(contract))}`);
  }
  for (const name of flexForbidden.filter((candidate) => candidate in settings))
    problems.push(`${name}: not allowed on Flex Consumption`);
  if (valueAt(site.resource, ['properties', 'functionAppConfig', 'runtime', 'name']) !== 'node') {
    problems.push(
      'functionAppConfig.runtime.name: must be node (Flex Consumption takes the runtime from functionAppConfig)',
    );
  }
  const identities = Object.keys(valueAt(site.resource, ['identity', 'userAssignedIdentities']) ?? {});
  const appIdentity = identities.length === 1 ? identitySource(main, site.template, identities[0]) : undefined;
  if (!appIdentity)
    problems.push('identity: the function app must run as exactly one user-assigned identity from a module');
  for (const name of names.filter((candidate) => /(__clientId|^AZURE_CLIENT_ID)$/.test(candidate))) {
    const source = identitySource(main, site.template, settings[name]);
    if (source !== appIdentity)
      problems.push(
        `${name}: must be the client id of the app's identity (module ${appIdentity}), points at ${source ?? String(settings[name])}`,
      );
  }
  problems.push(...deployedValueProblems(main, site.template, settings, mainValues));
  return problems;
}

/** The deployed values go through the app's own validation (shared/config/settings.ts), as at start-up in Azure. */
function deployedValueProblems(
  main: ArmTemplate,
  templatePath: string,
  settings: Record<string, unknown>,
  mainValues: Record<string, unknown>,
): string[] {
  const env: Record<string, string | undefined> = {};
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(settings)) {
    const value = resolveValue(main, templatePath, raw, mainValues) ?? deployedSample(name);
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.trim() === '')
      problems.push(`${name}: deploys as ${JSON.stringify(value)}, not a non-empty string`);
    else env[name] = value;
  }
  try {
    loadSettings(env);
  } catch (error) {
    problems.push(`the deployed settings fail the app's validation: ${(error as Error).message}`);
  }
  return problems;
}
