/** The Key Vault tag a secret needs before a profile may use it: this product's host format and DES's org-id format. */
import { describe, expect, it } from 'vitest';
import { assertSecretAllowsEnvironment, type ResolvedSecret } from '../../shared/sync/wiring/secrets';

const URL = 'https://contoso.crm4.dynamics.com/';
const ORG = '6a0b6d8e-1f1c-4c1e-9d35-0a8f3b0f6a11';
const TENANT = 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b';
const SECRET_URI = 'https://vault.vault.azure.net/secrets/sql-contoso';
const environment = { environmentUrl: URL, organizationId: ORG, tenantId: TENANT };
const tagged = (tags: Record<string, string>): ResolvedSecret => ({ value: 'Server=x', tags });

describe('Key Vault secret tags', () => {
  it("accepts this product's format: a tag named after the environment host, alone or in a list", () => {
    expect(() =>
      assertSecretAllowsEnvironment(tagged({ 'contoso.crm4.dynamics.com': '' }), URL, SECRET_URI),
    ).not.toThrow();
    const listed = tagged({ 'fabrikam.crm.dynamics.com, CONTOSO.crm4.dynamics.com': TENANT });
    expect(() => assertSecretAllowsEnvironment(listed, environment, SECRET_URI)).not.toThrow();
  });

  it("accepts DES's format: a tag named after the organization id (or a list of them) whose value is the tenant id", () => {
    expect(() => assertSecretAllowsEnvironment(tagged({ [ORG]: TENANT }), environment, SECRET_URI)).not.toThrow();
    const listed = tagged({ [`00000000-0000-0000-0000-000000000001,${ORG.toUpperCase()}`]: TENANT.toUpperCase() });
    expect(() => assertSecretAllowsEnvironment(listed, environment, SECRET_URI)).not.toThrow();
  });

  it('refuses another org, another tenant, or an org-id tag when the org id is not known, saying which tag to add', () => {
    const refusals = [
      [tagged({ '00000000-0000-0000-0000-000000000001': TENANT }), environment],
      [tagged({ [ORG]: '00000000-0000-0000-0000-000000000002' }), environment],
      [tagged({ [ORG]: '' }), environment],
      [tagged({ [ORG]: TENANT }), { environmentUrl: URL, tenantId: TENANT }],
      [tagged({ [ORG]: TENANT }), { environmentUrl: URL, organizationId: ORG }],
      [tagged({ 'fabrikam.crm.dynamics.com': TENANT }), environment],
    ] as const;
    for (const [secret, where] of refusals) {
      expect(() => assertSecretAllowsEnvironment(secret, where, SECRET_URI)).toThrow(
        expect.objectContaining({
          errorClass: 'config',
          where: SECRET_URI,
          fix: expect.stringContaining("Add a tag named 'contoso.crm4.dynamics.com'"),
        }),
      );
    }
    expect(() => assertSecretAllowsEnvironment(tagged({}), environment, SECRET_URI)).toThrow(
      expect.objectContaining({
        fix: expect.stringContaining(`a tag named '${ORG}' (the organization id) whose value is '${TENANT}'`),
      }),
    );
  });
});
