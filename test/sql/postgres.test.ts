import { afterAll, beforeAll } from 'vitest';
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
