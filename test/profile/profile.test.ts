import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateProfile, type ExportProfileInput } from '../../shared/profile/profile';

const valid: ExportProfileInput = {
  name: 'sales-export',
  source: {
    environmentUrl: 'https://contoso.crm.dynamics.com/api/data/v9.2',
    auth: { kind: 'managed-identity' },
  },
  tables: ['account', 'contact'],
  destination: {
    kind: 'sql',
    dialect: 'mssql',
    connection: { keyVaultSecretUri: 'https://kv-export.vault.azure.net/secrets/sql-contoso' },
  },
};

const lake = {
  ...valid,
  destination: {
    kind: 'lake',
    storage: { connectionString: { keyVaultSecretUri: 'https://kv-export.vault.azure.net/secrets/lake-contoso' } },
    environmentName: 'prod',
    organizationUniqueName: 'org1',
  },
};

const problems = (body: unknown) => {
  const result = validateProfile(body);
  return result.ok ? [] : result.problems;
};

describe('export profile validation', () => {
  it('accepts a DES-like profile and applies DES defaults', () => {
    const result = validateProfile(valid);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.profile).toMatchObject({
      retryCount: 12,
      retryIntervalSeconds: 5,
      writeDeleteLog: false,
      relationships: [],
      destination: { schema: 'dbo', prefix: '' },
      source: { environmentUrl: 'https://contoso.crm.dynamics.com/api/data/v9.2/' },
    });
  });

  it.each([
    [{ ...valid, name: 'Sales Export' }, 'name'],
    [{ ...valid, retryCount: 21 }, 'retryCount'],
    [{ ...valid, retryIntervalSeconds: -1 }, 'retryIntervalSeconds'],
    [{ ...valid, retryIntervalSeconds: 3601 }, 'retryIntervalSeconds'],
    [{ ...valid, tables: [] }, 'tables'],
    [{ ...valid, tables: ['account', 'account'] }, 'tables'],
    [{ ...valid, tables: ['account; DROP TABLE x'] }, 'tables[0]'],
    [{ ...valid, destination: { ...valid.destination, prefix: 'waytoolongprefix' } }, 'destination.prefix'],
    [{ ...valid, destination: { ...valid.destination, schema: 'dbo];--' } }, 'destination.schema'],
    [
      {
        ...valid,
        destination: { ...valid.destination, connection: { connectionString: 'Server=x;Password=hunter2' } },
      },
      'destination.connection',
    ],
    [
      { ...valid, source: { ...valid.source, environmentUrl: 'http://contoso.crm.dynamics.com/api/data/v9.2/' } },
      'source.environmentUrl',
    ],
    [
      {
        ...valid,
        source: {
          ...valid.source,
          auth: { kind: 'client-secret', tenantId: 'x', clientId: 'y', clientSecret: 'plain' },
        },
      },
      'source.auth.tenantId',
    ],
    [{ ...valid, unexpected: true }, '(body)'],
    [
      {
        ...lake,
        destination: {
          ...lake.destination,
          storage: { connectionString: 'DefaultEndpointsProtocol=https;AccountKey=hunter2' },
        },
      },
      'destination.storage',
    ],
    [
      { ...lake, destination: { ...lake.destination, storage: { accountUrl: 'http://lake.blob.core.windows.net' } } },
      'destination.storage.accountUrl',
    ],
    [{ ...lake, destination: { kind: 'lake', storage: lake.destination.storage } }, 'destination.container'],
    [{ ...lake, destination: { ...lake.destination, container: 'Not_A_Container' } }, 'destination.container'],
    [{ ...lake, destination: { ...lake.destination, mode: 'delta' } }, 'destination.mode'],
    [
      { ...lake, destination: { ...lake.destination, partitionGranularity: 'Day' } },
      'destination.partitionGranularity',
    ],
    [
      { ...lake, destination: { ...lake.destination, incrementalIntervalMinutes: 1 } },
      'destination.incrementalIntervalMinutes',
    ],
    [{ ...lake, destination: { ...lake.destination, schema: 'dbo' } }, 'destination'],
  ])('rejects %#: the problem names %s', (body, field) => {
    const found = problems(body);
    expect(found.length).toBeGreaterThan(0);
    expect(found.map((problem) => problem.field)).toContain(field);
    for (const problem of found) expect(problem.reason.length).toBeGreaterThan(5);
  });

  it('accepts a lake destination by secret reference or account URL, with Synapse Link defaults', () => {
    const result = validateProfile(lake);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.profile.destination).toEqual({
      ...lake.destination,
      mode: 'appendOnly',
      partitionGranularity: 'Year',
      incrementalIntervalMinutes: 60,
      snapshotIntervalMinutes: 60,
    });
    const byIdentity = validateProfile({
      ...lake,
      destination: {
        kind: 'lake',
        storage: { accountUrl: 'https://lake.dfs.core.windows.net' },
        container: 'exports',
        mode: 'incremental',
        incrementalIntervalMinutes: 15,
      },
    });
    expect(byIdentity.ok).toBe(true);
  });

  it('never echoes a rejected secret back in its problems', () => {
    const found = problems({
      ...valid,
      destination: { ...valid.destination, connection: { connectionString: 'Password=hunter2' } },
    });
    expect(JSON.stringify(found)).not.toContain('hunter2');
    const lakeFound = problems({
      ...lake,
      destination: { ...lake.destination, storage: { connectionString: 'AccountKey=hunter2' } },
    });
    expect(JSON.stringify(lakeFound)).not.toContain('hunter2');
  });

  it('never throws on arbitrary input, and every rejection names a field', () => {
    fc.assert(
      fc.property(fc.anything(), (body) => {
        const result = validateProfile(body);
        if (!result.ok) for (const problem of result.problems) expect(problem.field).not.toBe('');
      }),
      { numRuns: 300 },
    );
  });
});
