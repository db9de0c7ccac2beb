import { describe, expect, it } from 'vitest';
import { ExportError } from '../../shared/errors';
import { createDestination } from '../../shared/destinations/sql';
import { sampleTable } from '../../local/sample-org';

describe('createDestination', () => {
  it('opens an embedded PGlite destination from settings alone', async () => {
    const destination = await createDestination({ dialect: 'pglite', prefix: 'crm' });
    try {
      const role = sampleTable('role');
      expect((await destination.ensureTables([role], [])).failures).toEqual([]);
      const row = { roleid: '5e5e5e5e-0000-4000-8000-000000000001', name: 'Salesperson', versionnumber: 9 };
      expect(
        await destination.applyBatch(role, {
          upserts: [{ kind: 'upsert', id: row.roleid, versionNumber: 9, row }],
          deletes: [],
        }),
      ).toMatchObject({ upserted: 1 });
      expect(await destination.countRows('role')).toBe(1);
    } finally {
      await destination.close();
    }
  });

  it('rejects bad settings as config errors that name the setting', async () => {
    await expect(createDestination({ dialect: 'pglite', schema: 'dbo; DROP SCHEMA x' })).rejects.toMatchObject({
      errorClass: 'config',
      where: 'destination.schema',
    });
    await expect(createDestination({ dialect: 'pglite', prefix: 'averyveryverylongprefix' })).rejects.toMatchObject({
      where: 'destination.prefix',
    });
    // A connection string with an Authentication mode that cannot run unattended is refused before connecting.
    await expect(
      createDestination({
        dialect: 'mssql',
        connection: { connectionString: 'Server=db.example;Authentication=Active Directory Interactive' },
      }),
    ).rejects.toMatchObject({
      errorClass: 'config',
      where: 'destination connection string: Authentication',
    });
    // @ts-expect-error an unknown dialect is a settings error, not a crash
    await expect(createDestination({ dialect: 'oracle' })).rejects.toBeInstanceOf(ExportError);
  });

  it('reports an unreachable server without echoing the connection string', async () => {
    const error: unknown = await createDestination({
      dialect: 'postgres',
      connection: { connectionString: 'postgresql://exporter:S3cretPassw0rd@127.0.0.1:1/db' },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExportError);
    expect(JSON.stringify((error as ExportError).toJSON())).not.toContain('S3cretPassw0rd');
    expect((error as ExportError).message).toBe('Could not connect to the postgres destination.');
  });
});
