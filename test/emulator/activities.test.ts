/**
 * The emulator's activities over real HTTP: email's PartyList columns exist in metadata (with Targets) but
 * not as Web API properties; activityparty rows carry the activity and the polymorphic party as lookups;
 * activityparties answers collection reads only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webApiSelect } from '../../shared/dataverse/properties';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { LOOKUP_LOGICAL_NAME, PARTIES_PER_EMAIL, sampleRowId, sampleTable } from '../../local/sample-org';
import { clientFor, collect, TOKEN } from '../dataverse/helpers';

const SEED = 3;
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ seed: SEED, accounts: 40, token: TOKEN });
});
afterAll(() => emulator.close());

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${emulator.baseUrl}${path}`, { headers: { Authorization: `Bearer ${TOKEN}`, ...headers } });

describe('email, an activity table', () => {
  it('reads back PartyList columns with their Targets, as LookupAttributeMetadata carries them', async () => {
    const [email] = await clientFor(emulator.baseUrl).readTables(['email']);
    const to = email?.columns.find((column) => column.logicalName === 'to');
    expect(to).toMatchObject({ attributeType: 'PartyList', targets: ['account', 'contact', 'systemuser'] });
    expect(email).toEqual(sampleTable('email'));
  });

  it('has no Web API property for a PartyList column: $select=to is a 400, rows never carry one', async () => {
    const refused = await get('emails?$select=subject,to');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { message: expect.stringContaining("property named 'to'") } });
    const rows = (await (await get('emails')).json()) as { value: Array<Record<string, unknown>> };
    expect(rows.value.length).toBeGreaterThan(0);
    for (const row of rows.value) expect(Object.keys(row)).not.toEqual(expect.arrayContaining(['to']));
  });

  it("is captured by the real client's change-tracked load with the select the product builds", async () => {
    const email = sampleTable('email');
    const pages = await collect(
      clientFor(emulator.baseUrl).initialLoad(email, { select: webApiSelect(email), annotations: true }),
    );
    const rows = pages.flatMap((page) => page.changes);
    expect(rows).toHaveLength(emulator.store.counts.email);
    const first = rows[0];
    expect(first?.kind).toBe('upsert');
    if (first?.kind !== 'upsert') return;
    expect(first.row._regardingobjectid_value).toBe(sampleRowId(SEED, 'account', 0));
    expect(first.row[`_regardingobjectid_value${LOOKUP_LOGICAL_NAME}`]).toBe('account');
  });
});

describe('activityparties', () => {
  it('serves three parties per email: sender user, to contact, cc account, each with its lookups annotated', async () => {
    const response = await get('activityparties?$select=_activityid_value,_partyid_value,participationtypemask', {
      Prefer: 'odata.include-annotations="*"',
    });
    expect(response.status).toBe(200);
    const { value } = (await response.json()) as { value: Array<Record<string, unknown>> };
    expect(value).toHaveLength(emulator.store.counts.email * PARTIES_PER_EMAIL);
    const ofFirstEmail = value.filter((row) => row._activityid_value === sampleRowId(SEED, 'email', 0));
    expect(ofFirstEmail.map((row) => [row.participationtypemask, row[`_partyid_value${LOOKUP_LOGICAL_NAME}`]])).toEqual(
      [
        [1, 'systemuser'],
        [2, 'contact'],
        [3, 'account'],
      ],
    );
    expect(ofFirstEmail[0]?.[`_activityid_value${LOOKUP_LOGICAL_NAME}`]).toBe('activitypointer');
  });

  it('answers only collection reads (RetrieveMultiple): a read by id and a write are refused with 501', async () => {
    const id = sampleRowId(SEED, 'activityparty', 0);
    expect((await get(`activityparties(${id})`)).status).toBe(501);
    const created = await fetch(`${emulator.baseUrl}activityparties`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ addressused: 'x@example.com' }),
    });
    expect(created.status).toBe(501);
  });
});
