/**
 * `npm run drop-tables`: one profile's tables (exported, M:N, metadata, the product's own) are listed and
 * dropped on a real embedded PostgreSQL; another profile's tables in the same schema stay.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleRelationships, sampleTables } from '../../local/sample-org';
import { runDropProfileTables } from '../../scripts/drop-profile-tables';
import { createSqlDestination } from '../../shared/destinations/sql/destination';
import { mssqlDialect } from '../../shared/destinations/sql/mssql-dialect';
import { createPgliteConnection } from '../../shared/destinations/sql/pglite-connection';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
import { dropTableStatements, helperTableNames } from '../../shared/destinations/sql/profile-tables';

const directory = mkdtempSync(join(tmpdir(), 'dvx-drop-tables-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const SCHEMA = 'export';

async function tablesIn(dataDir: string): Promise<string[]> {
  const connection = await createPgliteConnection(dataDir);
  try {
    const { rows } = await connection.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [SCHEMA],
    );
    return rows.map((row) => String(row.table_name));
  } finally {
    await connection.close();
  }
}

describe('drop-profile-tables', () => {
  it("drops every table of one profile after a dry run, and leaves another profile's tables alone", async () => {
    const dataDir = join(directory, 'db');
    const connection = await createPgliteConnection(dataDir);
    for (const prefix of ['sales', 'other']) {
      const destination = createSqlDestination(connection, postgresDialect, {
        schema: SCHEMA,
        prefix,
        writeDeleteLog: prefix === 'sales',
        widenOverlongStrings: false,
      });
      const ensured = await destination.ensureTables(sampleTables, sampleRelationships);
      expect(ensured.failures).toEqual([]);
    }
    await connection.close();
    const before = await tablesIn(dataDir);
    const sales = before.filter((name) => name.startsWith('sales_'));
    const other = before.filter((name) => name.startsWith('other_'));
    // Exported tables (systemuserroles is the M:N intersect table), metadata tables and the product's own.
    expect(sales).toEqual(expect.arrayContaining(['sales_account', 'sales_systemuserroles', 'sales_Tombstone']));
    expect(sales).toEqual(expect.arrayContaining(['sales_ResyncSeen', 'sales_DeleteLog', 'sales_AttributeMetadata']));
    expect(sales).toHaveLength(sampleTables.length + helperTableNames('sales').length);

    const printed: string[] = [];
    const args = ['--dialect', 'pglite', '--data-dir', dataDir, '--schema', SCHEMA, '--prefix', 'sales'];
    const planned = await runDropProfileTables(args, {}, (line) => printed.push(line));
    expect([...planned].sort()).toEqual(dropTableStatements(postgresDialect, SCHEMA, sales).sort());
    expect(printed.at(-1)).toMatch(/^-- Dry run: nothing was dropped/);
    expect(await tablesIn(dataDir)).toEqual(before);

    await runDropProfileTables([...args, '--execute'], {}, () => undefined);
    expect(await tablesIn(dataDir)).toEqual(other);
    expect(other).toHaveLength(sampleTables.length + helperTableNames('other').length - 1); // no delete log
  }, 120_000);

  it('quotes names as each dialect does', () => {
    expect(dropTableStatements(postgresDialect, 'dbo', ['p_Account'])).toEqual([
      'DROP TABLE IF EXISTS "dbo"."p_Account"',
    ]);
    expect(dropTableStatements(mssqlDialect, 'dbo', ['p_Account'])).toEqual(['DROP TABLE IF EXISTS [dbo].[p_Account]']);
  });

  it('refuses to run without the connection string, naming the variable', async () => {
    await expect(
      runDropProfileTables(['--dialect', 'postgres', '--schema', 'dbo'], {}, () => undefined),
    ).rejects.toMatchObject({ where: 'DVX_DROP_CONNECTION' });
  });
});
