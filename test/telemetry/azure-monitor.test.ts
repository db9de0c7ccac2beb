/** APPLICATIONINSIGHTS_AUTHENTICATION_STRING as the Functions host reads it, and the exporter's refusal to start on a bad one. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ingestionCredential, startAzureMonitor, telemetrySettings } from '../../shared/telemetry/azure-monitor';
import { useIdentityEndpoint } from '../support/identity-endpoint';

const SCOPE = 'https://monitor.azure.com//.default';
const identity = useIdentityEndpoint();

describe('the ingestion identity', () => {
  it('is the user-assigned identity ClientId names (the string infra/modules/functionapp.bicep sets)', async () => {
    const credential = ingestionCredential('ClientId=7d6c5b4a-0000-4000-8000-000000000003;Authorization=AAD');
    expect((await credential.getToken(SCOPE))?.token).toBe(identity.tokenFor('7d6c5b4a-0000-4000-8000-000000000003'));
  });

  it('is the system-assigned identity for Authorization=AAD alone, in any order and case', async () => {
    expect((await ingestionCredential(' authorization = aad ; ').getToken(SCOPE))?.token).toBe(
      identity.tokenFor(undefined),
    );
  });

  it('is a config error for anything but Authorization=AAD, and the exporter then stays off without throwing', () => {
    expect(() => ingestionCredential('ClientId=x')).toThrow(
      expect.objectContaining({ errorClass: 'config', where: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING' }),
    );
    const start = startAzureMonitor({
      connectionString: 'InstrumentationKey=11111111-2222-3333-4444-555555555555',
      authenticationString: 'Authorization=Basic',
    });
    expect(start).toMatchObject({ started: false, reason: expect.stringContaining('Authorization=AAD') });
  });
});

describe('the settings', () => {
  it('come from the two app settings, and nothing starts without the connection string', () => {
    expect(
      telemetrySettings({
        APPLICATIONINSIGHTS_CONNECTION_STRING: 'cs',
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD',
        OTHER: 'x',
      }),
    ).toEqual({ connectionString: 'cs', authenticationString: 'Authorization=AAD' });
    expect(startAzureMonitor(telemetrySettings({}))).toEqual({
      started: false,
      reason: 'APPLICATIONINSIGHTS_CONNECTION_STRING is not set',
    });
  });
});

describe('the exporter module', () => {
  it('is not loaded by a process whose telemetry is off (it is ~17 MB of live heap the host would carry)', async () => {
    // A fresh Node process, as the host is: this test process may have loaded the module already.
    const script = [
      "const { startTelemetry } = require('./shared/telemetry/azure-monitor');",
      'startTelemetry({});',
      "process.stdout.write(String(Object.keys(require.cache).some((file) => file.includes('monitor-opentelemetry'))));",
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: path.resolve(__dirname, '../..'),
    });
    expect(stdout).toBe('false');
  }, 60_000);
});
