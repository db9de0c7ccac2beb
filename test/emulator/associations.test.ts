/**
 * N:N associate and disassociate through the Web API's `$ref`, as Dataverse takes them: each association is
 * a row of the intersect table, which change tracking reports as an upsert and, once removed, a delete.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { sampleRowId } from '../../local/sample-org';

const TOKEN = 'emulator-associations';
const SEED = 4;
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ seed: SEED, accounts: 10, token: TOKEN });
});
afterAll(() => emulator.close());

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${emulator.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

interface DeltaBody {
  value: Array<Record<string, unknown>>;
  '@odata.deltaLink': string;
}

async function track(url: string): Promise<DeltaBody> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}`, prefer: 'odata.track-changes' } });
  return (await response.json()) as DeltaBody;
}

describe('N:N associations through $ref', () => {
  const user = sampleRowId(SEED, 'systemuser', 0);
  const role = sampleRowId(SEED, 'role', 5);
  const roleUri = () => `${emulator.baseUrl}roles(${role})`;
  const pairs = (rows: Array<Record<string, unknown>>) =>
    rows.filter((row) => row.systemuserid === user && row.roleid === role);

  it('associates, refuses the same association twice, and disassociates by key or by $id; deltas follow', async () => {
    const before = await track(`${emulator.baseUrl}systemuserrolescollection`);
    expect(pairs(before.value)).toEqual([]);

    expect(
      (await call('POST', `systemusers(${user})/systemuserroles_association/$ref`, { '@odata.id': roleUri() })).status,
    ).toBe(204);
    const duplicate = await call('POST', `systemusers(${user})/systemuserroles_association/$ref`, {
      '@odata.id': `roles(${role})`,
    });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body).toMatchObject({ error: { code: '0x80040237' } });

    const afterAssociate = await track(before['@odata.deltaLink']);
    const [created] = afterAssociate.value;
    expect(afterAssociate.value).toHaveLength(1);
    expect(created).toMatchObject({ systemuserid: user, roleid: role });
    expect(typeof created?.versionnumber).toBe('number');

    // The same association seen from the other side of the relationship.
    expect(
      (
        await call(
          'DELETE',
          `roles(${role})/systemuserroles_association/$ref?$id=${emulator.baseUrl}systemusers(${user})`,
        )
      ).status,
    ).toBe(204);
    const afterDisassociate = await track(afterAssociate['@odata.deltaLink']);
    expect(afterDisassociate.value).toEqual([
      expect.objectContaining({ id: created?.systemuserroleid, reason: 'deleted' }),
    ]);

    expect(
      (await call('POST', `systemusers(${user})/systemuserroles_association/$ref`, { '@odata.id': roleUri() })).status,
    ).toBe(204);
    expect((await call('DELETE', `systemusers(${user})/systemuserroles_association(${role})/$ref`)).status).toBe(204);
    // Disassociating rows that are not associated leaves the org as asked.
    expect((await call('DELETE', `systemusers(${user})/systemuserroles_association(${role})/$ref`)).status).toBe(204);
    const end = await track(afterDisassociate['@odata.deltaLink']);
    expect(end.value.filter((item) => item.reason === 'deleted')).toHaveLength(1);
  });

  it('answers an unknown relationship, a missing row and a reference of the wrong type as Dataverse errors', async () => {
    expect(
      (await call('POST', `systemusers(${user})/no_such_association/$ref`, { '@odata.id': roleUri() })).status,
    ).toBe(400);
    const missingRole = sampleRowId(SEED, 'role', 999);
    expect(
      (
        await call('POST', `systemusers(${user})/systemuserroles_association/$ref`, {
          '@odata.id': `roles(${missingRole})`,
        })
      ).status,
    ).toBe(404);
    const wrongType = await call('POST', `systemusers(${user})/systemuserroles_association/$ref`, {
      '@odata.id': `accounts(${sampleRowId(SEED, 'account', 1)})`,
    });
    expect(wrongType.status).toBe(400);
    expect(String((wrongType.body.error as { message: string }).message)).toContain('roles(<id>)');
  });
});
