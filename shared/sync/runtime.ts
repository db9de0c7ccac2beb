/**
 * What the pipeline needs of one export profile at run time: its Dataverse client and its destination,
 * built once per profile version (secrets resolved, connections pooled) and rebuilt when the profile
 * changes. Embedded destinations (PGlite) must exist once per process, which this cache also guarantees.
 */
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { tokenSourceFor, type DataverseAuth } from '../dataverse/auth';
import { DataverseClient } from '../dataverse/client';
import { createDestination, type SqlDestination, type SqlDestinationConfig } from '../destinations/sql';
import { ExportError } from '../errors';
import type { ExportProfile } from '../profile/profile';
import type { DocumentStore } from '../state/document-store';
import { assertSecretAllowsEnvironment, type SecretResolver } from './secrets';

export interface ProfileRuntime {
  profile: ExportProfile;
  source: DataverseClient;
  destination: SqlDestination;
}

export interface ProfileRuntimes {
  /** The profile's runtime; a config ExportError when the profile does not exist. */
  get(name: string): Promise<ProfileRuntime>;
  /** Closes and forgets a profile's connections (after it was changed or deleted). */
  evict(name: string): Promise<void>;
  closeAll(): Promise<void>;
}

export interface RuntimeOptions {
  profiles: DocumentStore<ExportProfile>;
  secrets: SecretResolver;
  /** Identity for Key Vault, Entra ID auth to Azure SQL and Dataverse managed identity. */
  credential: () => TokenCredential;
  /** Concurrent Dataverse requests per org from this process. */
  dataverseConcurrency?: number;
}

export const defaultCredential = (clientId: string | undefined): (() => TokenCredential) => {
  let credential: TokenCredential | undefined;
  return () => (credential ??= clientId ? new ManagedIdentityCredential({ clientId }) : new DefaultAzureCredential());
};

async function sourceAuth(profile: ExportProfile, secrets: SecretResolver): Promise<DataverseAuth> {
  const auth = profile.source.auth;
  switch (auth.kind) {
    case 'client-secret': {
      const secret = await secrets.resolve(auth.clientSecret, 'Dataverse client secret');
      return { kind: 'client-secret', tenantId: auth.tenantId, clientId: auth.clientId, clientSecret: secret.value };
    }
    case 'managed-identity':
      return auth.clientId ? { kind: 'managed-identity', clientId: auth.clientId } : { kind: 'managed-identity' };
    case 'static-token':
      return { kind: 'static-token', token: (await secrets.resolve(auth.token, 'Dataverse token')).value };
  }
}

async function destinationConfig(profile: ExportProfile, secrets: SecretResolver): Promise<SqlDestinationConfig> {
  const destination = profile.destination;
  const target = { schema: destination.schema, prefix: destination.prefix, writeDeleteLog: profile.writeDeleteLog };
  if (destination.dialect === 'pglite') return { dialect: 'pglite', ...(destination.dataDir ? { dataDir: destination.dataDir } : {}), ...target };
  const secret = await secrets.resolve(destination.connection, 'destination connection string');
  if ('keyVaultSecretUri' in destination.connection) {
    assertSecretAllowsEnvironment(secret, profile.source.environmentUrl, destination.connection.keyVaultSecretUri);
  }
  return { dialect: destination.dialect, connection: { connectionString: secret.value }, ...target };
}

export function createProfileRuntimes(options: RuntimeOptions): ProfileRuntimes {
  const built = new Map<string, { etag: string; runtime: Promise<ProfileRuntime> }>();

  async function build(profile: ExportProfile): Promise<ProfileRuntime> {
    const source = new DataverseClient({
      baseUrl: profile.source.environmentUrl,
      token: tokenSourceFor(await sourceAuth(profile, options.secrets), profile.source.environmentUrl),
      ...(options.dataverseConcurrency ? { concurrency: options.dataverseConcurrency } : {}),
    });
    const destination = await createDestination(await destinationConfig(profile, options.secrets), { credential: options.credential() });
    return { profile, source, destination };
  }

  const close = async (entry: { runtime: Promise<ProfileRuntime> } | undefined) => {
    const runtime = await entry?.runtime.catch(() => undefined);
    await runtime?.destination.close();
  };

  return {
    async get(name) {
      const stored = await options.profiles.get(name);
      if (!stored) {
        throw new ExportError('config', `There is no export profile named '${name}'`, { where: name, fix: 'Create it with PUT /api/profiles/{name}.' });
      }
      const known = built.get(name);
      if (known?.etag === stored.etag) return known.runtime;
      await close(known);
      const runtime = build(stored.value);
      built.set(name, { etag: stored.etag, runtime });
      // A failed build (bad secret, unreachable database) must be retried on the next call, not cached.
      runtime.catch(() => {
        if (built.get(name)?.runtime === runtime) built.delete(name);
      });
      return runtime;
    },
    async evict(name) {
      const known = built.get(name);
      built.delete(name);
      await close(known);
    },
    async closeAll() {
      const all = [...built.values()];
      built.clear();
      await Promise.all(all.map(close));
    },
  };
}
