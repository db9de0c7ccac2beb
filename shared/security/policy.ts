/**
 * What a caller of the admin API may make the app do. A profile names hosts, folders and secret references;
 * before the app resolves a credential for it or sends one anywhere, `profileProblems` must find nothing.
 * The same checks answer PUT with a 400 naming the field and stop a stored profile at run time, so a profile
 * stored before a rule existed (or with a setting since removed) is refused too.
 *
 * Local mode (the emulator on loopback, Azurite, PGlite, static tokens) needs DVX_LOCAL_MODE=1 AND a process
 * that is not on App Service: the platform sets WEBSITE_SITE_NAME and WEBSITE_INSTANCE_ID itself, read-only
 * (https://learn.microsoft.com/azure/app-service/reference-app-settings#app-environment), so no app setting
 * can switch local mode on in Azure; asking for it there stops start-up.
 */
import path from 'node:path';
import { ExportError } from '../errors';
import type { ExportProfile, ProfileProblem, SecretReference } from '../profile/profile';
import {
  hostListMatches,
  isDataverseHost,
  isLoopback,
  isPrivateAddress,
  isStorageHost,
  parseHostList,
  storageSuffixOf,
} from './hosts';

/** The one prefix an app setting must have to be named by a profile: no other setting (AzureWebJobsStorage, …) is reachable. */
export const SECRET_SETTING_PREFIX = 'DVX_SECRET_';

/** Read-only variables App Service (Functions included) sets in every instance. */
export const PLATFORM_VARIABLES = ['WEBSITE_SITE_NAME', 'WEBSITE_INSTANCE_ID', 'WEBSITE_OWNER_NAME'] as const;

export interface SecurityPolicy {
  localMode: boolean;
  /** DVX_ALLOWED_SOURCE_HOSTS: Dataverse hosts beyond Microsoft's clouds (e.g. a proxy the operator runs). */
  allowedSourceHosts: string[];
  /** DVX_ALLOWED_LAKE_HOSTS: lake hosts beyond the Azure Storage endpoints of this cloud. */
  allowedLakeHosts: string[];
  /** `core.windows.net` or a sovereign cloud's, from the host storage endpoint. */
  storageSuffix: string;
  /** DVX_DATA_DIR (local mode): embedded databases live in `<it>/databases/<profile>`. */
  dataRoot?: string;
}

export const runsOnAppService = (env: Record<string, string | undefined>): boolean =>
  PLATFORM_VARIABLES.some((name) => Boolean(env[name]));

export function securityPolicy(env: Record<string, string | undefined>): SecurityPolicy {
  const requested = env.DVX_LOCAL_MODE === '1';
  if (requested && runsOnAppService(env)) {
    throw new ExportError(
      'config',
      'DVX_LOCAL_MODE is set, but this process runs on Azure App Service, where local mode is never allowed',
      {
        where: 'DVX_LOCAL_MODE',
        fix: 'Remove DVX_LOCAL_MODE from the Function App settings (it belongs in local.settings.json only).',
      },
    );
  }
  return {
    localMode: requested,
    allowedSourceHosts: parseHostList(env.DVX_ALLOWED_SOURCE_HOSTS),
    allowedLakeHosts: parseHostList(env.DVX_ALLOWED_LAKE_HOSTS),
    storageSuffix: storageSuffixOf(env.AzureWebJobsStorage__blobServiceUri),
    ...(requested && env.DVX_DATA_DIR ? { dataRoot: path.resolve(env.DVX_DATA_DIR) } : {}),
  };
}

/** Why a URL may not receive a credential, or undefined when it may. */
function hostProblem(
  policy: SecurityPolicy,
  value: string,
  known: (host: string) => boolean,
  allowList: readonly string[],
  setting: string,
  what: string,
): string | undefined {
  const url = URL.parse(value);
  if (!url) return 'must be a URL';
  const host = url.hostname.toLowerCase();
  const local = isLoopback(host) || isPrivateAddress(host);
  if (local)
    return policy.localMode
      ? undefined
      : `${host} is a loopback or private address, accepted only when the app runs locally`;
  if (url.protocol !== 'https:') return 'must use https';
  if (url.username || url.password) return 'must not carry a user name or password';
  if (known(host) || hostListMatches(allowList, host)) return undefined;
  return `${host} is not ${what}; an operator may allow it in the app setting ${setting}`;
}

export const sourceUrlProblem = (policy: SecurityPolicy, url: string): string | undefined =>
  hostProblem(
    policy,
    url,
    isDataverseHost,
    policy.allowedSourceHosts,
    'DVX_ALLOWED_SOURCE_HOSTS',
    'a Dataverse host of a Microsoft cloud',
  );

export const lakeUrlProblem = (policy: SecurityPolicy, url: string): string | undefined =>
  hostProblem(
    policy,
    url,
    (host) => isStorageHost(host, policy.storageSuffix),
    policy.allowedLakeHosts,
    'DVX_ALLOWED_LAKE_HOSTS',
    `an Azure Storage blob or dfs endpoint (*.${policy.storageSuffix})`,
  );

export function secretReferenceProblem(reference: SecretReference): string | undefined {
  if ('appSetting' in reference && !reference.appSetting.startsWith(SECRET_SETTING_PREFIX)) {
    return `only app settings whose name starts with ${SECRET_SETTING_PREFIX} may be named by a profile`;
  }
  return undefined;
}

/** Everything the policy refuses in a profile, each with its field; empty when the app may act on it. */
export function profileProblems(policy: SecurityPolicy, profile: ExportProfile): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  const add = (field: string, reason: string | undefined) => {
    if (reason !== undefined) problems.push({ field, reason });
  };
  add('source.environmentUrl', sourceUrlProblem(policy, profile.source.environmentUrl));
  const auth = profile.source.auth;
  if (auth.kind === 'static-token') {
    add(
      'source.auth.kind',
      policy.localMode
        ? undefined
        : 'static-token is for the local emulator only; use client-secret or managed-identity',
    );
    add('source.auth.token', secretReferenceProblem(auth.token));
  }
  if (auth.kind === 'client-secret') add('source.auth.clientSecret', secretReferenceProblem(auth.clientSecret));
  const destination = profile.destination;
  if (destination.kind === 'lake') {
    if ('accountUrl' in destination.storage)
      add('destination.storage.accountUrl', lakeUrlProblem(policy, destination.storage.accountUrl));
    else add('destination.storage.connectionString', secretReferenceProblem(destination.storage.connectionString));
  } else if (destination.dialect === 'pglite') {
    add('destination.dialect', policy.localMode ? undefined : 'pglite (embedded PostgreSQL) is for local runs only');
  } else {
    add('destination.connection', secretReferenceProblem(destination.connection));
  }
  return problems;
}

/** Throws the first problem as a config ExportError: the run-time guard before any credential is resolved. */
export function assertProfileAllowed(policy: SecurityPolicy, profile: ExportProfile): void {
  const [first, ...rest] = profileProblems(policy, profile);
  if (first === undefined) return;
  throw new ExportError(
    'config',
    `Profile '${profile.name}' is not allowed: ${first.field} ${first.reason}${rest.length ? ` (and ${rest.length} more)` : ''}`,
    {
      where: `${profile.name}: ${first.field}`,
      fix: 'Change the profile with PUT /api/profiles/{name}; the response lists every field the policy refuses.',
    },
  );
}

/** The embedded database's folder: one per profile under the app's data folder; in memory without one. */
export function embeddedDatabaseFolder(policy: SecurityPolicy, profileName: string): string | undefined {
  return policy.dataRoot === undefined ? undefined : path.join(policy.dataRoot, 'databases', profileName);
}
