/**
 * Reads one Key Vault secret by its identifier (`https://<vault>/secrets/<name>[/<version>]`) with the app's
 * identity, failures turned into config ExportErrors a person can act on.
 */
import type { TokenCredential } from '@azure/identity';
import { SecretClient, parseKeyVaultSecretIdentifier, type SecretClientOptions } from '@azure/keyvault-secrets';
import { ExportError } from '../errors';

export interface KeyVaultSecret {
  value: string;
  tags: Record<string, string>;
}

/**
 * `what` names the secret's use in messages; `credential` is built only when a vault is actually read. `clientOptions`
 * serve a loopback vault in tests, whose 127.0.0.1 host cannot pass the sign-in challenge's domain check.
 */
export async function readKeyVaultSecret(
  secretUri: string,
  what: string,
  credential: () => TokenCredential,
  clientOptions?: SecretClientOptions,
): Promise<KeyVaultSecret> {
  const { vaultUrl, name, version } = parseKeyVaultSecretIdentifier(secretUri);
  let secret;
  try {
    secret = await new SecretClient(vaultUrl, credential(), clientOptions).getSecret(name, version ? { version } : {});
  } catch (error) {
    throw new ExportError('config', `Could not read the ${what} secret '${name}' from Key Vault`, {
      cause: error,
      where: `${vaultUrl}/secrets/${name}`,
      fix: "Grant the function app's identity 'Key Vault Secrets User' on the vault and check the secret URI.",
    });
  }
  if (!secret.value) {
    throw new ExportError('config', `The Key Vault secret '${name}' (${what}) is empty`, {
      where: `${vaultUrl}/secrets/${name}`,
    });
  }
  return { value: secret.value, tags: secret.properties.tags ?? {} };
}
