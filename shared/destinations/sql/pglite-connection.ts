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

/**
 * PostgreSQL's memory settings for the embedded database, after PGlite's own start parameters (which the option
 * replaces). PGlite touches all of `shared_buffers` when it starts and WebAssembly memory never shrinks, so the
 * default 128 MB stays resident for the whole run; a local database of a few hundred MB works with 16 MB
 * (measured: RSS after opening the sample org's database 289 MB with the default, 168 MB with these; BENCHMARKS.md).
 * The settings: https://www.postgresql.org/docs/current/runtime-config-resource.html
 */
export const EMBEDDED_MEMORY_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '16MB',
  wal_buffers: '1MB',
  temp_buffers: '1MB',
  maintenance_work_mem: '16MB',
};

/** PGlite's start parameters with the memory settings above (also used by npm start's initdb child). */
export const embeddedStartParams = (): string[] => [
  ...PGlite.defaultStartParams,
  ...Object.entries(EMBEDDED_MEMORY_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
];

export async function createPgliteConnection(dataDir: string | undefined): Promise<SqlConnection> {
  const db = new PGlite({ ...(dataDir === undefined ? {} : { dataDir }), startParams: embeddedStartParams() });
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
