/**
 * Sends the product's metrics and traces to Application Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is
 * set; does nothing otherwise (the OpenTelemetry API then records into a no-op provider). It must start before
 * the handlers' dependencies are built: `createExportMetrics` takes its meter from the global provider then.
 *
 * Ingestion authenticates as the Functions host does, from APPLICATIONINSIGHTS_AUTHENTICATION_STRING
 * (`Authorization=AAD` for the system-assigned identity, `ClientId=<id>;Authorization=AAD` for a user-assigned
 * one: https://learn.microsoft.com/azure/azure-functions/functions-app-settings#applicationinsights_authentication_string);
 * infra/modules/functionapp.bicep sets both, because the Application Insights resource has local authentication
 * disabled. @azure/monitor-opentelemetry does not read that setting itself, hence the parsing here.
 */
import type { TokenCredential } from '@azure/identity';
import type * as AzureMonitor from '@azure/monitor-opentelemetry';
import { ExportError } from '../errors';
import { createCredential } from '../storage/credentials';

export interface TelemetrySettings {
  connectionString?: string;
  /** `Authorization=AAD[;ClientId=<client id>]`; absent: ingestion with the connection string's key alone. */
  authenticationString?: string;
}

export type TelemetryStart = { started: true } | { started: false; reason: string };

let started = false;

/**
 * Loaded only once telemetry starts: the OpenTelemetry SDK it brings is ~17 MB of live heap and ~50 MB resident
 * (measured with `node --expose-gc`, heapUsed and rss around the require), which a host without Application
 * Insights would carry for nothing, and V8 sizes the heap it lets grow before a full collection from the live heap.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const azureMonitor = (): typeof AzureMonitor => require('@azure/monitor-opentelemetry') as typeof AzureMonitor;

export const telemetrySettings = (env: Record<string, string | undefined>): TelemetrySettings => ({
  ...(env.APPLICATIONINSIGHTS_CONNECTION_STRING ? { connectionString: env.APPLICATIONINSIGHTS_CONNECTION_STRING } : {}),
  ...(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING
    ? { authenticationString: env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING }
    : {}),
});

/** The managed identity an authentication string names; a config error for anything but `Authorization=AAD`. */
export function ingestionCredential(authenticationString: string): TokenCredential {
  const pairs = new Map(
    authenticationString
      .split(';')
      .filter((part) => part.trim() !== '')
      .map((part) => {
        const at = part.indexOf('=');
        return [part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim()] as const;
      }),
  );
  if (pairs.get('authorization')?.toUpperCase() !== 'AAD') {
    throw new ExportError('config', 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING does not say Authorization=AAD', {
      where: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      fix: "Set it to 'Authorization=AAD' (system-assigned identity) or 'ClientId=<client id>;Authorization=AAD', or remove it.",
    });
  }
  const clientId = pairs.get('clientid');
  return createCredential({ kind: 'managed-identity', clientId });
}

/** Starts the exporter once per process; says why not when it does not. Never throws: a bad setting must not stop the worker. */
export function startAzureMonitor(settings: TelemetrySettings): TelemetryStart {
  if (started) return { started: true };
  if (!settings.connectionString) return { started: false, reason: 'APPLICATIONINSIGHTS_CONNECTION_STRING is not set' };
  try {
    const credential = settings.authenticationString ? ingestionCredential(settings.authenticationString) : undefined;
    azureMonitor().useAzureMonitor({
      azureMonitorExporterOptions: {
        connectionString: settings.connectionString,
        ...(credential ? { credential } : {}),
      },
    });
  } catch (error) {
    const reason =
      error instanceof ExportError
        ? `${error.message}. ${error.fix ?? ''}`
        : `Application Insights could not start: ${String(error)}`;
    console.warn(`telemetry off: ${reason}`);
    return { started: false, reason };
  }
  started = true;
  return { started: true };
}

/** The Azure entry's one call: telemetry from the app settings. */
export const startTelemetry = (env: Record<string, string | undefined>): TelemetryStart =>
  startAzureMonitor(telemetrySettings(env));

export async function stopAzureMonitor(): Promise<void> {
  if (!started) return;
  await azureMonitor().shutdownAzureMonitor();
  started = false;
}
