/**
 * The `Authentication=` keyword of a SQL Server / Azure SQL connection string, read as Microsoft.Data.SqlClient
 * reads it (https://learn.microsoft.com/sql/connect/ado-net/sql/azure-active-directory-authentication): case and
 * spaces do not matter, `User Id` is the client id of the identity. mssql's own parser knows none of the Entra
 * modes Azure SQL users paste and makes a SQL login without a password of them, which an Entra-only server
 * refuses; so each mode is mapped here to an `@azure/identity` credential that tedious asks for tokens.
 */
import type { TokenCredential } from '@azure/identity';
import sql from 'mssql';
import { ExportError } from '../../errors';
import { createCredential } from '../../storage/credentials';

export type SqlAuthentication =
  | { kind: 'sql-login' }
  | { kind: 'managed-identity'; clientId?: string }
  | { kind: 'default'; managedIdentityClientId?: string }
  | { kind: 'service-principal'; tenantId: string; clientId: string; clientSecret: string };

/** What mssql's parser returns, with the keys it keeps outside its typed config. */
type ParsedConnectionString = sql.config & {
  authentication_type?: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
};

/** mssql's parser, keeping the raw `Authentication` value its `_parseAuthenticationType` would reduce to 'default'. */
class RawAuthenticationParser extends sql.ConnectionPool {
  static _parseAuthenticationType(type: string | undefined): string {
    return type ?? '';
  }
}

const WHERE = 'destination connection string: Authentication';
const SUPPORTED =
  "'Active Directory Managed Identity' (alias 'Active Directory MSI'), 'Active Directory Default', 'Active Directory Service Principal' or 'Sql Password'";

function servicePrincipal(parsed: ParsedConnectionString): SqlAuthentication {
  const missing = [
    !parsed.user && 'User Id (the application id)',
    !parsed.password && 'Password (the client secret)',
    !parsed.tenantId && 'Tenant Id',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new ExportError('config', `Authentication=Active Directory Service Principal needs ${missing.join(', ')}`, {
      where: WHERE,
      // SqlClient learns the tenant from the server's login answer; tedious asks the credential before that, so it is given.
      fix: "Add 'User Id=<application id>;Password=<client secret>;Tenant Id=<tenant id>' (Tenant Id is mssql's keyword, not SqlClient's), or use 'Active Directory Managed Identity'.",
    });
  }
  return {
    kind: 'service-principal',
    tenantId: parsed.tenantId as string,
    clientId: parsed.user as string,
    clientSecret: parsed.password as string,
  };
}

/** The authentication a parsed connection string asks for; a config error for a mode that cannot run unattended. */
function authenticationOf(parsed: ParsedConnectionString): SqlAuthentication {
  const mode = parsed.authentication_type;
  if (mode === undefined) return { kind: 'sql-login' };
  switch (mode.replace(/\s+/g, '').toLowerCase()) {
    case '':
    case 'sqlpassword':
      return { kind: 'sql-login' };
    case 'activedirectorymanagedidentity':
    case 'activedirectorymsi':
      return parsed.user ? { kind: 'managed-identity', clientId: parsed.user } : { kind: 'managed-identity' };
    case 'activedirectorydefault':
      return parsed.user ? { kind: 'default', managedIdentityClientId: parsed.user } : { kind: 'default' };
    case 'activedirectoryserviceprincipal':
      return servicePrincipal(parsed);
    default:
      throw new ExportError('config', `The connection string's Authentication=${mode} is not supported`, {
        where: WHERE,
        fix: `An exporter runs unattended (no password sign-in, prompt, device code or Windows login): use ${SUPPORTED}.`,
      });
  }
}

export interface ParsedMssqlConnection {
  config: sql.config;
  authentication: SqlAuthentication;
}

/**
 * Parses an mssql connection string. `defaultCredential` (the app's identity) serves `Active Directory Default`
 * without a `User Id`; every other mode builds the credential its keywords name.
 */
export function parseMssqlConnectionString(
  connectionString: string,
  defaultCredential?: TokenCredential,
): ParsedMssqlConnection {
  const parsed = RawAuthenticationParser.parseConnectionString(connectionString) as ParsedConnectionString;
  const authentication = authenticationOf(parsed);
  const {
    authentication_type: _mode,
    user,
    password,
    tenantId: _tenant,
    clientId: _client,
    clientSecret: _secret,
    ...rest
  } = parsed;
  if (authentication.kind === 'sql-login') {
    return {
      config: { ...rest, ...(user !== undefined ? { user } : {}), ...(password !== undefined ? { password } : {}) },
      authentication,
    };
  }
  const credential = credentialFor(authentication, defaultCredential);
  return { config: { ...rest, authentication: { type: 'token-credential', options: { credential } } }, authentication };
}

export function credentialFor(
  authentication: Exclude<SqlAuthentication, { kind: 'sql-login' }>,
  defaultCredential?: TokenCredential,
): TokenCredential {
  switch (authentication.kind) {
    case 'managed-identity':
      return createCredential({ kind: 'managed-identity', clientId: authentication.clientId });
    case 'default':
      if (authentication.managedIdentityClientId)
        return createCredential({ kind: 'default', managedIdentityClientId: authentication.managedIdentityClientId });
      return defaultCredential ?? createCredential({ kind: 'default' });
    case 'service-principal':
      return createCredential({
        kind: 'client-secret',
        tenantId: authentication.tenantId,
        clientId: authentication.clientId,
        clientSecret: authentication.clientSecret,
      });
  }
}
