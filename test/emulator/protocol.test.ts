/**
 * The emulator's wire behaviour, checked with plain fetch against docs/reference/dataverse-protocol.md:
 * headers, paging cookies, tokens, tracking restrictions, row shapes, metadata casts, writes, errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { sampleRowId } from '../../local/sample-org';

const TOKEN = 'emulator-test';
const SEED = 3;
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ seed: SEED, accounts: 3_400, token: TOKEN });
});
afterAll(() => emulator.close());

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { value?: Array<Record<string, unknown>>; error?: { code: string; message: string } };
}

async function call(
  path: string,
  init: {
    method?: string;
    prefer?: string;
    body?: unknown;
    token?: string | null;
    headers?: Record<string, string>;
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...init.headers };
  if (init.token !== null) headers.Authorization = `Bearer ${init.token ?? TOKEN}`;
  if (init.prefer) headers.Prefer = init.prefer;
  const url = path.startsWith('http') ? path : `${emulator.baseUrl}${path}`;
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? {} : (JSON.parse(text) as Reply['body']),
  };
}

const TRACK = 'odata.track-changes,odata.maxpagesize=2';

describe('authentication', () => {
  it('requires a bearer token and answers 401 with WWW-Authenticate otherwise', async () => {
    const missing = await call('accounts', { token: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer authorization_uri=/);
    expect((await call('accounts', { token: 'other' })).status).toBe(401);
  });
});

describe('change-tracked entity-set reads', () => {
  it('applies the comma-list Prefer header and reports it in Preference-Applied', async () => {
    const reply = await call('accounts?$select=name', { prefer: `${TRACK},odata.include-annotations="*"` });
    expect(reply.headers.get('preference-applied')).toBe(
      'odata.track-changes,odata.maxpagesize=2,odata.include-annotations="*"',
    );
    expect(reply.body.value).toHaveLength(2);
    expect(reply.body['@odata.context']).toBe(`${emulator.baseUrl}$metadata#accounts(name)`);
  });

  it('caps maxpagesize at 5000', async () => {
    const reply = await call('contacts?$select=fullname', { prefer: 'odata.track-changes,odata.maxpagesize=9000' });
    expect(reply.body.value).toHaveLength(5000);
    expect(reply.headers.get('preference-applied')).toBe('odata.track-changes,odata.maxpagesize=5000');
  });

  it('pages with a Dataverse-shaped $skiptoken cookie and puts the deltaLink on the last page only', async () => {
    const first = await call('roles?$select=name', { prefer: 'odata.track-changes,odata.maxpagesize=5' });
    const nextLink = String(first.body['@odata.nextLink']);
    expect(first.body['@odata.deltaLink']).toBeUndefined();
    const skipToken = new URL(nextLink).searchParams.get('$skiptoken') ?? '';
    expect(skipToken).toMatch(
      /^<cookie pagenumber="2" pagingcookie="%3ccookie%20page%3d%221%22.*%3croleid%20last%3d%22%7b[0-9A-F-]{36}%7d%22%20first%3d%22%7b[0-9A-F-]{36}%7d%22.*" istracking="True" \/>$/,
    );
    const pages = [first];
    while (pages.at(-1)?.body['@odata.nextLink'])
      pages.push(
        await call(String(pages.at(-1)?.body['@odata.nextLink']), {
          prefer: 'odata.track-changes,odata.maxpagesize=5',
        }),
      );
    expect(pages.map((page) => page.body.value?.length)).toEqual([5, 5, 2]);
    const deltaLink = String(pages.at(-1)?.body['@odata.deltaLink']);
    expect(decodeURIComponent(new URL(deltaLink).search)).toMatch(
      /^\?\$select=name&\$deltatoken=\d+!\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/,
    );
    expect(deltaLink).toMatch(/%21\d{2}%2f\d{2}%2f\d{4}%20\d{2}%3a/);
  });

  it('omits tracking artefacts when change tracking is not asked for', async () => {
    const reply = await call('roles?$select=name', { prefer: 'odata.maxpagesize=100' });
    expect(reply.headers.get('preference-applied')).toBe('odata.maxpagesize=100');
    expect(reply.body['@odata.deltaLink']).toBeUndefined();
    const paged = await call('roles?$select=name', { prefer: 'odata.maxpagesize=5' });
    expect(new URL(String(paged.body['@odata.nextLink'])).searchParams.get('$skiptoken')).toContain(
      'istracking="False"',
    );
  });

  it.each(["$filter=name eq 'x'", '$orderby=name', '$expand=primarycontactid', '$top=5'])(
    'refuses %s while tracking changes',
    async (option) => {
      const reply = await call(`accounts?$select=name&${option}`, { prefer: TRACK });
      const name = option.slice(0, option.indexOf('='));
      expect(reply.status).toBe(400);
      expect(reply.body.error?.message).toBe(
        `The "${name}" query parameter isn't supported when Change Tracking is enabled.`,
      );
    },
  );

  it('writes rows as the Web API does: etag = versionnumber, lookups as _x_value, money brings its currency', async () => {
    const reply = await call('accounts?$select=name,revenue,versionnumber,_parentaccountid_value', {
      prefer: 'odata.maxpagesize=3,odata.include-annotations="*"',
    });
    const [first, second] = reply.body.value ?? [];
    expect(first?.['@odata.etag']).toBe(`W/"${first?.versionnumber as number}"`);
    expect(first?._transactioncurrencyid_value).toMatch(/^[0-9a-f-]{36}$/);
    expect(second?.['_parentaccountid_value@Microsoft.Dynamics.CRM.lookuplogicalname']).toBe('account');
    expect(Object.keys(first ?? {}).sort()).toEqual(
      [
        '@odata.etag',
        'accountid',
        'name',
        'revenue',
        'versionnumber',
        '_parentaccountid_value',
        '_transactioncurrencyid_value',
        '_transactioncurrencyid_value@Microsoft.Dynamics.CRM.associatednavigationproperty',
        '_transactioncurrencyid_value@Microsoft.Dynamics.CRM.lookuplogicalname',
      ].sort(),
    );
  });

  it('rejects unknown $select properties like Dataverse', async () => {
    const reply = await call('accounts?$select=nosuchcolumn');
    expect(reply.status).toBe(400);
    expect(reply.body.error?.message).toBe(
      "Could not find a property named 'nosuchcolumn' on type 'Microsoft.Dynamics.CRM.account'.",
    );
  });
});

describe('metadata', () => {
  it('limits $select without a cast segment to base AttributeMetadata properties', async () => {
    const reply = await call("EntityDefinitions(LogicalName='account')/Attributes?$select=LogicalName,MaxLength");
    expect(reply.status).toBe(400);
    expect(reply.body.error?.message).toBe(
      "Could not find a property named 'MaxLength' on type 'Microsoft.Dynamics.CRM.AttributeMetadata'.",
    );
    const cast = await call(
      "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata?$select=LogicalName,MaxLength",
    );
    expect(cast.body.value?.find((attribute) => attribute.LogicalName === 'name')).toMatchObject({
      '@odata.type': '#Microsoft.Dynamics.CRM.StringAttributeMetadata',
      MaxLength: 160,
    });
  });

  it('expands status option sets with each option’s State, labels in two languages', async () => {
    const reply = await call(
      "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$select=LogicalName&$expand=OptionSet",
    );
    const options = (reply.body.value?.[0]?.OptionSet as { Options: Array<Record<string, unknown>> }).Options;
    expect(options[1]).toMatchObject({
      '@odata.type': '#Microsoft.Dynamics.CRM.StatusOptionMetadata',
      Value: 2,
      State: 1,
    });
    expect((options[1]?.Label as { LocalizedLabels: unknown[] }).LocalizedLabels).toHaveLength(2);
  });

  it('serves global option sets by name and intersect tables as IsIntersect', async () => {
    const global = await call("GlobalOptionSetDefinitions(Name='sample_industry')");
    expect(global.body).toMatchObject({ Name: 'sample_industry', IsGlobal: true, OptionSetType: 'Picklist' });
    const intersect = await call(
      "EntityDefinitions(LogicalName='systemuserroles')?$select=EntitySetName,IsIntersect,PrimaryIdAttribute",
    );
    expect(intersect.body).toMatchObject({
      EntitySetName: 'systemuserrolescollection',
      IsIntersect: true,
      PrimaryIdAttribute: 'systemuserroleid',
    });
    const relationships = await call(
      "EntityDefinitions(LogicalName='role')/ManyToManyRelationships?$select=SchemaName,IntersectEntityName",
    );
    expect(relationships.body.value).toEqual([
      expect.objectContaining({ SchemaName: 'systemuserroles_association', IntersectEntityName: 'systemuserroles' }),
    ]);
  });

  it('filters EntityDefinitions by LogicalName', async () => {
    const reply = await call(
      "EntityDefinitions?$select=LogicalName&$filter=LogicalName eq 'role' or LogicalName eq 'contact'",
    );
    expect(reply.body.value?.map((entity) => entity.LogicalName)).toEqual(['role', 'contact']);
  });
});

describe('writes', () => {
  it('creates, refuses a duplicate id, updates via PATCH and upserts a missing id', async () => {
    const id = '0d9d5b8e-4a63-4c55-9a55-1b1f2d1e0a01';
    expect(
      (
        await call('contacts', {
          method: 'POST',
          body: {
            contactid: id,
            firstname: 'Ada',
            'parentcustomerid_account@odata.bind': `/accounts(${sampleRowId(SEED, 'account', 1)})`,
          },
        })
      ).status,
    ).toBe(204);
    const duplicate = await call('contacts', { method: 'POST', body: { contactid: id } });
    expect(duplicate.status).toBe(412);
    expect((await call(`contacts(${id})`, { method: 'PATCH', body: { lastname: 'Lovelace' } })).status).toBe(204);
    const row = await call(`contacts(${id})?$select=firstname,lastname,_parentcustomerid_value`, {
      prefer: 'odata.include-annotations="*"',
    });
    expect(row.body).toMatchObject({
      firstname: 'Ada',
      lastname: 'Lovelace',
      '_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'account',
    });
    const upserted = '0d9d5b8e-4a63-4c55-9a55-1b1f2d1e0a02';
    expect((await call(`contacts(${upserted})`, { method: 'PATCH', body: { firstname: 'New' } })).status).toBe(204);
    expect((await call(`contacts(${upserted})`)).body.firstname).toBe('New');
  });

  it('deletes, answers 404 with the documented body afterwards, and recreates the same id with a higher version', async () => {
    const id = sampleRowId(SEED, 'account', 77);
    const before = await call(`accounts(${id})?$select=versionnumber`);
    expect((await call(`accounts(${id})`, { method: 'DELETE' })).status).toBe(204);
    const gone = await call(`accounts(${id})`);
    expect(gone.status).toBe(404);
    expect(gone.body.error).toEqual({ code: '0x80040217', message: `Entity 'account' With Id = ${id} Does Not Exist` });
    expect((await call(`accounts(${id})`, { method: 'DELETE' })).status).toBe(404);
    expect((await call('accounts', { method: 'POST', body: { accountid: id, name: 'Again' } })).status).toBe(204);
    const after = await call(`accounts(${id})?$select=versionnumber,name`);
    expect(after.body.name).toBe('Again');
    expect(Number(after.body.versionnumber)).toBeGreaterThan(Number(before.body.versionnumber));
  });

  it('refuses unknown properties in a write', async () => {
    const reply = await call('accounts', { method: 'POST', body: { nosuch: 1 } });
    expect(reply.status).toBe(400);
    expect(reply.body.error?.message).toContain("'nosuch'");
  });
});

describe('scope: answered as Dataverse does or refused as not implemented', () => {
  const NOT_IMPLEMENTED = { code: '0x80040203', message: expect.stringContaining('emulator does not implement') };

  it('treats If-None-Match: null, which clients send on every request, as no condition', async () => {
    const id = sampleRowId(SEED, 'account', 90);
    const none = { 'If-None-Match': 'null' };
    expect((await call(`accounts(${id})?$select=name`, { headers: none })).status).toBe(200);
    expect((await call('roles?$select=name', { headers: none })).status).toBe(200);
    expect(
      (await call(`accounts(${id})`, { method: 'PATCH', body: { name: 'Unconditional' }, headers: none })).status,
    ).toBe(204);
  });

  it('returns a represented write as 201 when it created the row and 200 when it updated it, with the $select columns', async () => {
    const id = '0d9d5b8e-4a63-4c55-9a55-1b1f2d1e0a03';
    const created = await call(`accounts(${id})?$select=name`, {
      method: 'PATCH',
      body: { name: 'Made' },
      prefer: 'return=representation',
    });
    expect(created.status).toBe(201);
    const updated = await call(`accounts(${id})?$select=name`, {
      method: 'PATCH',
      body: { name: 'Changed' },
      prefer: 'return=representation',
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'Changed', accountid: id });
    expect(updated.body.telephone1).toBeUndefined();
  });

  it('refuses conditional headers where it does not evaluate them', async () => {
    expect(
      (await call('accounts', { method: 'POST', body: { name: 'x' }, headers: { 'If-Match': '*' } })).body.error,
    ).toMatchObject(NOT_IMPLEMENTED);
    expect((await call('roles?$select=name', { headers: { 'If-None-Match': 'W/"1"' } })).status).toBe(501);
    expect(
      (await call("EntityDefinitions(LogicalName='account')?$select=LogicalName", { headers: { 'If-Match': '*' } }))
        .status,
    ).toBe(501);
  });

  it('answers an unknown entity set 404 as Dataverse does, and refuses what exists in Dataverse but not here', async () => {
    expect((await call('nosuchentities')).body.error).toMatchObject({ code: '0x8006088a' });
    for (const path of [
      "accounts(accountnumber='A-1')",
      '$metadata',
      '',
      'EntityDefinitions?$select=LogicalName&$top=1',
    ]) {
      const reply = await call(path);
      expect(reply.status, path).toBe(501);
      expect(reply.body.error, path).toMatchObject(NOT_IMPLEMENTED);
    }
  });

  it('validates $top and $count, and refuses the combinations it does not page', async () => {
    expect((await call('accounts?$select=name&$top=-1')).status).toBe(400);
    expect((await call('accounts?$select=name&$count=yes')).status).toBe(400);
    expect((await call('accounts?$select=name&$top=10', { prefer: 'odata.maxpagesize=5' })).status).toBe(501);
    expect((await call('accounts?$select=name&$count=true', { prefer: TRACK })).status).toBe(501);
    const counted = await call('contacts?$select=fullname&$count=true', { prefer: 'odata.maxpagesize=2' });
    expect(emulator.store.count('contact')).toBeGreaterThan(5000);
    expect(new URL(String(counted.body['@odata.nextLink'])).searchParams.get('$count')).toBe('true');
    expect(counted.body['@odata.count']).toBe(5000);
  });
});
