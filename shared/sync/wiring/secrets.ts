/**
 * Resolves a profile's secret references. Key Vault secrets are read with the app's identity; app-setting
 * secrets come from the environment (local runs). Every value is registered with the redactor as soon as it
 * is known, so it can appear in no log line, error or response afterwards.
 */
import type { TokenCredential } from '@azure/identity';
import { ExportError } from '../../errors';
import type { SecretReference } from '../../profile/profile';
import { SECRET_SETTING_PREFIX } from '../../security/policy';
import { readKeyVaultSecret } from '../../storage/key-vault';
import { redactor } from '../../telemetry/redaction';

export interface ResolvedSecret {
  value: string;
  /** Key Vault tags; empty for app settings. */
  tags: Record<string, string>;
}

export interface SecretResolver {
  resolve(reference: SecretReference, what: string): Promise<ResolvedSecret>;
}

export function createSecretResolver(
  env: Record<string, string | undefined>,
  credential: () => TokenCredential,
): SecretResolver {
  return {
    async resolve(reference, what) {
      if ('appSetting' in reference) {
        // Checked here as well as in the profile schema: this is where a setting is read, whoever asks.
        if (!reference.appSetting.startsWith(SECRET_SETTING_PREFIX)) {
          throw new ExportError(
            'config',
            `The ${what} refers to app setting '${reference.appSetting}', which a profile may not name`,
            {
              where: reference.appSetting,
              fix: `Put the secret in an app setting whose name starts with ${SECRET_SETTING_PREFIX}, or in Key Vault.`,
            },
          );
        }
        const value = env[reference.appSetting];
        if (!value) {
          throw new ExportError(
            'config',
            `The ${what} refers to app setting '${reference.appSetting}', which is not set`,
            {
              where: reference.appSetting,
              fix: `Set ${reference.appSetting} in local.settings.json or the app settings, or refer to a Key Vault secret instead.`,
            },
          );
        }
        redactor.register(value);
        return { value, tags: {} };
      }
      const secret = await readKeyVaultSecret(reference.keyVaultSecretUri, what, credential);
      redactor.register(secret.value);
      return secret;
    },
  };
}

/** The Dataverse environment a secret is used for: its URL, and its organization and tenant ids when known. */
export interface SecretEnvironment {
  environmentUrl: string;
  /** `OrganizationId` as WhoAmI returns it; undefined when not known where the secret is checked. */
  organizationId?: string;
  /** The Entra ID tenant the environment belongs to. */
  tenantId?: string;
}

const tagParts = (tag: string): string[] => tag.split(',').map((part) => part.trim().toLowerCase());

/**
 * Like DES: a secret in Key Vault must carry a tag allowing this Dataverse environment, so a connection string
 * cannot be used by an org its owner did not name. Two formats are accepted:
 * - this product's: the tag's name lists environment host names (comma separated, e.g. `contoso.crm.dynamics.com`);
 *   its value is free;
 * - DES's: the tag's name lists organization ids and its value is the tenant id (DES's setup script tagged the
 *   secret `@{$organizationIdList=$tenantId}`: learn.microsoft.com/power-apps/developer/data-platform/data-export-service).
 *   It is accepted only when both the organization id and the tenant id are known here and both match; an org
 *   id alone would let any tenant's org with a guessed id through, and an unknown org id matches nothing.
 */
export function assertSecretAllowsEnvironment(
  secret: ResolvedSecret,
  environment: string | SecretEnvironment,
  secretUri: string,
): void {
  const { environmentUrl, organizationId, tenantId } =
    typeof environment === 'string' ? { environmentUrl: environment } : environment;
  const host = new URL(environmentUrl).hostname.toLowerCase();
  const org = organizationId?.toLowerCase();
  const tenant = tenantId?.trim().toLowerCase();
  const allowed = Object.entries(secret.tags).some(([tag, value]) => {
    const parts = tagParts(tag);
    if (parts.includes(host)) return true;
    return org !== undefined && tenant !== undefined && parts.includes(org) && value.trim().toLowerCase() === tenant;
  });
  if (!allowed) {
    const desFormat =
      org !== undefined && tenant !== undefined
        ? ` or, as DES did, a tag named '${org}' (the organization id) whose value is '${tenant}' (the tenant id)`
        : '';
    throw new ExportError('config', `The destination secret does not allow the Dataverse environment ${host}`, {
      where: secretUri,
      fix: `Add a tag named '${host}' to the Key Vault secret${desFormat} (several environments: one tag whose name lists them, comma separated).`,
    });
  }
}
