/**
 * Access tokens for the Dataverse Web API. In Azure: an app registration (client secret) or the
 * function app's managed identity, through @azure/identity, scoped to `<environment origin>/.default`.
 * Against the emulator: a static bearer token.
 */
import type { TokenCredential } from '@azure/identity';
import { z } from 'zod';
import { ExportError } from '../errors';
import { createCredential } from '../storage/credentials';

export interface AccessTokenSource {
  getToken(): Promise<string>;
}

export const dataverseAuthSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('client-secret'),
    tenantId: z.string().min(1),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
  }),
  /** System-assigned identity without `clientId`; a user-assigned one with it. */
  z.object({ kind: z.literal('managed-identity'), clientId: z.string().min(1).optional() }),
  z.object({ kind: z.literal('static-token'), token: z.string().min(1) }),
]);
export type DataverseAuth = z.infer<typeof dataverseAuthSchema>;

/** `https://contoso.crm.dynamics.com/api/data/v9.2/` → `https://contoso.crm.dynamics.com/.default`. */
export const dataverseScope = (environmentUrl: string): string => `${new URL(environmentUrl).origin}/.default`;

export function credentialTokenSource(credential: TokenCredential, environmentUrl: string): AccessTokenSource {
  const scope = dataverseScope(environmentUrl);
  return {
    async getToken() {
      try {
        const token = await credential.getToken(scope);
        if (token) return token.token;
      } catch (cause) {
        throw new ExportError('config', `Could not get an access token for ${scope}`, {
          cause,
          where: scope,
          fix: 'Check the tenant id, client id and client secret (or that the managed identity is enabled) for the Dataverse connection.',
        });
      }
      throw new ExportError('config', `The credential returned no access token for ${scope}`, { where: scope });
    },
  };
}

export const staticTokenSource = (token: string): AccessTokenSource => ({ getToken: () => Promise.resolve(token) });

export function tokenSourceFor(auth: DataverseAuth, environmentUrl: string): AccessTokenSource {
  switch (auth.kind) {
    case 'client-secret':
      return credentialTokenSource(createCredential(auth), environmentUrl);
    case 'managed-identity':
      return credentialTokenSource(createCredential(auth), environmentUrl);
    case 'static-token':
      return staticTokenSource(auth.token);
  }
}
