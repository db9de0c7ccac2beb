/**
 * The Azure SQL connection strings users paste (README "Deploy to Azure" step 4 stores the first one in Key Vault),
 * turned into the config tedious connects with: no server is needed to see which identity would sign in. The
 * managed identity credentials fetch a token from a loopback App Service identity endpoint, as they would in Azure.
 */
import { ClientSecretCredential, type AccessToken, type TokenCredential } from '@azure/identity';
import sql from 'mssql';
import { Connection } from 'tedious';
import { describe, expect, it } from 'vitest';
import { parseMssqlConnectionString } from '../../shared/destinations/sql/mssql-authentication';
import { mssqlPoolConfig } from '../../shared/destinations/sql/mssql-connection';
import { ExportError } from '../../shared/errors';
import { useIdentityEndpoint } from '../support/identity-endpoint';

const SERVER = 'Server=tcp:contoso-sql.database.windows.net,1433;Database=export';
const CLIENT_ID = '6f0b3c9e-1111-4a2b-9c3d-000000000001';
/** The scope tedious asks for: the spn of the server's FEDAUTHINFO answer plus `/.default`. */
const SQL_SCOPE = 'https://database.windows.net/.default';

/** The object mssql hands to `new tedious.Connection` (its private `_config`), checked by tedious itself. */
function tediousConfig(connectionString: string, appCredential?: TokenCredential) {
  const pool = new sql.ConnectionPool(mssqlPoolConfig(connectionString, 10, appCredential)) as unknown as {
    _config(): ConstructorParameters<typeof Connection>[0];
  };
  const config = pool._config();
  // Throws a TypeError for an authentication tedious does not accept; does not connect.
  new Connection(config);
  return config as {
    server: string;
    options: { database?: string; port?: number; encrypt?: boolean };
    authentication: { type: string; options: Record<string, unknown> };
  };
}

const identity = useIdentityEndpoint();

const credentialOf = (config: ReturnType<typeof tediousConfig>) =>
  config.authentication.options.credential as TokenCredential;

describe('Authentication=Active Directory Managed Identity (README deploy step 4)', () => {
  it('signs in with a token of the user-assigned identity named by User Id, not as a SQL login', async () => {
    const config = tediousConfig(
      `${SERVER};Authentication=Active Directory Managed Identity;User Id=${CLIENT_ID};Encrypt=True`,
    );
    expect(config.authentication.type).toBe('token-credential');
    expect(config.authentication.options).not.toHaveProperty('userName');
    expect(config).toMatchObject({
      server: 'contoso-sql.database.windows.net',
      options: { database: 'export', port: 1433, encrypt: true },
    });
    const token = await credentialOf(config).getToken(SQL_SCOPE);
    expect(token?.token).toBe(identity.tokenFor(CLIENT_ID));
    expect(identity.requests.at(-1)).toEqual({ resource: 'https://database.windows.net', clientId: CLIENT_ID });
  });

  it.each([
    'Active Directory MSI',
    'ActiveDirectoryManagedIdentity',
    'active directory managed identity',
    'ACTIVEDIRECTORYMSI',
  ])('reads %s as SqlClient does (case and spaces ignored)', (mode) => {
    expect(parseMssqlConnectionString(`${SERVER};Authentication=${mode};User Id=${CLIENT_ID}`).authentication).toEqual({
      kind: 'managed-identity',
      clientId: CLIENT_ID,
    });
  });

  it('uses the system-assigned identity without a User Id', async () => {
    const config = tediousConfig(`${SERVER};Authentication=Active Directory Managed Identity`);
    expect((await credentialOf(config).getToken(SQL_SCOPE))?.token).toBe(identity.tokenFor(undefined));
  });
});

describe('Authentication=Active Directory Default', () => {
  it('with a User Id: DefaultAzureCredential whose managed identity is that client id', async () => {
    const config = tediousConfig(`${SERVER};Authentication=Active Directory Default;User Id=${CLIENT_ID}`);
    expect(config.authentication.type).toBe('token-credential');
    expect((await credentialOf(config).getToken(SQL_SCOPE))?.token).toBe(identity.tokenFor(CLIENT_ID));
  });

  it("without one: the app's own identity", () => {
    const app: TokenCredential = {
      getToken: (): Promise<AccessToken> => Promise.resolve({ token: 'app', expiresOnTimestamp: Date.now() + 60_000 }),
    };
    expect(credentialOf(tediousConfig(`${SERVER};Authentication=ActiveDirectoryDefault`, app))).toBe(app);
  });
});

