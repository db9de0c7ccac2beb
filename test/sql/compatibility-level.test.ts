/**
 * SQL Server below compatibility level 130 has no OPENJSON, which every mssql batch reads through: activation must
 * stop with a config error that names the level and the ALTER DATABASE that fixes it, before it creates anything.
 * No SQL Server runs here: the session answers the dialect's own query as sys.databases does (one row, the current
 * database's `compatibility_level`, https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-databases-transact-sql);
 * the statement itself is held by the golden file compatibility-level.sql, which tsql-scriptdom.test.ts parses.
 */
import { describe, expect, it } from 'vitest';
import type { SqlConnection } from '../../shared/destinations/sql/connection';
import { createSqlDestination } from '../../shared/destinations/sql/destination';
import { mssqlDialect } from '../../shared/destinations/sql/mssql-dialect';
import { ExportError } from '../../shared/errors';

function sqlServerAtLevel(level: number): { connection: SqlConnection; statements: string[] } {
  const statements: string[] = [];
  const connection: SqlConnection = {
    query: async (sql) => {
      statements.push(sql);
      const rows = sql === mssqlDialect.compatibilityLevel() ? [{ compatibility_level: level }] : [];
      return { rows, rowCount: 0 };
    },
    transaction: async (work) => work(connection),
    close: async () => undefined,
  };
  return { connection, statements };
}

const target = { schema: 'dbo', prefix: '', writeDeleteLog: false, widenOverlongStrings: true };

describe('a SQL Server database below compatibility level 130', () => {
  it('fails activation with a config error naming the level and the fix, before any table is created', async () => {
    const server = sqlServerAtLevel(120);
    const failure = await createSqlDestination(server.connection, mssqlDialect, target)
      .ensureTables([], [])
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(ExportError);
    expect(failure).toMatchObject({
      errorClass: 'config',
      message: expect.stringContaining('compatibility level 120'),
      where: expect.stringContaining('destination.connection'),
      fix: expect.stringContaining('SET COMPATIBILITY_LEVEL = 130'),
    });
    expect(server.statements).toEqual([mssqlDialect.compatibilityLevel()]);
  });

  it('goes on at level 130', async () => {
    const server = sqlServerAtLevel(130);
    await createSqlDestination(server.connection, mssqlDialect, target).ensureTables([], []);
    expect(server.statements[0]).toBe(mssqlDialect.compatibilityLevel());
    expect(server.statements.length).toBeGreaterThan(1);
  });
});
