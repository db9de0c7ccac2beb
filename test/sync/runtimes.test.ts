import { describe, expect, it } from 'vitest';
import { createFunctionDeps } from '../../functions/deps';
import { validateProfile } from '../../shared/profile/profile';
import { createProfileRuntimes, defaultCredential } from '../../shared/sync/wiring/runtime';
import { securityPolicy } from '../../shared/security/policy';
import { createSecretResolver } from '../../shared/sync/wiring/secrets';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();

describe('profile runtimes', () => {
  it('builds one runtime for calls at the same time, and a new one (after closing the old) when the profile changes', async () => {
    const env = {
      AzureWebJobsStorage: azurite.connectionString,
      DVX_SECRET_DV_TOKEN: 'runtime-test-token',
      DVX_LOCAL_MODE: '1',
    };
    const { sync } = createFunctionDeps(env, () => {
      throw new Error('no orchestrations here');
    });
    const put = async (schema: string) => {
      const profile = validateProfile({
        name: 'runtimes',
        source: {
          environmentUrl: 'https://contoso.crm.dynamics.com/api/data/v9.2/',
          auth: { kind: 'static-token', token: { appSetting: 'DVX_SECRET_DV_TOKEN' } },
        },
        tables: ['account'],
        destination: { kind: 'sql', dialect: 'pglite', schema },
        retryCount: 0,
        retryIntervalSeconds: 0,
      });
      if (!profile.ok) throw new Error(JSON.stringify(profile.problems));
      await sync.profiles.put('runtimes', profile.profile);
    };
    // The profile store answers every caller at the same moment: the callers then race for the cache.
    let open = () => undefined as void;
    let gate = new Promise<void>((resolve) => (open = resolve));
    const runtimes = createProfileRuntimes({
      profiles: {
        ...sync.profiles,
        get: async (name) => Promise.all([sync.profiles.get(name), gate]).then(([stored]) => stored),
      },
      secrets: createSecretResolver(env, defaultCredential(undefined)),
      credential: defaultCredential(undefined),
      policy: securityPolicy(env),
    });
    const together = async (calls: number) => {
      gate = new Promise<void>((resolve) => (open = resolve));
      const all = Promise.all(Array.from({ length: calls }, () => runtimes.get('runtimes')));
      await new Promise((resolve) => setTimeout(resolve, 200));
      open();
      return all;
    };
    try {
      await put('first');
      const first = await together(5);
      expect(new Set(first).size).toBe(1);
      await put('second');
      const second = await together(3);
      expect(new Set(second).size).toBe(1);
      expect(second[0]).not.toBe(first[0]);
      expect(second[0]?.profile.destination).toMatchObject({ schema: 'second' });
    } finally {
      await runtimes.closeAll();
    }
  });
});
