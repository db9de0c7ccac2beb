/**
 * The emulator's row-serving answers pinned byte for byte: every read a sync makes (the partitioned load's id
 * batches with every column and annotations, change-tracked pages, the key pass, deltas after writes, single rows)
 * across the sample org's tables, hashed after the server's own URL is taken out (its port changes per run). The
 * hashes are those of the code before the serving was made cheaper (local/sample-org/webapi.ts): a faster writer
 * must give the same bytes, so a change here is a change of what the emulator says, never of how fast.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { sampleRowId, sampleTables, webApiSelect } from '../../local/sample-org';
import { idFilter } from '../../shared/dataverse/id-batch-read';

const TOKEN = 'page-bytes';
const SEED = 5;
const NOW = Date.parse('2026-03-01T08:00:00Z');
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ seed: SEED, accounts: 40, token: TOKEN, now: () => NOW });
});
afterAll(() => emulator.close());

const ANNOTATIONS = 'odata.include-annotations="*"';

async function text(path: string, prefer: string[] = []): Promise<string> {
  const response = await fetch(path.startsWith('http') ? path : `${emulator.baseUrl}${path}`, {
    headers: { Authorization: `Bearer ${TOKEN}`, ...(prefer.length > 0 ? { Prefer: prefer.join(',') } : {}) },
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${response.status} ${path}: ${body}`);
  return body;
}

/** Every page of a read, following nextLinks; the deltaLink of the last is kept in the text. */
async function pages(path: string, prefer: string[]): Promise<string[]> {
  const texts: string[] = [];
  for (let link: string | undefined = path; link !== undefined;) {
    const body = await text(link, prefer);
    texts.push(body);
    link = (JSON.parse(body) as { '@odata.nextLink'?: string })['@odata.nextLink'];
  }
  return texts;
}

const digest = (texts: string[]) =>
  createHash('sha256')
    .update(texts.map((body) => body.split(emulator.baseUrl).join('<base>/')).join('\n'))
    .digest('hex');

const tables = sampleTables.filter(
  (table) => table.entitySetName !== undefined && table.logicalName !== 'activityparty',
);

describe('the bytes of the rows the emulator serves', () => {
  it('are unchanged for id batches of every column with and without annotations, and for a few columns', async () => {
    const answers: Record<string, string> = {};
    for (const table of tables) {
      const ids = Array.from({ length: 12 }, (_, index) => sampleRowId(SEED, table.logicalName, index * 2));
      const filter = `$filter=${encodeURIComponent(idFilter(table, ids))}`;
      const every = `${table.entitySetName}?$select=${webApiSelect(table).join(',')}&${filter}`;
      const few = `${table.entitySetName}?$select=${webApiSelect(table).slice(0, 4).join(',')}&${filter}`;
      const annotated = await text(every, ['odata.maxpagesize=250', ANNOTATIONS]);
      if (table.logicalName === 'account')
        // What the pin covers: formatted choices and annotated lookups, not only plain values.
        expect([annotated.includes('FormattedValue"'), annotated.includes('lookuplogicalname"')]).toEqual([true, true]);
      answers[table.logicalName] = digest([
        annotated,
        await text(every, ['odata.maxpagesize=250']),
        await text(few, ['odata.maxpagesize=250', ANNOTATIONS]),
      ]);
    }
    expect(answers).toEqual(ID_BATCHES);
  });

  it('are unchanged for change-tracked pages, the key pass, single rows and a delta after writes', async () => {
    const account = tables.find((table) => table.logicalName === 'account');
    if (!account) throw new Error('no account table');
    const tracked = ['odata.track-changes', 'odata.maxpagesize=15', ANNOTATIONS];
    const full = await pages(`accounts?$select=${webApiSelect(account).join(',')}`, tracked);
    const keys = await pages('accounts?$select=accountid', ['odata.track-changes', 'odata.maxpagesize=15']);
    const untracked = await pages('accounts', ['odata.maxpagesize=15']);
    const single = await text(`accounts(${sampleRowId(SEED, 'account', 3)})`, [ANNOTATIONS]);
    const deltaLink = (JSON.parse(full.at(-1) ?? '{}') as { '@odata.deltaLink': string })['@odata.deltaLink'];
    emulator.store.update('account', sampleRowId(SEED, 'account', 1), { name: 'renamed', revenue: 12.5 });
    emulator.store.delete('account', sampleRowId(SEED, 'account', 2));
    emulator.store.create('account', { name: 'created' }, '00000000-0000-4000-8000-000000000001');
    const delta = await pages(deltaLink, [ANNOTATIONS]);
    expect({
      full: digest(full),
      keys: digest(keys),
      untracked: digest(untracked),
      single: digest([single]),
      delta: digest(delta),
    }).toEqual(READS);
  });
});

const ID_BATCHES = {
  account: '7bc3f8f8cda2cb4d8cd3589bafecc8649c076e4a0a644889ccf350ccc6d7deab',
  contact: '80cc7ca2ba2e1568451b7660e5061551c4fe97bff23e6b14bada367a5ef6a948',
  email: '15150c12e465f178c7374ce2cc79c434316e6a200144b2d15f059c43090ed363',
  opportunity: 'e6305b008d609807a7ae93d14ef61c646492e161db72fce56a8dfb9185c10ae8',
  role: 'ffd41c99980849a5f8aca8a0d49a605dd5fa7f819b244fb71399ff5ff30c42db',
  systemuser: 'aec904c64d3c772ff6a77903bee04fdf92173d260ec76e9504c763c7cd1faeda',
  systemuserroles: 'de029a27a862d1ca6bd2fe589ce96db703e6ea93ca4da5b8894c2a6d04b6bf7a',
};
const READS = {
  delta: 'c9acac3391145da5b9ca784a9a1b0e782359332b68b9570f407fbf8600960b2a',
  full: 'abc6bd62c6c25ea74eb1ea2164272f824f49aef5b8e5a2bc436ee96f355f6297',
  keys: '1e6e2379fbeb9125544df3cb6472e77e71f7a5d304378835c70dac2c93dfb01c',
  single: 'c1dcd75ac1a58ac34243d5a93432184ca23cb876e689edbfce9bf1c25424cb69',
  untracked: '32d3bdc5c29451df63944f0b39656e7c30e8093f55e095960fee45070ae47efe',
};
