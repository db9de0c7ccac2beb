/**
 * psql against the embedded database of `npm start`: a PostgreSQL wire-protocol server on loopback
 * (@electric-sql/pglite-socket) over the SAME PGlite instance the destination writes, since a PGlite folder
 * cannot be opened twice.
 */
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPsql {
  port: number;
  /** The exact command an admin pastes (PGlite has one database, `postgres`, and accepts any user). */
  command: string;
  stop(): Promise<void>;
}

/**
 * Every psql statement waits for the product's open transaction to end (PGlite's transaction lock, which its
 * query() also takes), so a look with psql never lands in the middle of a batch the destination is writing.
 */
function betweenTransactions(db: PGlite): PGlite {
  return new Proxy(db, {
    get(target, property) {
      if (property === 'runExclusive')
        return <T>(work: () => Promise<T>) => target._runExclusiveTransaction(() => target.runExclusive(work));
      const value: unknown = Reflect.get(target, property, target);
      // PGlite keeps its state in private (#) fields, which only the real instance can read.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export async function serveEmbeddedDatabase(db: PGlite, port: number): Promise<EmbeddedPsql> {
  const server = new PGLiteSocketServer({ db: betweenTransactions(db), host: '127.0.0.1', port, maxConnections: 4 });
  await server.start();
  const bound = Number(/:(\d+)$/.exec(server.getServerConn())?.[1] ?? port);
  return {
    port: bound,
    command: `psql "host=127.0.0.1 port=${bound} user=postgres dbname=postgres sslmode=disable"`,
    stop: () => server.stop(),
  };
}
