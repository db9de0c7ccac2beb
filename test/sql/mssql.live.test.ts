/**
 * The dialect contract against a real SQL Server / Azure SQL database (`npm run test:mssql`). Needs
 * MSSQL_CONNECTION_STRING (a throwaway database: every test leaves its own schema behind); without it
 * the suite is reported as skipped.
 */
import { describe } from 'vitest';
import { createMssqlConnection } from '../../shared/destinations/sql/mssql-connection';
import { mssqlDialect } from '../../shared/destinations/sql/mssql-dialect';
import { describeDestinationContract } from './contract';
import { describeUpdateContract } from './update-contract';

const connectionString = process.env.MSSQL_CONNECTION_STRING;
if (!connectionString) console.warn('MSSQL_CONNECTION_STRING is not set: the SQL Server live suite is skipped.');

describe.skipIf(!connectionString)('SQL Server live suite (MSSQL_CONNECTION_STRING)', () => {
  const sqlServer = () => ({
    dialect: mssqlDialect,
    connect: () => createMssqlConnection(connectionString ?? '', 4),
  });
  describeDestinationContract('SQL Server', sqlServer);
  describeUpdateContract('SQL Server', sqlServer);
});
