import type { AccessToken, TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../shared/errors';
import { createDestination } from '../../shared/destinations/sql';
import { mssqlPoolConfig } from '../../shared/destinations/sql/mssql-connection';
import { sampleTable } from '../../local/sample-org';

const credential: TokenCredential = { getToken: async (): Promise<AccessToken> => ({ token: 'unused', expiresOnTimestamp: 0 }) };

describe('createDestination', () => {
  it('opens an embedded PGlite destination from settings alone', async () => {
    const destination = await createDestination({ dialect: 'pglite', prefix: 'crm' });
    try {
      const role = sampleTable('role');
      expect((await destination.ensureTables([role], [])).failures).toEqual([]);
      const row = { roleid: '5e5e5e5e-0000-4000-8000-000000000001', name: 'Salesperson', versionnumber: 9 };
      expect(await destination.applyBatch(role, { upserts: [{ kind: 'upsert', id: row.roleid, versionNumber: 9, row }], deletes: [] })).toMatchObject({ upserted: 1 });
      expect(await destination.countRows('role')).toBe(1);
    } finally {
      await destination.close();
    }
  });

  it('rejects bad settings as config errors that name the setting', async () => {
    await expect(createDestination({ dialect: 'pglite', schema: 'dbo; DROP SCHEMA x' })).rejects.toMatchObject({
      errorClass: 'config', where: 'destination.schema',
    });
    await expect(createDestination({ dialect: 'pglite', prefix: 'averyveryverylongprefix' })).rejects.toMatchObject({ where: 'destination.prefix' });
    await expect(createDestination({ dialect: 'postgres', connection: { keyVaultSecretUri: 'http://vault/secrets/x' } })).rejects.toMatchObject({
      errorClass: 'config', where: 'destination.connection.keyVaultSecretUri',
    });
    await expect(createDestination({ dialect: 'postgres', connection: { keyVaultSecretUri: 'https://vault.example/not-a-secret' } }, { credential })).rejects.toMatchObject({
      errorClass: 'config', where: 'destination.connection.keyVaultSecretUri',
    });
    // @ts-expect-error an unknown dialect is a settings error, not a crash
    await expect(createDestination({ dialect: 'oracle' })).rejects.toBeInstanceOf(ExportError);
  });

  it('reports an unreachable server without echoing the connection string', async () => {
    const error: unknown = await createDestination({
      dialect: 'postgres', connection: { connectionString: 'postgresql://exporter:S3cretPassw0rd@127.0.0.1:1/db' },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExportError);
    expect(JSON.stringify((error as ExportError).toJSON())).not.toContain('S3cretPassw0rd');
    expect((error as ExportError).message).toBe('Could not connect to the postgres destination.');
  });
});

describe('mssql pool settings', () => {
  it('uses Entra ID token auth with encryption for Azure SQL', () => {
    expect(mssqlPoolConfig({ server: 'contoso.database.windows.net', database: 'export', credential }, 7)).toEqual({
      server: 'contoso.database.windows.net', database: 'export', port: 1433,
      authentication: { type: 'token-credential', options: { credential } }, options: { encrypt: true }, requestTimeout: 300_000, pool: { max: 7 },
    });
  });

  it('reads a connection string and sizes the pool from the setting', () => {
    const config = mssqlPoolConfig({ connectionString: 'Server=tcp:db.example,1433;Database=export;User Id=exporter;Password=x;Encrypt=true' }, 5);
    expect(config).toMatchObject({ server: 'db.example', port: 1433, database: 'export', user: 'exporter', requestTimeout: 300_000, pool: { max: 5 } });
    // A timeout the connection string sets wins.
    expect(mssqlPoolConfig({ connectionString: 'Server=db.example;Database=export;Request Timeout=60000' }, 5).requestTimeout).toBe(60_000);
  });
});
