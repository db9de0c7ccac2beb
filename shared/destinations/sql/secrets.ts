/** Connection strings kept in Key Vault: read at startup with the function app's identity, never logged. */
import type { TokenCredential } from '@azure/identity';
import { SecretClient, parseKeyVaultSecretIdentifier } from '@azure/keyvault-secrets';
import { ExportError } from '../../errors';

function parseSecretUri(secretUri: string): ReturnType<typeof parseKeyVaultSecretIdentifier> {
  try {
    return parseKeyVaultSecretIdentifier(secretUri);
  } catch (error) {
    throw new ExportError('config', 'The connection secret reference is not a Key Vault secret URI.', {
      cause: error,
      where: 'destination.connection.keyVaultSecretUri',
      fix: 'Use https://<vault>.vault.azure.net/secrets/<name>[/<version>].',
    });
  }
}

export async function readConnectionSecret(secretUri: string, credential: TokenCredential): Promise<string> {
  const { vaultUrl, name, version } = parseSecretUri(secretUri);
  let value: string | undefined;
  try {
    value = (await new SecretClient(vaultUrl, credential).getSecret(name, { version })).value;
  } catch (error) {
    throw new ExportError('config', `Could not read the connection secret '${name}' from Key Vault.`, {
      cause: error,
      where: `${vaultUrl}/secrets/${name}`,
      fix: "Grant the function app's identity 'Key Vault Secrets User' on the vault and check the secret URI.",
    });
  }
  if (!value) {
    throw new ExportError('config', `The Key Vault secret '${name}' is empty.`, {
      where: `${vaultUrl}/secrets/${name}`,
      fix: 'Store the destination connection string as the secret value.',
    });
  }
  return value;
}