describe('Authentication=Active Directory Service Principal', () => {
  const secret = 'n0t-a-real-secret~value';

  it('signs in as the application User Id with the client secret Password, in the tenant Tenant Id', () => {
    const connectionString = `${SERVER};Authentication=Active Directory Service Principal;User Id=${CLIENT_ID};Password=${secret};Tenant Id=contoso.onmicrosoft.com`;
    expect(parseMssqlConnectionString(connectionString).authentication).toEqual({
      kind: 'service-principal',
      tenantId: 'contoso.onmicrosoft.com',
      clientId: CLIENT_ID,
      clientSecret: secret,
    });
    const config = tediousConfig(connectionString);
    expect(config.authentication.type).toBe('token-credential');
    expect(credentialOf(config)).toBeInstanceOf(ClientSecretCredential);
    // The secret lives in the credential only, not as a SQL password next to it.
    expect(JSON.stringify({ ...config, authentication: config.authentication.type })).not.toContain(secret);
  });

  it('without a tenant, application id or secret: a config error saying which keyword to add', () => {
    const error = catchError(() =>
      parseMssqlConnectionString(
        `${SERVER};Authentication=Active Directory Service Principal;User Id=${CLIENT_ID};Password=${secret}`,
      ),
    );
    expect(error).toMatchObject({ errorClass: 'config', where: 'destination connection string: Authentication' });
    expect(error.message).toContain('Tenant Id');
    expect(
      catchError(() =>
        parseMssqlConnectionString(`${SERVER};Authentication=Active Directory Service Principal;Tenant Id=t`),
      ).message,
    ).toContain('User Id (the application id), Password (the client secret)');
  });
});

describe('other Authentication values', () => {
  it.each([
    'Active Directory Password',
    'Active Directory Interactive',
    'Active Directory Integrated',
    'ActiveDirectoryDeviceCodeFlow',
    'Windows',
  ])('%s is a config error naming the keyword and the modes that work', (mode) => {
    const error = catchError(() =>
      mssqlPoolConfig(`${SERVER};Authentication=${mode};User Id=someone@contoso.com;Password=x`),
    );
    expect(error).toMatchObject({ errorClass: 'config', where: 'destination connection string: Authentication' });
    expect(error.message).toContain(`Authentication=${mode}`);
    expect(error.fix).toContain('Active Directory Managed Identity');
  });

  it('none, or Sql Password: a SQL login with the User Id and Password', () => {
    for (const connectionString of [
      `${SERVER};User Id=exporter;Password=x`,
      `${SERVER};Authentication=Sql Password;User Id=exporter;Password=x`,
    ]) {
      expect(tediousConfig(connectionString).authentication).toEqual({
        type: 'default',
        options: { userName: 'exporter', password: 'x' },
      });
    }
  });
});

describe('mssql pool settings', () => {
  it('sizes the pool from the argument unless the connection string says Max Pool Size, and keeps its timeouts', () => {
    expect(mssqlPoolConfig(`${SERVER};User Id=exporter;Password=x;Encrypt=true`, 5)).toMatchObject({
      server: 'contoso-sql.database.windows.net',
      port: 1433,
      database: 'export',
      user: 'exporter',
      requestTimeout: 300_000,
      pool: { max: 5 },
    });
    expect(mssqlPoolConfig(`${SERVER};Max Pool Size=3`, 5).pool?.max).toBe(3);
    // A timeout the connection string sets wins.
    expect(mssqlPoolConfig(`${SERVER};Request Timeout=60000`, 5).requestTimeout).toBe(60_000);
  });
});

function catchError(work: () => unknown): ExportError {
  try {
    work();
  } catch (error) {
    if (error instanceof ExportError) return error;
    throw error;
  }
  throw new Error('expected an ExportError');
}
