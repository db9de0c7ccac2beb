import { afterAll, beforeAll } from 'vitest';
import type { SqlConnection } from '../../shared/destinations/sql/connection';
import { createPgliteConnection } from '../../shared/destinations/sql/pglite-connection';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
import { describeDestinationContract } from './contract';

// One embedded database for the file (each test works in its own schema); starting PGlite takes a second or two.
let database: SqlConnection | undefined;
beforeAll(async () => {
  database = await createPgliteConnection(undefined);
});
afterAll(async () => {
  await database?.close();
});

describeDestinationContract('PGlite (embedded)', () => {
  const shared = database;
  return shared && { dialect: postgresDialect, connect: async () => ({ ...shared, close: async () => undefined }) };
});
