/**
 * SQL Server / Azure SQL through an `mssql` pool, from a connection string: a SQL login, or Entra ID by its
 * `Authentication=` keyword (mssql-authentication.ts: a token credential tedious asks as connections open).
 */
import type { TokenCredential } from '@azure/identity';
import sql from 'mssql';
import { DEFAULT_POOL_SIZE, type QueryResult, type SqlConnection, type SqlParameter } from './connection';
import { parseMssqlConnectionString } from './mssql-authentication';

function bind(request: sql.Request, parameters: SqlParameter[]): sql.Request {
  parameters.forEach((value, index) => {
    const name = `p${index + 1}`;
    // Short strings as nvarchar(4000), so comparisons with name columns stay index seeks; batches as max.
    if (typeof value === 'string' || value === null)
      request.input(name, sql.NVarChar(value !== null && value.length > 4000 ? sql.MAX : 4000), value);
    else if (typeof value === 'boolean') request.input(name, sql.Bit, value);
    else if (Number.isInteger(value)) request.input(name, sql.BigInt, value);
    else request.input(name, sql.Float, value);
  });
  return request;
}

async function run(request: sql.Request, text: string, parameters: SqlParameter[] = []): Promise<QueryResult> {
  const result = await bind(request, parameters).query<Record<string, unknown>>(text);
  const recordsets = result.recordsets as Array<Array<Record<string, unknown>>>;
  return { rows: recordsets.at(-1) ?? [], rowCount: result.rowsAffected.reduce((sum, count) => sum + count, 0) };
}

/**
 * mssql cancels a request after 15 s by default. A batch waits on the table's applock while another batch of the
 * table commits, and a 5,000-row MERGE on a small tier can take longer than that: each cancel would only repeat it.
 */
export const REQUEST_TIMEOUT_MS = 300_000;

/** `defaultCredential` serves `Authentication=Active Directory Default` without a `User Id` (the app's identity). */
export function mssqlPoolConfig(
  connectionString: string,
  poolSize = DEFAULT_POOL_SIZE,
  defaultCredential?: TokenCredential,
): sql.config {
  const { config } = parseMssqlConnectionString(connectionString, defaultCredential);
  return {
    ...config,
    requestTimeout: config.requestTimeout ?? REQUEST_TIMEOUT_MS,
    pool: { ...config.pool, max: config.pool?.max ?? poolSize },
  };
}

export async function createMssqlConnection(
  connectionString: string,
  poolSize = DEFAULT_POOL_SIZE,
  defaultCredential?: TokenCredential,
): Promise<SqlConnection> {
  const pool = new sql.ConnectionPool(mssqlPoolConfig(connectionString, poolSize, defaultCredential));
  await pool.connect();
  return {
    query: (text, parameters) => run(pool.request(), text, parameters),
    transaction: async (work) => {
      const transaction = pool.transaction();
      await transaction.begin();
      try {
        const result = await work({ query: (text, parameters) => run(new sql.Request(transaction), text, parameters) });
        await transaction.commit();
        return result;
      } catch (error) {
        await transaction.rollback().catch(() => undefined);
        throw error;
      }
    },
    close: () => pool.close(),
  };
}
