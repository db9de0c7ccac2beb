/**
 * Which hosts the app may send a credential to. A profile names hosts (the Dataverse environment, the lake
 * account); the app then sends a bearer token or a managed-identity token there. Only Microsoft's own hosts
 * qualify, plus what the operator lists in a setting; loopback and private addresses only in local mode.
 */

/**
 * Dataverse environment hosts of the Microsoft clouds: commercial and GCC `<org>.crm[N].dynamics.com`
 * (https://learn.microsoft.com/power-platform/admin/new-datacenter-regions), GCC High
 * `<org>.crm.microsoftdynamics.us`, DoD `<org>.crm.appsplatform.us`
 * (https://learn.microsoft.com/power-platform/admin/microsoft-dynamics-365-government), and China (21Vianet)
 * `<org>.crm.dynamics.cn` (https://learn.microsoft.com/power-platform/admin/about-microsoft-cloud-china).
 */
const dataverseHosts = [
  /^[a-z0-9][a-z0-9-]*\.crm\d{0,2}\.dynamics\.com$/,
  /^[a-z0-9][a-z0-9-]*\.crm\.microsoftdynamics\.us$/,
  /^[a-z0-9][a-z0-9-]*\.crm\.appsplatform\.us$/,
  /^[a-z0-9][a-z0-9-]*\.crm\.dynamics\.cn$/,
];

export const isDataverseHost = (hostname: string): boolean =>
  dataverseHosts.some((pattern) => pattern.test(hostname.toLowerCase()));

/**
 * Storage endpoint suffixes per Azure cloud (https://learn.microsoft.com/azure/storage/common/storage-account-overview#standard-endpoints,
 * https://learn.microsoft.com/azure/azure-government/compare-azure-government-global-azure,
 * https://learn.microsoft.com/azure/china/resources-developer-guide).
 */
export const STORAGE_SUFFIXES = ['core.windows.net', 'core.usgovcloudapi.net', 'core.chinacloudapi.cn'] as const;

/** The cloud's storage suffix, read from the host storage endpoint the platform gave the app; public Azure otherwise. */
export function storageSuffixOf(blobServiceUri: string | undefined): string {
  const host = blobServiceUri ? URL.parse(blobServiceUri)?.hostname.toLowerCase() : undefined;
  return STORAGE_SUFFIXES.find((suffix) => host?.endsWith(`.${suffix}`)) ?? 'core.windows.net';
}

/** `<account>.blob.<suffix>` or `<account>.dfs.<suffix>`: account names are 3–24 lower-case letters and digits. */
export const isStorageHost = (hostname: string, suffix: string): boolean => {
  const match = /^([a-z0-9]{3,24})\.(blob|dfs)\.(.+)$/.exec(hostname.toLowerCase());
  return match !== null && match[3] === suffix;
};

/** 127.0.0.0/8, ::1, localhost: where the emulator and Azurite listen. */
export const isLoopback = (hostname: string): boolean =>
  /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]|::1)$/i.test(hostname);

/** Private and link-local ranges, the instance metadata address among them: never reachable from a profile outside local mode. */
export function isPrivateAddress(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 10 ||
      a === 0 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  return (
    host.includes(':') &&
    (host.startsWith('fc') || host.startsWith('fd') || host.startsWith('fe80') || host.startsWith('::ffff:'))
  );
}

/** A comma-separated list of host names from a setting; `*.` entries match any sub-domain. */
export function hostListMatches(list: readonly string[], hostname: string): boolean {
  const host = hostname.toLowerCase();
  return list.some((entry) => (entry.startsWith('*.') ? host.endsWith(entry.slice(1)) : host === entry));
}

export const parseHostList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');
