import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings, settingDescriptions } from '../../shared/config/settings';
import { ExportError } from '../../shared/errors';

describe('loadSettings', () => {
  it('reads a connection string and applies defaults', () => {
    const settings = loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    expect(settings).toEqual({
      storage: { kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' },
      changeQueue: { queueName: 'dataverse-changes' },
      logLevel: 'information',
      pollSchedule: '*/5 * * * * *',
      lakeMaintenanceSchedule: '0 * * * * *',
      schemaRefreshSchedule: '0 */5 * * * *',
      failureRetentionSchedule: '0 30 3 * * *',
      failedRecordRetentionDays: 30,
      statusDegradedAfterPolls: 3,
      initialSyncReadStreams: 8,
      // Azure's policy unless asked otherwise: no local mode, no extra hosts, public cloud storage.
      security: { localMode: false, allowedSourceHosts: [], allowedLakeHosts: [], storageSuffix: 'core.windows.net' },
    });
  });

  it('turns local mode on only off App Service: there, asking for it stops start-up', () => {
    const local = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', DVX_LOCAL_MODE: '1' };
    expect(loadSettings(local).security.localMode).toBe(true);
    for (const platform of ['WEBSITE_SITE_NAME', 'WEBSITE_INSTANCE_ID']) {
      expect(() => loadSettings({ ...local, [platform]: 'dvexport' }), platform).toThrow(
        /DVX_LOCAL_MODE.*App Service/s,
      );
    }
    expect(
      loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', WEBSITE_SITE_NAME: 'dvexport' }).security
        .localMode,
    ).toBe(false);
  });

  it('takes the cloud of the host storage for lake endpoints, and allow-lists as lower-case host names', () => {
    const settings = loadSettings({
      AzureWebJobsStorage__blobServiceUri: 'https://st.blob.core.usgovcloudapi.net',
      AzureWebJobsStorage__queueServiceUri: 'https://st.queue.core.usgovcloudapi.net',
      AzureWebJobsStorage__tableServiceUri: 'https://st.table.core.usgovcloudapi.net',
      DVX_ALLOWED_SOURCE_HOSTS: 'Proxy.Contoso.com, *.contoso.net',
      REQUIRE_APP_ROLE: 'Export.Admin',
    });
    expect(settings.security).toMatchObject({
      storageSuffix: 'core.usgovcloudapi.net',
      allowedSourceHosts: ['proxy.contoso.com', '*.contoso.net'],
    });
    expect(settings.requiredAppRole).toBe('Export.Admin');
  });

  it('reads the failed-record retention as whole days', () => {
    expect(
      loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', FAILED_RECORD_RETENTION_DAYS: '90' })
        .failedRecordRetentionDays,
    ).toBe(90);
  });

  it('reads the initial sync read streams from 1 (page after page) to 52, and names the setting when out of range', () => {
    const read = (value: string) =>
      loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', INITIAL_SYNC_READ_STREAMS: value })
        .initialSyncReadStreams;
    expect([read('1'), read('16'), read('52')]).toEqual([1, 16, 52]);
    for (const bad of ['0', '53', '8.5', 'eight', '-1']) {
      expect(() => read(bad), bad).toThrow(/INITIAL_SYNC_READ_STREAMS: must be .*(1 to 52|at most 52)/);
    }
  });

  it('reads identity-based storage with a managed identity client id', () => {
    const settings = loadSettings({
      AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net',
      AzureWebJobsStorage__queueServiceUri: 'https://acct.queue.core.windows.net',
      AzureWebJobsStorage__tableServiceUri: 'https://acct.table.core.windows.net',
      AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
    });
    expect(settings.storage).toEqual({
      kind: 'identity',
      blobServiceUri: 'https://acct.blob.core.windows.net',
      queueServiceUri: 'https://acct.queue.core.windows.net',
      tableServiceUri: 'https://acct.table.core.windows.net',
      clientId: '00000000-0000-0000-0000-000000000001',
    });
  });

  it('names every bad or missing setting and says where to fix it', () => {
    let caught: unknown;
    try {
      loadSettings({
        AzureWebJobsStorage: '  ',
        LOG_LEVEL: 'loud',
        AzureWebJobsStorage__blobServiceUri: 'not a url',
        POLL_SCHEDULE: '*/5 * * * *',
        FAILED_RECORD_RETENTION_DAYS: '0',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ExportError);
    const error = caught as ExportError;
    expect(error.errorClass).toBe('config');
    expect(error.message).toContain('LOG_LEVEL');
    expect(error.message).toContain('POLL_SCHEDULE: must be an NCRONTAB expression with six fields');
    expect(error.message).toContain('FAILED_RECORD_RETENTION_DAYS: must be a whole number of days from 1 to 99999');
    expect(error.message).toContain('AzureWebJobsStorage__blobServiceUri');
    expect(error.message).toContain('no storage is configured');
    expect(error.fix).toContain('local.settings.json');
  });
});

describe('local.settings.sample.json', () => {
  const sample = JSON.parse(readFileSync(path.join(__dirname, '../../local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
    Documentation: Record<string, string>;
  };

  it('lists and documents every app setting', () => {
    for (const name of Object.keys(settingDescriptions)) {
      expect(sample.Values, name).toHaveProperty(name);
      expect(sample.Documentation[name]?.length ?? 0, name).toBeGreaterThan(30);
    }
    expect(Object.keys(sample.Documentation).sort()).toEqual(Object.keys(sample.Values).sort());
  });
});
