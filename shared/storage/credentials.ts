/**
 * Every Entra ID credential the app builds, from one description of which identity to use, so the choice between
 * a user-assigned identity, the system one and DefaultAzureCredential is made the same way for storage, Service Bus,
 * Key Vault, the lake, Azure SQL, Dataverse and telemetry ingestion.
 */
import {
  ClientSecretCredential,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';

export type CredentialSource =
  /** The app's own identity: the user-assigned managed identity `clientId`; without one, DefaultAzureCredential (`az login` locally). */
  | { kind: 'app'; clientId?: string | undefined }
  /** A managed identity only: user-assigned with `clientId`, else the system-assigned one. */
  | { kind: 'managed-identity'; clientId?: string | undefined }
  /** DefaultAzureCredential, its managed identity step pinned to `managedIdentityClientId` when given. */
  | { kind: 'default'; managedIdentityClientId?: string | undefined }
  /** An app registration with a client secret. */
  | { kind: 'client-secret'; tenantId: string; clientId: string; clientSecret: string };

export function createCredential(source: CredentialSource): TokenCredential {
  switch (source.kind) {
    case 'app':
      return source.clientId
        ? new ManagedIdentityCredential({ clientId: source.clientId })
        : new DefaultAzureCredential();
    case 'managed-identity':
      return new ManagedIdentityCredential(source.clientId ? { clientId: source.clientId } : {});
    case 'default':
      return source.managedIdentityClientId
        ? new DefaultAzureCredential({ managedIdentityClientId: source.managedIdentityClientId })
        : new DefaultAzureCredential();
    case 'client-secret':
      return new ClientSecretCredential(source.tenantId, source.clientId, source.clientSecret);
  }
}

/** The app's identity, built on first use and shared after. */
export const lazyAppCredential = (clientId: string | undefined): (() => TokenCredential) => {
  let credential: TokenCredential | undefined;
  return () => (credential ??= createCredential({ kind: 'app', clientId }));
};
