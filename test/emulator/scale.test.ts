/**
 * A million-account org costs the store counters, not rows: rows are regenerated from their index, and
 * pages are served one at a time. Walking all 1,000,000 rows is the bench's job (`npm run bench -- source`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSkipToken } from '../../local/emulator/odata';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { OrgStore } from '../../local/emulator/store';
import { sampleRowId, sampleTable } from '../../local/sample-org';
import { clientFor, collect, TOKEN } from '../dataverse/helpers';

const MILLION = 1_000_000;
const account = sampleTable('account');

describe('store at a million accounts', () => {
  it('holds no rows until written to, and finds any generated row by id', () => {
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    const store = new OrgStore({ seed: 5, accounts: MILLION });
    const after = process.memoryUsage().heapUsed;
    expect(after - before).toBeLessThan(2 * 1024 * 1024);
    const last = sampleRowId(5, 'account', MILLION - 1);
    expect(store.get('account', last)?.row.accountid).toBe(last);
    expect(store.get('account', sampleRowId(5, 'account', MILLION))).toBeUndefined();
    expect(store.page('account', MILLION - 2, 10)).toMatchObject({
      rows: [{ id: last, slot: MILLION - 1 }],
      more: false,
    });
  });
});

describe('contacts sized apart from accounts', () => {
  it('generates exactly the contacts asked for, and 1.5 per account when not asked', () => {
    const sized = new OrgStore({ seed: 5, accounts: 200, contacts: 200 });
    expect(sized.counts).toMatchObject({ account: 200, contact: 200, opportunity: 100 });
    expect(sized.page('contact', 198, 10)).toMatchObject({
      rows: [{ id: sampleRowId(5, 'contact', 199) }],
      more: false,
    });
    expect(sized.get('contact', sampleRowId(5, 'contact', 200))).toBeUndefined();
    expect(new OrgStore({ seed: 5, accounts: 200 }).counts.contact).toBe(300);
  });

  it('keeps the contact count across a snapshot', () => {
    const restored = OrgStore.restore(new OrgStore({ seed: 5, accounts: 10, contacts: 4 }).snapshot());
    expect(restored.counts).toMatchObject({ account: 10, contact: 4 });
  });
});

describe('emulator at a million accounts', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ seed: 5, accounts: MILLION, token: TOKEN });
  });
  afterAll(() => emulator.close());

  it('serves full 5000-row pages one at a time', async () => {
    const load = clientFor(emulator.baseUrl).initialLoad(account, { pageSize: 5000 });
    const sizes: number[] = [];
    for await (const page of load) {
      sizes.push(page.changes.length);
      expect(page.nextLink).toBeDefined();
      if (sizes.length === 3) break;
    }
    expect(sizes).toEqual([5000, 5000, 5000]);
  });

  it('ends the table with the deltaLink when resumed near its last row', async () => {
    const versionStamp = emulator.store.currentVersion;
    const skipToken = encodeSkipToken(
      { pageNumber: 200, versionStamp, position: MILLION - 8, tracking: true },
      'accountid',
      sampleRowId(5, 'account', MILLION - 5007),
      sampleRowId(5, 'account', MILLION - 8),
    );
    const nextLink = `${emulator.baseUrl}accounts?$skiptoken=${skipToken}`;
    const pages = await collect(
      clientFor(emulator.baseUrl).initialLoad(account, { pageSize: 5000, resumeFrom: nextLink }),
    );
    expect(pages).toHaveLength(1);
    expect(pages[0]?.changes.map((change) => change.id)).toEqual(
      Array.from({ length: 7 }, (_, offset) => sampleRowId(5, 'account', MILLION - 7 + offset)),
    );
    expect(pages[0]?.watermark).toBe(versionStamp);
  });
});
