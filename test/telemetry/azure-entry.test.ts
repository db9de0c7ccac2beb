/**
 * The Azure entry (functions/index.ts) starts the Application Insights exporter when the app settings ask for it,
 * and a metric a real handler records then reaches ingestion, authenticated as the identity the Bicep names in
 * APPLICATIONINSIGHTS_AUTHENTICATION_STRING. Ingestion and the App Service identity endpoint are loopback
 * listeners (test/support); the Functions host does not run here, so the entry's registrations are recorded.
 */
import { InvocationContext } from '@azure/functions';
import { metrics } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { metricNames } from '../../shared/telemetry/metrics';
import { useAzurite } from '../support/azurite';
import { startIdentityEndpoint, type IdentityEndpoint } from '../support/identity-endpoint';
import { startIngestionEndpoint, type IngestionEndpoint } from '../support/ingestion-endpoint';

type Handler = (trigger: unknown, context: InvocationContext) => Promise<unknown>;
const registered = vi.hoisted(() => new Map<string, Handler>());
vi.mock('@azure/functions', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@azure/functions')>();
  const record = (name: string, options: { handler: Handler }) => void registered.set(name, options.handler);
  return { ...actual, app: { ...actual.app, http: record, timer: record, serviceBusQueue: record } };
});

const CLIENT_ID = '0c7e1f6a-2222-4b3c-8d4e-000000000002';
const SETTINGS = [
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  'APPLICATIONINSIGHTS_STATSBEAT_DISABLED',
  'APPLICATIONINSIGHTS_SDKSTATS_DISABLED',
  'OTEL_METRIC_EXPORT_INTERVAL',
  'IDENTITY_ENDPOINT',
  'IDENTITY_HEADER',
  'NODE_TLS_REJECT_UNAUTHORIZED',
  'AzureWebJobsStorage',
] as const;
const saved = Object.fromEntries(SETTINGS.map((name) => [name, process.env[name]]));

const azurite = useAzurite();
let identity: IdentityEndpoint;
let ingestion: IngestionEndpoint;
let stop: (() => Promise<void>) | undefined;

beforeAll(async () => {
  identity = await startIdentityEndpoint();
  ingestion = await startIngestionEndpoint();
  for (const name of SETTINGS) delete process.env[name];
});
afterAll(async () => {
  await stop?.();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await ingestion.close();
  await identity.close();
});

async function until<T>(check: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the Azure entry point', () => {
  it('starts no exporter without APPLICATIONINSIGHTS_CONNECTION_STRING', async () => {
    process.env.AzureWebJobsStorage = azurite.connectionString;
    await import('../../functions/index.js');
    expect(registered.has('recordDeadLetters')).toBe(true);
    // The OpenTelemetry API's own no-op provider: nothing was installed.
    expect(metrics.getMeterProvider().constructor.name).toBe('NoopMeterProvider');
  });

  it('with it set, exports a metric a handler records to ingestion with a token of the named identity', async () => {
    Object.assign(process.env, identity.env, {
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=11111111-2222-3333-4444-555555555555;IngestionEndpoint=${ingestion.url};LiveEndpoint=${ingestion.url}`,
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${CLIENT_ID};Authorization=AAD`,
      // Test only: export every half second instead of every minute, send no SDK self-telemetry to Microsoft,
      // and trust the loopback listener's self-signed certificate.
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
      APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
      NODE_TLS_REJECT_UNAUTHORIZED: '0',
    });
    vi.resetModules();
    registered.clear();
    await import('../../functions/index.js');
    stop = (await import('../../shared/telemetry/azure-monitor.js')).stopAzureMonitor;
    expect(metrics.getMeterProvider().constructor.name).not.toBe('NoopMeterProvider');

    const handler = registered.get('recordDeadLetters');
    if (!handler) throw new Error('recordDeadLetters was not registered');
    const context = new InvocationContext({
      functionName: 'recordDeadLetters',
      triggerMetadata: { messageId: 'm-1', deadLetterReason: 'MaxDeliveryCountExceeded' },
    });
    await handler('not a change batch', context);

    const { request, metric } = await until(() => {
      for (const request of ingestion.requests) {
        for (const envelope of request.envelopes) {
          const metric = envelope.data?.baseData?.metrics?.find(
            (candidate) => candidate.name === metricNames.deadLetters,
          );
          if (metric && envelope.data?.baseType === 'MetricData') return { request, metric };
        }
      }
      return undefined;
    });
    expect(metric.value).toBe(1);
    expect(request.path).toBe('/v2.1/track');
    expect(request.authorization).toBe(`Bearer ${identity.tokenFor(CLIENT_ID)}`);
    expect(identity.requests).toContainEqual({ resource: 'https://monitor.azure.com', clientId: CLIENT_ID });
  }, 90_000);
});
