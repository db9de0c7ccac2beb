/**
 * The emulator driven by a Dataverse client nobody here wrote (`dynamics-web-api`): each typical call is
 * either answered as Dataverse answers it or refused with Dataverse's error shape, never silently wrong.
 * Conditional requests follow learn.microsoft.com/power-apps/developer/data-platform/webapi/perform-conditional-operations-using-web-api;
 * query options follow .../webapi/query-data-web-api and .../webapi/query/count-rows.
 */
import { DynamicsWebApi } from 'dynamics-web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { sampleRowId } from '../../local/sample-org';

const TOKEN = 'emulator-real-client';
const SEED = 6;
const ACCOUNTS = 40;
let emulator: Emulator;
let api: DynamicsWebApi;

beforeAll(async () => {
  emulator = await startEmulator({ seed: SEED, accounts: ACCOUNTS, token: TOKEN });
  // propagateErrors: the client otherwise turns some 412/404 answers into false/null.
  api = new DynamicsWebApi({
    serverUrl: new URL(emulator.baseUrl).origin,
    dataApi: { version: '9.2' },
    onTokenRefresh: async () => TOKEN,
    propagateErrors: true,
  });
});
afterAll(() => emulator.close());

interface Refusal {
  status?: number;
  code?: string;
  message: string;
}

/** The error the client surfaces, or a failure when the call succeeded. */
async function refusal(call: Promise<unknown>): Promise<Refusal> {
  try {
    const result = await call;
    throw new Error(`expected a refusal, got ${JSON.stringify(result)?.slice(0, 300)}`);
  } catch (error) {
    const { status, code, message } = error as Refusal;
    if (status === undefined) throw error;
    return { status, code, message };
  }
}

const NOT_IMPLEMENTED = {
  status: 501,
  code: '0x80040203',
  message: expect.stringContaining('emulator does not implement'),
};
const account = (index: number): string => sampleRowId(SEED, 'account', index);
const newId = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

interface Row {
  '@odata.etag': string;
  name: string | null;
}

describe('rows through dynamics-web-api', () => {
  it('creates, retrieves, updates, upserts and deletes', async () => {
    const id = await api.create<{ name: string }, string>({
      collection: 'accounts',
      data: { name: 'Created by a real client' },
    });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const represented = await api.create<{ name: string }, { accountid: string; name: string }>({
      collection: 'accounts',
      data: { name: 'Represented' },
      returnRepresentation: true,
    });
    expect(represented).toMatchObject({ name: 'Represented', accountid: expect.any(String) });
    expect(await refusal(api.create({ collection: 'accounts', data: { accountid: id, name: 'again' } }))).toMatchObject(
      { status: 412, code: '0x80040237' },
    );

    const row = await api.retrieve<Row>({ collection: 'accounts', key: id, select: ['name'] });
    expect(row).toMatchObject({ name: 'Created by a real client', '@odata.etag': expect.stringMatching(/^W\/"\d+"$/) });
    expect(await refusal(api.retrieve({ collection: 'accounts', key: newId(1) }))).toMatchObject({
      status: 404,
      code: '0x80040217',
    });
    expect(await refusal(api.retrieve({ collection: 'accounts', key: id, select: ['nosuchcolumn'] }))).toMatchObject({
      status: 400,
      code: '0x80060888',
    });

    expect(await api.update({ collection: 'accounts', key: id, data: { name: 'Updated' } })).toBe(true);
    await api.upsert({ collection: 'accounts', key: newId(2), data: { name: 'Upsert created' } });
    await api.upsert({ collection: 'accounts', key: newId(2), data: { name: 'Upsert updated' } });
    expect(await api.retrieve<Row>({ collection: 'accounts', key: newId(2), select: ['name'] })).toMatchObject({
      name: 'Upsert updated',
    });

    await api.deleteRecord({ collection: 'accounts', key: newId(2) });
    expect(await refusal(api.deleteRecord({ collection: 'accounts', key: newId(2) }))).toMatchObject({
      status: 404,
      code: '0x80040217',
    });
  });
});

