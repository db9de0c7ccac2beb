/**
 * What the pipeline needs of one export profile at run time: its Dataverse client and its destination,
 * built once per profile version (secrets resolved, connections pooled) and rebuilt when the profile
 * changes. Embedded destinations (PGlite) must exist once per process, which this cache also guarantees.
 */
import { mkdir, readdir } from 'node:fs/promises';
import type { TokenCredential } from '@azure/identity';
import { tokenSourceFor, type DataverseAuth } from '../../dataverse/auth';
import { DataverseClient } from '../../dataverse/client';
import type { RetryPolicy } from '../../dataverse/http';
import type { Destination } from '../../destinations/destination';
import { openLakeDestination, type LakeDestinationConfig } from '../../destinations/lake';
import { createDestination, type SqlDestinationConfig } from '../../destinations/sql';
import { ExportError } from '../../errors';
import type { ExportProfile, SecretReference } from '../../profile/profile';
import { assertProfileAllowed, embeddedDatabaseFolder, type SecurityPolicy } from '../../security/policy';
import type { DocumentStore } from '../../state/document-store';
import { lazyAppCredential } from '../../storage/credentials';
import { assertSecretAllowsEnvironment, type SecretResolver } from './secrets';

export interface ProfileRuntime {
  profile: ExportProfile;
  source: DataverseClient;
  destination: Destination;
  /** The source environment's organization id, asked once per runtime (WhoAmI) and then remembered. */
  organizationId(): Promise<string>;
}

export interface ProfileRuntimes {
  /** The profile's runtime; a config ExportError when the profile does not exist. */
  get(name: string): Promise<ProfileRuntime>;
  /** Closes and forgets a profile's connections (after it was changed or deleted). */
  evict(name: string): Promise<void>;
  /** A Dataverse client for a profile that need not be stored yet (PUT checks its tables); policy checked first. */
  sourceFor(profile: ExportProfile, retry?: Partial<RetryPolicy>): Promise<DataverseClient>;
  closeAll(): Promise<void>;
}

export interface RuntimeOptions {
  profiles: DocumentStore<ExportProfile>;
  secrets: SecretResolver;
  /** Checked before any secret of a profile is resolved or any host it names is contacted. */
  policy: SecurityPolicy;
  /** Identity for Key Vault, Entra ID auth to Azure SQL and Dataverse managed identity. */
  credential: () => TokenCredential;
}

export const defaultCredential = lazyAppCredential;

/**
 * Every secret a profile uses (source token, client secret, destination connection); one from Key Vault must be
 * tagged for this Dataverse environment (as DES required of destination secrets), so a profile cannot borrow a
 * secret its owner did not give to that environment.
 */
async function profileSecret(
  profile: ExportProfile,
  reference: SecretReference,
  what: string,
  secrets: SecretResolver,
  organizationId?: () => Promise<string>,
): Promise<string> {
  const secret = await secrets.resolve(reference, what);
  if ('keyVaultSecretUri' in reference) {
    const auth = profile.source.auth;
    const environment = {
      environmentUrl: profile.source.environmentUrl,
      ...(auth.kind === 'client-secret' ? { tenantId: auth.tenantId } : {}),
    };
    try {
      assertSecretAllowsEnvironment(secret, environment, reference.keyVaultSecretUri);
    } catch (refusal) {
      // Not tagged with the host: DES's tag names the org id, which only WhoAmI tells (asked once per runtime).
      // The source's own secrets are needed to ask it, so only the destination's can pass this way.
      if (!organizationId) throw refusal;
      const withOrganization = { ...environment, organizationId: await organizationId() };
      assertSecretAllowsEnvironment(secret, withOrganization, reference.keyVaultSecretUri);
    }
  }
  return secret.value;
}

async function sourceAuth(profile: ExportProfile, secrets: SecretResolver): Promise<DataverseAuth> {
  const auth = profile.source.auth;
  switch (auth.kind) {
    case 'client-secret': {
      const secret = await profileSecret(profile, auth.clientSecret, 'Dataverse client secret', secrets);
      return { kind: 'client-secret', tenantId: auth.tenantId, clientId: auth.clientId, clientSecret: secret };
    }
    case 'managed-identity':
      return auth.clientId ? { kind: 'managed-identity', clientId: auth.clientId } : { kind: 'managed-identity' };
    case 'static-token':
      return { kind: 'static-token', token: await profileSecret(profile, auth.token, 'Dataverse token', secrets) };
  }
}

type SqlProfileDestination = Extract<ExportProfile['destination'], { kind: 'sql' }>;
type LakeProfileDestination = Extract<ExportProfile['destination'], { kind: 'lake' }>;

