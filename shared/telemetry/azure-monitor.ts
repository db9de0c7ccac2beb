/**
 * Sends the product's metrics and traces to Application Insights when a connection string is set; does
 * nothing otherwise (the OpenTelemetry API then records into a no-op provider). Ingestion authenticates
 * with the managed identity because the Application Insights resource has local authentication disabled.
 */
import { ManagedIdentityCredential } from '@azure/identity';
import { shutdownAzureMonitor, useAzureMonitor } from '@azure/monitor-opentelemetry';

export interface TelemetrySettings {
  connectionString?: string;
  managedIdentityClientId?: string;
}

let started = false;

export function startAzureMonitor(settings: TelemetrySettings): boolean {
  if (started || !settings.connectionString) return started;
  useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString: settings.connectionString,
      credential: new ManagedIdentityCredential(settings.managedIdentityClientId ? { clientId: settings.managedIdentityClientId } : {}),
    },
  });
  started = true;
  return true;
}

export async function stopAzureMonitor(): Promise<void> {
  if (!started) return;
  await shutdownAzureMonitor();
  started = false;
}
