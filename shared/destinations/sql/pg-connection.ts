/** PostgreSQL server through a `pg` pool. */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool, types, type PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { QueryResult, SqlConnection, SqlParameter } from './connection';

const toResult = (result: { rows: Array<Record<string, unknown>>; rowCount: number | null }): QueryResult => ({
  rows: result.rows,
  rowCount: result.rowCount ?? 0,
});

const TIMESTAMP_WITHOUT_TIME_ZONE = 1114;
/** `timestamp` columns hold UTC; pg would read them as local time, so they stay text for the caller to read as UTC. */
export const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMP_WITHOUT_TIME_ZONE
      ? (value: string) => value
      : (types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown)) as typeof types.getTypeParser,
};

const CHUNK_BYTES = 65_536;

/**
 * Lines written into buffers of about 64 KiB: one CopyData message per line would mean one socket write
 * per row, and a string built by concatenating lines would be flattened again when it is written.
 */
function* chunks(lines: Iterable<string>): Generator<Buffer> {
  let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  for (const line of lines) {
    // Room for the worst case: a UTF-16 code unit is at most three bytes of UTF-8.
    const room = line.length * 3;
    if (used + room > chunk.length) {
      if (used > 0) yield chunk.subarray(0, used);
      chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room));
      used = 0;
    }
    used += chunk.write(line, used);
  }
  if (used > 0) yield chunk.subarray(0, used);
}

export async function createPgConnection(
  connectionString: string,
  poolSize: number,
): Promise<SqlConnection & { pool: Pool }> {
  const pool = new Pool({ connectionString, max: poolSize, types: typeParsers });
  // An idle client that loses its server emits 'error' on the pool; without a listener that would crash the process.
  pool.on('error', () => undefined);
  // So does a checked-out one, which the pool does not listen to: between two queries of a transaction, or in
  // the very socket read that completes its checkout (failover, pg_terminate_backend). Listened to for its whole
  // life, its next query fails instead, and the pool drops it once released, as it is no longer queryable.
  pool.on('connect', (client) => client.on('error', () => undefined));
  // Fail at creation, not at the first batch, when the server cannot be reached or refuses the login.
  await pool.query('SELECT 1').catch(async (error: unknown) => {
    await pool.end().catch(() => undefined);
    throw error;
  });
  const run = async (client: Pool | PoolClient, sql: string, parameters: SqlParameter[] = []) =>
    toResult(await client.query<Record<string, unknown>>(sql, parameters));
  return {
    pool,
    query: (sql, parameters) => run(pool, sql, parameters),
    transaction: async (work) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work({
          query: (sql, parameters) => run(client, sql, parameters),
          copyIn: (statement, lines) => pipeline(Readable.from(chunks(lines)), client.query(copyFrom(statement))),
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
