import { describe, expect, it } from 'vitest';
import { functionTable } from '../../functions/table';
import { sampleProfile, TEST_KEY, useProduct } from '../support/pipeline';

const product = useProduct();

interface ProblemsBody {
  error: { message: string; problems: Array<{ field: string; reason: string }> };
}

const problemsOf = (body: unknown) => (body as ProblemsBody).error.problems;

describe('bad input on the HTTP API', () => {
  it.each([
    ['upper case and underscore', 'Bad_Name'],
    ['too short', 'ab'],
    ['starting with a digit', '1sales'],
    ['ending with a hyphen', 'sales-'],
    ['SQL injection', "x';drop table profiles;--"],
    ['path traversal', '..%2F..%2Fsecrets'],
    ['too long', `p${'a'.repeat(40)}`],
  ])('refuses a profile name that is %s with 400 naming the field, and stores nothing', async (_case, name) => {
    const p = product();
    const put = await p.call('PUT', `profiles/${encodeURIComponent(name)}`, sampleProfile(p));
    expect(put.status).toBe(400);
    expect(problemsOf(put.body)).toEqual([
      { field: 'name', reason: expect.stringContaining('lower-case letters, digits and hyphens') },
    ]);
    expect((await p.call('GET', 'profiles')).body).toMatchObject({ profiles: [] });
  });

  it.each([
    ['retryCount above 20', { retryCount: 21 }, 'retryCount', /<=20/],
    ['retryCount below 0', { retryCount: -1 }, 'retryCount', />=0/],
    ['retryCount not an integer', { retryCount: 2.5 }, 'retryCount', /expected int/],
    ['retryIntervalSeconds above 3600', { retryIntervalSeconds: 3601 }, 'retryIntervalSeconds', /<=3600/],
    ['retryIntervalSeconds as text', { retryIntervalSeconds: '5' }, 'retryIntervalSeconds', /expected number/],
    [
      'an injected schema',
      { destination: { kind: 'sql', dialect: 'pglite', schema: 'dbo; DROP TABLE account;--' } },
      'destination.schema',
      /alphanumeric/,
    ],
    [
      'a quoted schema',
      { destination: { kind: 'sql', dialect: 'pglite', schema: 'dbo"."x' } },
      'destination.schema',
      /alphanumeric/,
    ],
    [
      'an injected prefix',
      { destination: { kind: 'sql', dialect: 'pglite', prefix: "a'--" } },
      'destination.prefix',
      /alphanumeric/,
    ],
    [
      'a prefix of 15 characters',
      { destination: { kind: 'sql', dialect: 'pglite', prefix: 'a'.repeat(15) } },
      'destination.prefix',
      /shorter than 15/,
    ],
    ['an injected table', { tables: ['account', 'contact; DROP TABLE contact'] }, 'tables[1]', /logical name/],
    ['a bracketed table', { tables: ['[account]'] }, 'tables[0]', /logical name/],
    ['an injected relationship', { relationships: ["x') OR 1=1 --"] }, 'relationships[0]', /relationship schema name/],
    ['a different name in the body', { name: 'other' }, 'name', /must be 'guarded' or left out/],
    ['no tables', { tables: [] }, 'tables', /at least one table/],
    ['an unknown field', { retries: 3 }, '(body)', /Unrecognized key: "retries"/],
  ])('refuses %s with 400 naming the field, and stores nothing', async (_case, overrides, field, reason) => {
    const p = product();
    const put = await p.call('PUT', 'profiles/guarded', sampleProfile(p, overrides));
    expect(put.status).toBe(400);
    expect(problemsOf(put.body)).toContainEqual({ field, reason: expect.stringMatching(reason) });
    expect((await p.call('GET', 'profiles/guarded')).status).toBe(404);
  });

  it('refuses a body that is not JSON or not an object', async () => {
    const p = product();
    const notJson = await fetch(`${p.host.baseUrl}/profiles/guarded`, {
      method: 'PUT',
      headers: { 'x-functions-key': TEST_KEY },
      body: '{"tables": [',
    });
    expect(notJson.status).toBe(400);
    expect(problemsOf(await notJson.json())).toEqual([{ field: '(body)', reason: expect.stringContaining('JSON') }]);
    const array = await p.call('PUT', 'profiles/guarded', [sampleProfile(p)]);
    expect(array.status).toBe(400);
    expect(problemsOf(array.body)).toEqual([{ field: '(body)', reason: 'expected an object' }]);
    expect((await p.call('GET', 'profiles/guarded')).status).toBe(404);
  });

  it('refuses a profile naming a table the environment does not have with 400 naming it and the fix, storing nothing', async () => {
    const p = product();
    const put = await p.call(
      'PUT',
      'profiles/unknown',
      sampleProfile(p, { tables: ['account', 'sample_nosuchtable'], relationships: [] }),
    );
    expect(put.status).toBe(400);
    expect(problemsOf(put.body)).toEqual([
      {
        field: 'tables',
        reason: expect.stringMatching(
          /^No table named 'sample_nosuchtable' exists in the environment\. Use the tables’ logical names/,
        ),
      },
    ]);
    expect((await p.call('GET', 'profiles/unknown')).status).toBe(404);
  });

  it('refuses a profile naming an N:N relationship its tables do not have, listing the ones they have', async () => {
    const p = product();
    const put = await p.call(
      'PUT',
      'profiles/norelation',
      sampleProfile(p, { relationships: ['sample_nosuch_association'] }),
    );
    expect(put.status).toBe(400);
    expect(problemsOf(put.body)).toEqual([
      {
        field: 'relationships',
        reason: expect.stringMatching(
          /'sample_nosuch_association' is not a many-to-many .* Use one of: systemuserroles_association\./,
        ),
      },
    ]);
    expect((await p.call('GET', 'profiles/norelation')).status).toBe(404);
  });

  it('refuses a table without change tracking when saving, and checks again at activation what was saved unchecked', async () => {
    const p = product();
    const role = p.emulator.store.metadata().find((table) => table.logicalName === 'role');
    if (!role) throw new Error('the sample org has no role table');
    role.changeTrackingEnabled = false;
    const body = sampleProfile(p, { tables: ['account', 'role'], relationships: [] });
    try {
      const put = await p.call('PUT', 'profiles/untracked', body);
      expect(put.status).toBe(400);
      expect(problemsOf(put.body)).toEqual([
        {
          field: 'tables',
          reason: expect.stringMatching(/^Change tracking is not enabled on: role\. Turn on "Track changes"/),
        },
      ]);
      expect((await p.call('GET', 'profiles/untracked')).status).toBe(404);

      // The environment does not answer (the app is not yet a user of it): saved, with a warning saying so.
      p.emulator.faults.set({ forbidden: true });
      const unchecked = await p.call('PUT', 'profiles/untracked', body);
      p.emulator.faults.set({ forbidden: false });
      expect(unchecked.status).toBe(201);
      expect(unchecked.body).toMatchObject({
        name: 'untracked',
        warning: expect.stringMatching(/^Saved without checking the tables: the Dataverse environment did not answer/),
      });

      const activated = await p.call('POST', 'profiles/untracked/activate');
      expect(activated.status).toBe(400);
      expect(activated.body).toMatchObject({
        error: {
          errorClass: 'config',
          message: 'Change tracking is not enabled on: role',
          where: 'tables',
          fix: expect.stringContaining('Track changes'),
        },
      });
      expect((await p.call('GET', 'profiles/untracked/status')).body).toMatchObject({
        state: 'never activated',
        initialSync: null,
      });
    } finally {
      role.changeTrackingEnabled = true;
      p.emulator.faults.set({ forbidden: false });
    }
  });

  it('saves a profile whose tables the environment has without a warning', async () => {
    const p = product();
    const put = await p.call('PUT', 'profiles/checked', sampleProfile(p));
    expect(put.status).toBe(201);
    expect(put.body).not.toHaveProperty('warning');
  });

  // The console's files are the one anonymous function: they hold no data (test/console/assets.test.ts).
  const routes = functionTable.flatMap((definition) =>
    definition.kind === 'http' && definition.authLevel !== 'anonymous'
      ? definition.methods.map((method) => ({ name: definition.name, method, route: definition.route }))
      : [],
  );
  const validValues: Record<string, string> = {
    name: 'sales',
    table: 'account',
    '*key': 'failurelog/sales/account/x.json',
  };
  const pathOf = (route: string) =>
    route.replace(/\{([^}]+)\}/g, (_match, parameter: string) => validValues[parameter] ?? `unknown-${parameter}`);

  it('answers 401 to a missing or wrong function key on every HTTP function', async () => {
    const p = product();
    const anonymous = functionTable.filter((d) => d.kind === 'http' && d.authLevel === 'anonymous');
    expect(anonymous.map((definition) => definition.name)).toEqual(['adminConsole']);
    expect(routes.length).toBeGreaterThanOrEqual(12);
    const profilesBefore = (await p.call('GET', 'profiles')).body;
    for (const { name, method, route } of routes) {
      const url = `${p.host.baseUrl}/${pathOf(route)}`;
      const answers = [
        await fetch(url, { method }),
        await fetch(url, { method, headers: { 'x-functions-key': 'not-the-key' } }),
        await fetch(`${url}?code=not-the-key`, { method }),
        await fetch(url, { method, headers: { 'x-functions-key': '' } }),
      ];
      expect(
        answers.map((answer) => answer.status),
        `${name}: ${method} ${route}`,
      ).toEqual([401, 401, 401, 401]);
    }
    // Not even a PUT or DELETE without the key changed anything.
    expect((await p.call('GET', 'profiles')).body).toEqual(profilesBefore);
  });
});
