/**
 * Token sources: the scope is the environment origin + `/.default`; credential failures become
 * configuration errors that never carry the secret. Entra ID is not reachable here, so the credential
 * is a TokenCredential object standing in for @azure/identity's.
 */
import type { TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import {
  credentialTokenSource,
  dataverseAuthSchema,
  dataverseScope,
  tokenSourceFor,
} from '../../shared/dataverse/auth';
import { ExportError } from '../../shared/errors';

const ORG = 'https://contoso.crm4.dynamics.com/api/data/v9.2/';

describe('Dataverse auth', () => {
  it('asks for the environment origin + /.default', async () => {
    expect(dataverseScope(ORG)).toBe('https://contoso.crm4.dynamics.com/.default');
    const scopes: Array<string | string[]> = [];
    const credential: TokenCredential = {
      getToken: (scope) => {
        scopes.push(scope);
        return Promise.resolve({ token: 'issued', expiresOnTimestamp: Date.now() + 3_600_000 });
      },
    };
    expect(await credentialTokenSource(credential, ORG).getToken()).toBe('issued');
    expect(scopes).toEqual(['https://contoso.crm4.dynamics.com/.default']);
  });

  it('turns a credential failure into a configuration error without the secret', async () => {
    const credential: TokenCredential = {
      getToken: () => Promise.reject(new Error('AADSTS7000215: Invalid client secret provided.')),
    };
    const error = await credentialTokenSource(credential, ORG)
      .getToken()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExportError);
    expect(error).toMatchObject({ errorClass: 'config', where: 'https://contoso.crm4.dynamics.com/.default' });
    expect(JSON.stringify(error)).not.toContain('AADSTS');
  });

  it('validates auth settings and serves a static token for the emulator', async () => {
    expect(dataverseAuthSchema.safeParse({ kind: 'client-secret', tenantId: 't', clientId: 'c' }).success).toBe(false);
    const auth = dataverseAuthSchema.parse({ kind: 'static-token', token: 'local' });
    expect(await tokenSourceFor(auth, ORG).getToken()).toBe('local');
  });
});
