/**
 * What the generated statements need of the destination server, checked before activation touches a table:
 * the mssql dialect's MERGE reads its batches through OPENJSON, which SQL Server runs only at database
 * compatibility level 130 or higher (learn.microsoft.com/sql/t-sql/functions/openjson-transact-sql, "Remarks");
 * below it every batch would fail with error 208 ("Invalid object name 'OPENJSON'") and say nothing of the level.
 */
import { ExportError } from '../../errors';
import type { SqlContext } from './context';

export const MINIMUM_COMPATIBILITY_LEVEL = 130;

/** Fails with a config error saying what, where and how to fix when the database's level is below 130. */
export async function checkServerLevel(context: SqlContext): Promise<void> {
  const result = await context.connection.query(context.dialect.compatibilityLevel());
  const level = result.rows[0]?.compatibility_level;
  // PostgreSQL has no such level: its statement answers NULL.
  if (level === null || level === undefined) return;
  const value = Number(level);
  if (value >= MINIMUM_COMPATIBILITY_LEVEL) return;
  throw new ExportError(
    'config',
    `The destination database runs at compatibility level ${value}; the export needs ${MINIMUM_COMPATIBILITY_LEVEL} or higher (its statements read batches with OPENJSON)`,
    {
      where: 'destination.connection (the database it names)',
      fix: `Run ALTER DATABASE CURRENT SET COMPATIBILITY_LEVEL = ${MINIMUM_COMPATIBILITY_LEVEL} (or higher) on that database, then activate again.`,
    },
  );
}
