/**
 * The id-batch reads of the partitioned initial sync against the emulator: the one `$filter` form it answers
 * (Microsoft.Dynamics.CRM.In on the primary key, learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/in),
 * loud 501 refusals of every other form, and the two headers a parallel client reads or must not send back
 * (`x-ms-dop-hint`, the `ARRAffinity` cookie: learn.microsoft.com/power-apps/developer/data-platform/send-parallel-requests).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { sampleRowId } from '../../local/sample-org';
import { staticTokenSource } from '../../shared/dataverse/auth';
import { DataverseClient } from '../../shared/dataverse/client';
import { IDS_PER_REQUEST, idFilter, readIdBatch } from '../../shared/dataverse/id-batch-read';

const TOKEN = 'id-filter-token';
const SEED = 4;
const ACCOUNTS = 600;
let emulator: Emulator;
const table = { entitySetName: 'accounts', primaryIdAttribute: 'accountid' };
const id = (index: number) => sampleRowId(SEED, 'account', index);

beforeAll(async () => {
  emulator = await startEmulator({ seed: SEED, accounts: ACCOUNTS, token: TOKEN, faults: { dopHint: 6 } });
});
afterAll(() => emulator.close());

const get = (query: string, headers: Record<string, string> = {}) =>
  fetch(`${emulator.baseUrl}accounts?${query}`, { headers: { Authorization: `Bearer ${TOKEN}`, ...headers } });

describe('the emulator and the client reading rows by id batches', () => {
  it('answers an In filter on the primary key with exactly the live rows asked for', async () => {
    const ids = [id(3), id(1), id(599)];
    const response = await get(`$select=accountid,name&$filter=${encodeURIComponent(idFilter(table, ids))}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { value: Array<{ accountid: string }>; '@odata.nextLink'?: string };
    expect(body.value.map((row) => row.accountid).sort()).toEqual([...ids].sort());
    expect(body['@odata.nextLink']).toBeUndefined();
  });

  it.each([
    ['another function', "Microsoft.Dynamics.CRM.NotIn(PropertyName='accountid',PropertyValues=['x'])"],
    ['another property', `Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['${id(1)}'])`],
    ['a comparison', `accountid eq ${id(1)}`],
    ['a range', `accountid gt ${id(1)}`],
    ['parameter aliases', 'Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)'],
  ])('refuses %s in $filter loudly (501), never answering every row', async (_what, filter) => {
    const response = await get(`$filter=${encodeURIComponent(filter)}`);
    expect(response.status).toBe(501);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/not implement/i);
  });

  it('refuses $filter on a change-tracked read, as Dataverse does', async () => {
    const response = await get(`$filter=${encodeURIComponent(idFilter(table, [id(1)]))}`, {
      Prefer: 'odata.track-changes',
    });
    expect(response.status).toBe(400);
  });

  it('reads every live id through the client in requests of at most IDS_PER_REQUEST ids, skipping deleted ones', async () => {
    const deleted = id(7);
    emulator.store.delete('account', deleted);
    const client = new DataverseClient({ baseUrl: emulator.baseUrl, token: staticTokenSource(TOKEN) });
    const ids = Array.from({ length: ACCOUNTS }, (_, index) => id(index));
    const before = emulator.stats.requests;
    const rows = await readIdBatch(client.http, table, ids, { select: ['accountid', 'name'] });
    expect(emulator.stats.requests - before).toBe(Math.ceil(ACCOUNTS / IDS_PER_REQUEST));
    expect(rows.map((row) => row.id).sort()).toEqual(ids.filter((each) => each !== deleted).sort());
    expect(rows.every((row) => row.versionNumber > 0)).toBe(true);
    // The org's suggested parallelism is read from the answers; the affinity cookie is never sent back.
    expect(client.http.dopHint).toBe(6);
    expect(emulator.stats.affinityCookieRequests).toBe(0);
  });

  it('sends x-ms-dop-hint and an ARRAffinity cookie, and counts requests that send the cookie back', async () => {
    const response = await get('$select=name&$top=1');
    expect(response.headers.get('x-ms-dop-hint')).toBe('6');
    expect(response.headers.get('set-cookie')).toMatch(/^ARRAffinity=/);
    const before = emulator.stats.affinityCookieRequests;
    await get('$select=name&$top=1', { Cookie: 'ARRAffinity=abc' });
    expect(emulator.stats.affinityCookieRequests).toBe(before + 1);
  });
});