describe('conditional requests through dynamics-web-api', () => {
  it('update (If-Match: * by default) does not create a missing row: 404', async () => {
    expect(
      await refusal(api.update({ collection: 'accounts', key: newId(10), data: { name: 'should not exist' } })),
    ).toMatchObject({ status: 404, code: '0x80040217' });
    expect(emulator.store.get('account', newId(10))).toBeUndefined();
  });

  it('If-Match with a stale ETag: 412 ConcurrencyVersionMismatch on update and delete, and nothing changes', async () => {
    const id = account(1);
    const before = await api.retrieve<Row>({ collection: 'accounts', key: id, select: ['name'] });
    await api.update({ collection: 'accounts', key: id, data: { name: 'Moved on' }, ifmatch: before['@odata.etag'] });
    const stale = {
      status: 412,
      code: '0x80060882',
      message: "The version of the existing record doesn't match the RowVersion property provided.",
    };
    expect(
      await refusal(
        api.update({ collection: 'accounts', key: id, data: { name: 'Lost update' }, ifmatch: before['@odata.etag'] }),
      ),
    ).toMatchObject(stale);
    expect(
      await refusal(api.deleteRecord({ collection: 'accounts', key: id, ifmatch: before['@odata.etag'] })),
    ).toMatchObject(stale);
    const current = await api.retrieve<Row>({ collection: 'accounts', key: id, select: ['name'] });
    expect(current.name).toBe('Moved on');
    await api.deleteRecord({ collection: 'accounts', key: id, ifmatch: current['@odata.etag'] });
    expect(emulator.store.get('account', id)).toBeUndefined();
  });

  it('limits upserts: If-Match: * on a missing row is 404, If-None-Match: * on an existing row is 412', async () => {
    expect(
      await refusal(api.upsert({ collection: 'accounts', key: newId(11), data: { name: 'no create' }, ifmatch: '*' })),
    ).toMatchObject({ status: 404, code: '0x80040217' });
    expect(emulator.store.get('account', newId(11))).toBeUndefined();
    const existing = account(2);
    const before = emulator.store.get('account', existing);
    expect(
      await refusal(
        api.upsert({ collection: 'accounts', key: existing, data: { name: 'no update' }, ifnonematch: '*' }),
      ),
    ).toMatchObject({
      status: 412,
      code: '0x80040237',
      message: 'A record with matching key values already exists.',
    });
    expect(emulator.store.get('account', existing)).toEqual(before);
    await api.upsert({ collection: 'accounts', key: newId(12), data: { name: 'created only' }, ifnonematch: '*' });
    await api.upsert({ collection: 'accounts', key: existing, data: { name: 'updated only' }, ifmatch: '*' });
    expect(emulator.store.get('account', newId(12))?.row.name).toBe('created only');
    expect(emulator.store.get('account', existing)?.row.name).toBe('updated only');
  });

  it('GET with the current ETag in If-None-Match is 304 Not Modified without a body, unless annotations are asked for', async () => {
    const id = account(3);
    const row = await api.retrieve<Row>({ collection: 'accounts', key: id, select: ['name'] });
    // The client resolves a 304 as success with no data.
    expect(
      await api.retrieve({ collection: 'accounts', key: id, select: ['name'], ifnonematch: row['@odata.etag'] }),
    ).toBeUndefined();
    const raw = await fetch(`${emulator.baseUrl}accounts(${id})?$select=name`, {
      headers: { authorization: `Bearer ${TOKEN}`, 'if-none-match': row['@odata.etag'] },
    });
    expect(raw.status).toBe(304);
    expect(await raw.text()).toBe('');
    expect(
      await api.retrieve({ collection: 'accounts', key: id, select: ['name'], ifnonematch: 'W/"1"' }),
    ).toMatchObject({ name: row.name });
    expect(
      await api.retrieve({
        collection: 'accounts',
        key: id,
        select: ['name'],
        ifnonematch: row['@odata.etag'],
        includeAnnotations: '*',
      }),
    ).toMatchObject({ name: row.name });
  });
});

