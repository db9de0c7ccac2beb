/**
 * Entry point of the SQL destination: `createDestination(config)` for PostgreSQL (`pg` pool), PGlite
 * (embedded) or SQL Server / Azure SQL (`mssql`: SQL login, or Entra ID by the connection string's
 * `Authentication=` keyword).
 */
import type { TokenCredential } from '@azure/identity';
import { ExportError } from '../../errors';
import { validatePrefix, validateSchemaName } from '../../schema/identifiers';
import { parseDestinationConfig } from '../destination';
import { sqlDestinationConfigSchema, type ParsedSqlDestinationConfig, type SqlDestinationConfig } from './config';
import { DEFAULT_POOL_SIZE, type SqlConnection } from './connection';
import { createSqlDestination, type SqlDestination } from './destination';
import { createMssqlConnection } from './mssql-connection';
import { mssqlDialect } from './mssql-dialect';
import { createPgConnection } from './pg-connection';
import { createPgliteConnection } from './pglite-connection';
import { postgresDialect } from './postgres-dialect';

export type { SqlDestinationConfig } from './config';
export type * from './destination';

export interface DestinationDependencies {
  /** The app's identity, for `Authentication=Active Directory Default` without a `User Id`; DefaultAzureCredential when absent. */
  credential?: TokenCredential;
}

function parseConfig(config: SqlDestinationConfig): ParsedSqlDestinationConfig {
  const parsed = parseDestinationConfig(sqlDestinationConfigSchema, config, 'SQL');
  // Checked before connecting, so a bad name never opens a connection.
  validateSchemaName(parsed.schema);
  validatePrefix(parsed.prefix);
  return parsed;
}

async function connect(
  config: ParsedSqlDestinationConfig,
  dependencies: DestinationDependencies,
): Promise<SqlConnection> {
  try {
    switch (config.dialect) {
      case 'pglite':
        return await createPgliteConnection(config.dataDir);
      case 'postgres':
        return await createPgConnection(config.connection.connectionString, DEFAULT_POOL_SIZE);
      case 'mssql':
        return await createMssqlConnection(
          config.connection.connectionString,
          DEFAULT_POOL_SIZE,
          dependencies.credential,
        );
    }
  } catch (error) {
    if (error instanceof ExportError) throw error;
    // Driver messages can echo the connection string; say what failed without them.
    throw new ExportError('transient', `Could not connect to the ${config.dialect} destination.`, {
      cause: error,
      where: 'destination.connection',
      fix: 'Check that the server is reachable and the connection settings and credentials are right.',
    });
  }
}

export async function createDestination(
  config: SqlDestinationConfig,
  dependencies: DestinationDependencies = {},
): Promise<SqlDestination> {
  const parsed = parseConfig(config);
  const connection = await connect(parsed, dependencies);
  return createSqlDestination(connection, parsed.dialect === 'mssql' ? mssqlDialect : postgresDialect, {
    schema: parsed.schema,
    prefix: parsed.prefix,
    writeDeleteLog: parsed.writeDeleteLog,
    // Always: a value longer than its column widens the column instead of failing the row (DES failed such rows).
    widenOverlongStrings: true,
  });
}
