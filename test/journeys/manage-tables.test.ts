/**
 * Journey: an admin changes the tables of an active profile with PUT (DES "Manage entities"), on the real local
 * host (emulator → Azurite queue → PGlite). Added tables are copied without touching the others, a removed
 * table keeps its rows but is no longer synced, and a table added again converges, deletes made meanwhile included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleCounts } from '../../local/sample-org';
import { createWorkload, isRowOperation } from '../../local/workload/workload';
import {
  destinationVersions,
  EMULATOR_TOKEN,
  sampleProfile,
  sourceVersions,
  useProduct,
  waitForConvergence,
  type ProductUnderTest,
} from '../support/pipeline';
import { waitFor } from '../support/wait';

const ACCOUNTS = 60;
// On disk: saving a profile rebuilds its runtime, and an in-memory PGlite would go with it, as a real database does not.
const dataDir = mkdtempSync(join(tmpdir(), 'dvexport-manage-tables-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const product = useProduct({
  emulator: { accounts: ACCOUNTS },
  sync: { pageSize: 25, fanOut: 2 },
  env: { DVX_DATA_DIR: dataDir },
});

interface StatusBody {
  state: string;
  activatedAt: string;
  tables: Array<{ table: string; phase: string }>;
}

const profileWith = (p: ProductUnderTest, tables: string[]) => sampleProfile(p, { tables, relationships: [] });

async function status(p: ProductUnderTest): Promise<StatusBody> {
  return (await p.call('GET', 'profiles/manage/status')).body as StatusBody;
}

/** Waits until status lists exactly these tables, all in delta phase. */
async function waitForDelta(p: ProductUnderTest, tables: string[]): Promise<StatusBody> {
  return waitFor(
    `${tables.join(', ')} (and no other table) in delta phase`,
    async () => {
      const body = await status(p);
      const listed = body.tables.map((table) => table.table).sort();
      return JSON.stringify(listed) === JSON.stringify([...tables].sort()) &&
        body.tables.every((table) => table.phase === 'delta')
        ? body
        : undefined;
    },
    60_000,
  );
}

/** What a re-copy or a re-activation would change in a checkpoint; the deltaLink moves on with every poll. */
async function copyMarks(p: ProductUnderTest, table: string) {
  const checkpoint = await p.deps.sync.checkpoints.read('manage', table);
  const { phase, startedAt, initialSyncCompletedAt, pages, rowsCopied } = checkpoint?.value ?? {};
  return { phase, startedAt, initialSyncCompletedAt, pages, rowsCopied };
}

describe('managing the tables of an active profile', () => {
  it('copies an added table alone, stops a removed one keeping its rows, and re-copies it when added again', async () => {
    const p = product();
    const counts = sampleCounts(ACCOUNTS);
    expect((await p.call('PUT', 'profiles/manage', profileWith(p, ['account', 'contact']))).status).toBe(201);
    expect((await p.call('POST', 'profiles/manage/activate')).status).toBe(202);
    const activated = await waitForDelta(p, ['account', 'contact']);
    await waitForConvergence(p, 'manage', ['account', 'contact']);
    const accountBefore = await copyMarks(p, 'account');
    const contactBefore = await copyMarks(p, 'contact');

    // Add a third table: copied while the profile stays active, the others not copied again.
    const added = await p.call('PUT', 'profiles/manage', profileWith(p, ['account', 'contact', 'systemuser']));
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body).toMatchObject({ tableChanges: { added: ['systemuser'], removed: [] } });
    const afterAdd = await waitForDelta(p, ['account', 'contact', 'systemuser']);
    await waitForConvergence(p, 'manage', ['systemuser']);
    expect(afterAdd.activatedAt).toBe(activated.activatedAt);
    expect(await copyMarks(p, 'account')).toEqual(accountBefore);
    expect(await copyMarks(p, 'contact')).toEqual(contactBefore);

    // Remove contact: status no longer lists it, and changes to it are not applied; its rows stay.
    const removed = await p.call('PUT', 'profiles/manage', profileWith(p, ['account', 'systemuser']));
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(removed.body).toMatchObject({ tableChanges: { added: [], removed: ['contact'] } });
    await waitForDelta(p, ['account', 'systemuser']);
    const contactKept = await destinationVersions(p, 'manage', 'contact');
    expect(contactKept.size).toBe(counts.contact);

    const workload = createWorkload({
      baseUrl: p.emulator.baseUrl,
      token: EMULATOR_TOKEN,
      seed: 11,
      sampleSeed: 3,
      rows: { account: counts.account, contact: counts.contact },
    });
    const done = [];
    for (let i = 0; i < 80; i++) done.push(await workload.step());
    const contactOperations = done.filter(isRowOperation).filter((operation) => operation.table === 'contact');
    expect(contactOperations.some((operation) => operation.kind === 'delete')).toBe(true);
    expect(contactOperations.some((operation) => operation.kind === 'update')).toBe(true);
    // account is still synced: once it has caught up, the polls that would have carried contact's changes ran.
    await waitForConvergence(p, 'manage', ['account']);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await destinationVersions(p, 'manage', 'contact')).toEqual(contactKept);
    expect(sourceVersions(p.emulator, 'contact')).not.toEqual(contactKept);

    // Add contact again: copied afresh, rows deleted meanwhile removed; the others still untouched.
    const accountBeforeReadd = await copyMarks(p, 'account');
    const readded = await p.call('PUT', 'profiles/manage', profileWith(p, ['account', 'systemuser', 'contact']));
    expect(readded.status, JSON.stringify(readded.body)).toBe(200);
    expect(readded.body).toMatchObject({ tableChanges: { added: ['contact'], removed: [] } });
    await waitForDelta(p, ['account', 'contact', 'systemuser']);
    await waitForConvergence(p, 'manage', ['contact', 'account', 'systemuser']);
    expect(await copyMarks(p, 'account')).toEqual(accountBeforeReadd);

    // Sending the same table list again changes nothing.
    const again = await p.call('PUT', 'profiles/manage', profileWith(p, ['account', 'systemuser', 'contact']));
    expect(again.body).toMatchObject({ tableChanges: { added: [], removed: [] } });
  }, 240_000);
});