/** The profile's own database folder: refused when something else (not a PGlite database) already lives there. */
async function embeddedFolder(policy: SecurityPolicy, profile: ExportProfile): Promise<string | undefined> {
  const folder = embeddedDatabaseFolder(policy, profile.name);
  if (folder === undefined) return undefined;
  const entries = await readdir(folder).catch((): string[] => []);
  if (entries.length > 0 && !entries.includes('PG_VERSION')) {
    throw new ExportError(
      'config',
      `The embedded database folder of '${profile.name}' holds files that are no database`,
      {
        where: `${profile.name}: destination`,
        fix: 'Move those files away from DVX_DATA_DIR/databases/<profile>, or delete the folder.',
      },
    );
  }
  await mkdir(folder, { recursive: true });
  return folder;
}

async function sqlConfig(
  profile: ExportProfile,
  destination: SqlProfileDestination,
  secrets: SecretResolver,
  policy: SecurityPolicy,
  organizationId: () => Promise<string>,
): Promise<SqlDestinationConfig> {
  const target = { schema: destination.schema, prefix: destination.prefix, writeDeleteLog: profile.writeDeleteLog };
  if (destination.dialect === 'pglite') {
    const dataDir = await embeddedFolder(policy, profile);
    return { dialect: 'pglite', ...(dataDir ? { dataDir } : {}), ...target };
  }
  const connectionString = await profileSecret(
    profile,
    destination.connection,
    'destination connection string',
    secrets,
    organizationId,
  );
  return { dialect: destination.dialect, connection: { connectionString }, ...target };
}

async function lakeConfig(
  profile: ExportProfile,
  destination: LakeProfileDestination,
  secrets: SecretResolver,
  organizationId: () => Promise<string>,
): Promise<LakeDestinationConfig> {
  const { kind: _kind, storage, ...target } = destination;
  const connection =
    'accountUrl' in storage
      ? { accountUrl: storage.accountUrl }
      : {
          connectionString: await profileSecret(
            profile,
            storage.connectionString,
            'lake storage connection string',
            secrets,
            organizationId,
          ),
        };
  return { connection, ...target };
}

async function openDestination(
  profile: ExportProfile,
  options: RuntimeOptions,
  organizationId: () => Promise<string>,
): Promise<Destination> {
  const destination = profile.destination;
  const credential = options.credential();
  if (destination.kind === 'lake')
    return openLakeDestination(await lakeConfig(profile, destination, options.secrets, organizationId), {
      credential,
    });
  const config = await sqlConfig(profile, destination, options.secrets, options.policy, organizationId);
  return createDestination(config, { credential });
}

/** Asks once; a failed answer is not kept, so the next caller asks again. */
function rememberedOrganizationId(source: DataverseClient): () => Promise<string> {
  let answer: Promise<string> | undefined;
  return () => {
    answer ??= source.organizationId().catch((error: unknown) => {
      answer = undefined;
      throw error;
    });
    return answer;
  };
}

export function createProfileRuntimes(options: RuntimeOptions): ProfileRuntimes {
  const built = new Map<string, { etag: string; runtime: Promise<ProfileRuntime> }>();

  async function sourceFor(profile: ExportProfile, retry?: Partial<RetryPolicy>): Promise<DataverseClient> {
    // Before anything is resolved or contacted: hosts, secret references and folders the policy refuses stop here.
    assertProfileAllowed(options.policy, profile);
    return new DataverseClient({
      baseUrl: profile.source.environmentUrl,
      token: tokenSourceFor(await sourceAuth(profile, options.secrets), profile.source.environmentUrl),
      ...(retry ? { retry } : {}),
    });
  }

  async function build(profile: ExportProfile): Promise<ProfileRuntime> {
    const source = await sourceFor(profile);
    const organizationId = rememberedOrganizationId(source);
    const destination = await openDestination(profile, options, organizationId);
    return { profile, source, destination, organizationId };
  }

  const close = async (entry: { runtime: Promise<ProfileRuntime> } | undefined) => {
    const runtime = await entry?.runtime.catch(() => undefined);
    await runtime?.destination.close();
  };

  return {
    sourceFor,
    async get(name) {
      const stored = await options.profiles.get(name);
      if (!stored) {
        throw new ExportError('config', `There is no export profile named '${name}'`, {
          where: name,
          fix: 'Create it with PUT /api/profiles/{name}.',
        });
      }
      const known = built.get(name);
      if (known?.etag === stored.etag) return known.runtime;
      // Checked and replaced with nothing awaited in between, so calls at the same time share one build; and built
      // only once the old runtime is closed, as an embedded database must not be open twice.
      const runtime = close(known).then(() => build(stored.value));
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