describe('queries through dynamics-web-api', () => {
  it('pages with maxPageSize and nextLink, and retrieveAll and countAll see every row', async () => {
    const first = await api.retrieveMultiple<Row>({ collection: 'contacts', select: ['fullname'], maxPageSize: 7 });
    expect(first.value).toHaveLength(7);
    expect(first.oDataNextLink).toContain('$skiptoken=');
    const second = await api.retrieveMultiple<Row>(
      { collection: 'contacts', select: ['fullname'], maxPageSize: 7 },
      first.oDataNextLink,
    );
    expect(second.value).toHaveLength(7);
    const all = await api.retrieveAll({ collection: 'roles', select: ['name'], maxPageSize: 5 });
    expect(all.value).toHaveLength(emulator.store.counts.role);
    expect(await api.countAll({ collection: 'roles', select: ['name'] })).toBe(emulator.store.counts.role);
  });

  it('$count=true adds @odata.count (all matching rows, up to 5000) whatever the page size; /$count answers the number', async () => {
    const counted = await api.retrieveMultiple({ collection: 'roles', select: ['name'], count: true, maxPageSize: 2 });
    expect(counted.value).toHaveLength(2);
    expect(counted.oDataCount).toBe(emulator.store.counts.role);
    expect(await api.count({ collection: 'roles' })).toBe(emulator.store.counts.role);
  });

  it('$top returns at most that many rows and no nextLink', async () => {
    const top = await api.retrieveMultiple({ collection: 'accounts', select: ['name'], top: 3 });
    expect(top.value).toHaveLength(3);
    expect(top.oDataNextLink).toBeUndefined();
  });

  it('refuses $skip as Dataverse does', async () => {
    expect(
      await refusal(api.retrieveMultiple({ collection: 'accounts', select: ['name'], queryParams: ['$skip=2'] })),
    ).toMatchObject({
      status: 400,
      code: '0x80060888',
      message: 'The query parameter $skip is not supported',
    });
  });

  const fetchXml = '<fetch><entity name="account"><attribute name="name" /></entity></fetch>';
  const notImplemented: Array<[string, () => Promise<unknown>]> = [
    ['$filter', () => api.retrieveMultiple({ collection: 'accounts', filter: "name eq 'x'" })],
    ['$orderby', () => api.retrieveMultiple({ collection: 'accounts', orderBy: ['name desc'] })],
    [
      '$expand on a set',
      () => api.retrieveMultiple({ collection: 'accounts', expand: [{ property: 'primarycontactid' }] }),
    ],
    ['$apply', () => api.retrieveMultiple({ collection: 'accounts', apply: 'aggregate($count as total)' })],
    ['fetchXml', () => api.fetch({ collection: 'accounts', fetchXml })],
    ['savedQuery', () => api.retrieve({ collection: 'accounts', savedQuery: newId(20) })],
    ['userQuery', () => api.retrieve({ collection: 'accounts', userQuery: newId(21) })],
    [
      '$expand on a row',
      () => api.retrieve({ collection: 'accounts', key: account(4), expand: [{ property: 'primarycontactid' }] }),
    ],
    ['$search', () => api.retrieveMultiple({ collection: 'accounts', queryParams: ['$search=contoso'] })],
    // WhoAmI is the one function the emulator answers (the export reads the organization id); any other is refused.
    ['an unbound function', () => api.callFunction('RetrieveVersion')],
    [
      'a single-property update',
      () => api.updateSingleProperty({ collection: 'accounts', key: account(4), fieldValuePair: { name: 'x' } }),
    ],
    [
      'duplicate detection',
      () => api.create({ collection: 'accounts', data: { name: 'dup check' }, duplicateDetection: true }),
    ],
    ['impersonation', () => api.retrieve({ collection: 'accounts', key: account(4), impersonate: newId(22) })],
  ];
  it.each(notImplemented)('refuses %s with a 501 instead of ignoring it', async (_name, call) => {
    expect(await refusal(call())).toMatchObject(NOT_IMPLEMENTED);
  });

  it('answers WhoAmI with the organization id, as the export reads it', async () => {
    const answer = await api.callFunction<{ OrganizationId?: string; UserId?: string }>('WhoAmI');
    expect(answer.OrganizationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.UserId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses $batch rather than pretending it does not exist', async () => {
    api.startBatch();
    api.retrieve({ collection: 'accounts', key: account(5), select: ['name'] }).catch(() => undefined);
    expect(await refusal(api.executeBatch())).toMatchObject(NOT_IMPLEMENTED);
  });
});

describe('change tracking, associations and metadata through dynamics-web-api', () => {
  it('tracks changes: retrieveAll with trackChanges gives a deltaLink that later returns the change', async () => {
    const initial = await api.retrieveAll({
      collection: 'roles',
      select: ['name'],
      trackChanges: true,
      maxPageSize: 5,
    });
    expect(initial.oDataDeltaLink).toContain('$deltatoken=');
    const role = sampleRowId(SEED, 'role', 3);
    await api.update({ collection: 'roles', key: role, data: { name: 'Renamed role' } });
    const delta = await api.retrieveMultiple<{ roleid: string; name: string }>(
      { collection: 'roles', trackChanges: true },
      initial.oDataDeltaLink,
    );
    expect(delta.value).toEqual([expect.objectContaining({ roleid: role, name: 'Renamed role' })]);
  });

  it('associates and disassociates through an N:N relationship', async () => {
    const user = sampleRowId(SEED, 'systemuser', 0);
    const role = sampleRowId(SEED, 'role', 6);
    const request = {
      collection: 'systemusers',
      primaryKey: user,
      relationshipName: 'systemuserroles_association',
      relatedKey: role,
    };
    await api.associate({ ...request, relatedCollection: 'roles' });
    const pairs = () =>
      emulator.store
        .page('systemuserroles', -1, 5000)
        .rows.filter(({ row }) => row.systemuserid === user && row.roleid === role);
    expect(pairs()).toHaveLength(1);
    await api.disassociate(request);
    expect(pairs()).toHaveLength(0);
  });

  it('reads table definitions', async () => {
    const entity = await api.retrieveEntity({ key: "LogicalName='account'", select: ['LogicalName', 'EntitySetName'] });
    expect(entity).toMatchObject({ LogicalName: 'account', EntitySetName: 'accounts' });
    expect(
      await refusal(api.retrieveEntities({ select: ['LogicalName'], filter: 'IsCustomEntity eq true' })),
    ).toMatchObject(NOT_IMPLEMENTED);
  });
});
