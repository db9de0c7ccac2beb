/**
 * Entry point of the SQL destination: `createDestination(config)` for PostgreSQL (`pg` pool), PGlite
 * (embedded) or SQL Server / Azure SQL (`mssql`, connection string or Entra ID), with the connection
 * string optionally read from Key Vault.
 */
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { ExportError } from '../../errors';
import { validatePrefix, validateSchemaName } from '../../schema/identifiers';
import { parseDestinationConfig } from '../destination';
import { sqlDestinationConfigSchema, type ParsedSqlDestinationConfig, type SqlDestinationConfig } from './config';
import type { SqlConnection } from './connection';
import { createSqlDestination, type SqlDestination } from './destination';
import { createMssqlConnection } from './mssql-connection';
import { mssqlDialect } from './mssql-dialect';
import { createPgConnection } from './pg-connection';
import { createPgliteConnection } from './pglite-connection';
import { postgresDialect } from './postgres-dialect';
import { readConnectionSecret } from './secrets';

export type { SqlDestinationConfig } from './config';
export type * from './destination';

export interface DestinationDependencies {
  /** Identity for Key Vault and Entra ID auth; DefaultAzureCredential (managed identity in Azure) when absent. */
  credential?: TokenCredential;
}

function parseConfig(config: SqlDestinationConfig): ParsedSqlDestinationConfig {
  const parsed = parseDestinationConfig(sqlDestinationConfigSchema, config, 'SQL');
  // Checked before connecting, so a bad name never opens a connection.
  validateSchemaName(parsed.schema);
  validatePrefix(parsed.prefix);
  return parsed;
}

async function connectionString(connection: { connectionString: string } | { keyVaultSecretUri: string }, credential: () => TokenCredential) {
  return 'connectionString' in connection ? connection.connectionString : readConnectionSecret(connection.keyVaultSecretUri, credential());
}

async function connect(config: ParsedSqlDestinationConfig, dependencies: DestinationDependencies): Promise<SqlConnection> {
  let credential = dependencies.credential;
  const lazyCredential = (): TokenCredential => (credential ??= new DefaultAzureCredential());
  try {
    switch (config.dialect) {
      case 'pglite':
        return await createPgliteConnection(config.dataDir);
      case 'postgres':
        return await createPgConnection(await connectionString(config.connection, lazyCredential), config.poolSize);
      case 'mssql':
        if ('entra' in config.connection) {
          return await createMssqlConnection({ ...config.connection.entra, credential: lazyCredential() }, config.poolSize);
        }
        return await createMssqlConnection({ connectionString: await connectionString(config.connection, lazyCredential) }, config.poolSize);
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

export async function createDestination(config: SqlDestinationConfig, dependencies: DestinationDependencies = {}): Promise<SqlDestination> {
  const parsed = parseConfig(config);
  const connection = await connect(parsed, dependencies);
  return createSqlDestination(connection, parsed.dialect === 'mssql' ? mssqlDialect : postgresDialect, {
    schema: parsed.schema,
    prefix: parsed.prefix,
    writeDeleteLog: parsed.writeDeleteLog,
    widenOverlongStrings: parsed.widenOverlongStrings,
  });
}
