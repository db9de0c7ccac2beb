/**
 * Which identity each credential description signs in as. Managed identity credentials fetch their token from a
 * loopback App Service identity endpoint, as they would in Azure.
 */
import { ClientSecretCredential, DefaultAzureCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { createCredential, lazyAppCredential } from '../../shared/storage/credentials';
import { useIdentityEndpoint } from '../support/identity-endpoint';

const identity = useIdentityEndpoint();
const CLIENT_ID = '6f0b3c9e-1111-4a2b-9c3d-000000000002';
const SCOPE = 'https://storage.azure.com/.default';

describe('credential factory', () => {
  it("the app's identity: the user-assigned identity when a client id is set", async () => {
    const token = await createCredential({ kind: 'app', clientId: CLIENT_ID }).getToken(SCOPE);
    expect(token?.token).toBe(identity.tokenFor(CLIENT_ID));
    expect(identity.requests.at(-1)).toEqual({ resource: 'https://storage.azure.com', clientId: CLIENT_ID });
  });

  it("the app's identity without a client id: DefaultAzureCredential", () => {
    expect(createCredential({ kind: 'app' })).toBeInstanceOf(DefaultAzureCredential);
    expect(createCredential({ kind: 'app', clientId: '' })).toBeInstanceOf(DefaultAzureCredential);
  });

  it('a managed identity: user-assigned with a client id, else the system-assigned one', async () => {
    expect((await createCredential({ kind: 'managed-identity', clientId: CLIENT_ID }).getToken(SCOPE))?.token).toBe(
      identity.tokenFor(CLIENT_ID),
    );
    expect((await createCredential({ kind: 'managed-identity' }).getToken(SCOPE))?.token).toBe(
      identity.tokenFor(undefined),
    );
  });

  it('DefaultAzureCredential, its managed identity step pinned to a client id', async () => {
    const pinned = createCredential({ kind: 'default', managedIdentityClientId: CLIENT_ID });
    expect(pinned).toBeInstanceOf(DefaultAzureCredential);
    expect((await pinned.getToken(SCOPE))?.token).toBe(identity.tokenFor(CLIENT_ID));
  });

  it('an app registration with a client secret', () => {
    expect(
      createCredential({
        kind: 'client-secret',
        tenantId: 'contoso.onmicrosoft.com',
        clientId: CLIENT_ID,
        clientSecret: 's',
      }),
    ).toBeInstanceOf(ClientSecretCredential);
  });

  it("builds the app's credential once, on first use", () => {
    const credential = lazyAppCredential(CLIENT_ID);
    expect(credential()).toBe(credential());
  });
});
