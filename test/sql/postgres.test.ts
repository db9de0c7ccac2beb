import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgConnection } from '../../shared/destinations/sql/pg-connection';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server';
import { describeDestinationContract } from './contract';

let server: PostgresServer | undefined;
beforeAll(async () => {
  server = await startPostgresServer();
});
afterAll(async () => {
  await server?.stop();
});

describeDestinationContract('PostgreSQL 15 server', () =>
  server && { dialect: postgresDialect, connect: () => createPgConnection(server?.connectionString ?? '', 4) },
);

describe('a PostgreSQL server that drops the connection', () => {
  it('fails the transaction it was in, without crashing the process, and the pool goes on with a new connection', async () => {
    const connectionString = server?.connectionString ?? '';
    const connection = await createPgConnection(connectionString, 1);
    const admin = new Client({ connectionString });
    await admin.connect();
    try {
      const transaction = connection.transaction(async (tx) => {
        const { rows } = await tx.query('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        // Between two queries, as while a batch is prepared: the client learns of the loss here, with no one listening.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await tx.query('SELECT 1');
      });
      await expect(transaction).rejects.toThrow();
      expect((await connection.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
      await connection.close();
    }
  });
});
