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

/**
 * Like DES: a destination secret in Key Vault must carry a tag allowing this Dataverse environment, so a
 * connection string cannot be used by an org its owner did not name. The tag's name lists environment host
 * names (comma separated, e.g. `contoso.crm.dynamics.com`); its value is free (DES put the tenant id there).
 */
export function assertSecretAllowsEnvironment(secret: ResolvedSecret, environmentUrl: string, secretUri: string): void {
  const host = new URL(environmentUrl).hostname.toLowerCase();
  const allowed = Object.keys(secret.tags).some((tag) =>
    tag
      .split(',')
      .map((part) => part.trim().toLowerCase())
      .includes(host),
  );
  if (!allowed) {
    throw new ExportError('config', `The destination secret does not allow the Dataverse environment ${host}`, {
      where: secretUri,
      fix: `Add a tag named '${host}' to the Key Vault secret (several environments: one tag whose name lists them, comma separated).`,
    });
  }
}
