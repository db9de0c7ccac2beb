/** Embedded PostgreSQL (PGlite): in memory, or persisted in a data directory. */
import { PGlite } from '@electric-sql/pglite';
import type { QueryResult, SqlConnection } from './connection';

interface PgliteResult {
  rows: Array<Record<string, unknown>>;
  affectedRows?: number;
  rowCount?: number;
}

const toResult = (result: PgliteResult): QueryResult => ({
  rows: result.rows,
  rowCount: result.rowCount ?? result.affectedRows ?? 0,
});

/**
 * The open database of each data directory in this process. A PGlite folder cannot be opened twice, so local
 * tooling (psql through `npm start`) reaches the destination's own instance here; PGlite runs only in local mode
 * (shared/security/policy.ts), so in Azure this stays empty.
 */
const openDatabases = new Map<string, PGlite>();

export const openEmbeddedDatabase = (dataDir: string): PGlite | undefined => openDatabases.get(dataDir);

export async function createPgliteConnection(dataDir: string | undefined): Promise<SqlConnection> {
  const db = dataDir === undefined ? new PGlite() : new PGlite(dataDir);
  await db.waitReady;
  if (dataDir !== undefined) openDatabases.set(dataDir, db);
  return {
    query: async (sql, parameters = []) => toResult(await db.query<Record<string, unknown>>(sql, parameters)),
    // PGlite runs one statement at a time, so its transaction() already serialises concurrent callers.
    transaction: (work) =>
      db.transaction((tx) =>
        work({
          query: async (sql, parameters = []) => toResult(await tx.query<Record<string, unknown>>(sql, parameters)),
        }),
      ),
    close: async () => {
      if (dataDir !== undefined && openDatabases.get(dataDir) === db) openDatabases.delete(dataDir);
      await db.close();
    },
  };
}
