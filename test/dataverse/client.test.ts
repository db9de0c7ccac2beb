/**
 * The client against the emulator over real HTTP: metadata round trip, initial load with resume,
 * deltas (updates, deletes, a delete of a row never seen, paging inside a delta), rows by id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowChange } from '../../shared/dataverse/changes';
import { webApiSelect } from '../../shared/dataverse/properties';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { globalOptionSets, sampleRelationships, sampleRowId, sampleTables } from '../../local/sample-org';
import { clientFor, collect, TOKEN, write } from './helpers';

const SEED = 7;
const ACCOUNTS = 1_200;
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ seed: SEED, accounts: ACCOUNTS, token: TOKEN });
});
afterAll(() => emulator.close());

const account = sampleTables.find((table) => table.logicalName === 'account')!;
const ids = (changes: RowChange[]): string[] => changes.map((change) => change.id);

describe('metadata', () => {
  it('reads every sample table back exactly: columns, casts, option sets, state/status, lookup targets', async () => {
    const names = sampleTables.map((table) => table.logicalName);
    expect(await clientFor(emulator.baseUrl).readTables(names)).toEqual(sampleTables);
  });

  it('keeps global option sets global and status options tied to their state', async () => {
    const [read] = await clientFor(emulator.baseUrl).readTables(['account']);
    const columns = new Map(read?.columns.map((column) => [column.logicalName, column]));
    expect(columns.get('sample_industry')?.optionSet).toEqual(globalOptionSets[0]);
    expect(columns.get('statuscode')?.optionSet?.options.map((option) => [option.value, option.state])).toEqual([
      [1, 0],
      [2, 1],
    ]);
    expect(columns.get('ownerid')?.targets).toEqual(['systemuser', 'team']);
  });

  it('reads many-to-many relationships with their intersect tables, each once', async () => {
    expect(await clientFor(emulator.baseUrl).readManyToMany(['systemuser', 'role'])).toEqual(sampleRelationships);
  });

  it('reports a table that does not exist as a configuration error', async () => {
    await expect(clientFor(emulator.baseUrl).readTables(['nosuchtable'])).rejects.toMatchObject({
      errorClass: 'config',
    });
  });
});

describe('initial load', () => {
  it('walks every page once; only the last page carries the deltaLink and watermark', async () => {
    const versionAtStart = emulator.store.currentVersion;
    const pages = await collect(
      clientFor(emulator.baseUrl).initialLoad(account, { pageSize: 500, select: webApiSelect(account) }),
    );
    expect(pages.map((page) => page.changes.length)).toEqual([500, 500, 200]);
    expect(pages.slice(0, -1).every((page) => page.nextLink && !page.deltaLink)).toBe(true);
    const last = pages.at(-1)!;
    expect(last.nextLink).toBeUndefined();
    expect(last.deltaLink).toContain('$deltatoken=');
    expect(last.watermark).toBe(versionAtStart);
    const all = pages.flatMap((page) => page.changes);
    expect(new Set(ids(all)).size).toBe(ACCOUNTS);
    expect(all[0]).toMatchObject({ kind: 'upsert', id: sampleRowId(SEED, 'account', 0) });
  });

  it('resumes from a persisted nextLink with the same rows a straight load returns', async () => {
    const client = clientFor(emulator.baseUrl);
    const straight = ids(
      (await collect(client.initialLoad(account, { pageSize: 300 }))).flatMap((page) => page.changes),
    );
    const firstRun = client.initialLoad(account, { pageSize: 300 });
    const firstPage = (await firstRun.next()).value!;
    await firstRun.return(undefined);
    const persisted = JSON.parse(JSON.stringify({ nextLink: firstPage.nextLink })) as { nextLink: string };
    const resumed = await collect(
      clientFor(emulator.baseUrl).initialLoad(account, { pageSize: 300, resumeFrom: persisted.nextLink }),
    );
    expect([...ids(firstPage.changes), ...ids(resumed.flatMap((page) => page.changes))]).toEqual(straight);
    expect(resumed.at(-1)?.deltaLink).toBeDefined();
  });

  it('reads one page per call without reading ahead, for one orchestration step per page', async () => {
    const client = clientFor(emulator.baseUrl);
    const before = emulator.stats.requests;
    let link: string | undefined = client.initialLoadLink(account, ['name']);
    const sizes: number[] = [];
    let deltaLink: string | undefined;
    while (link !== undefined) {
      const page = await client.readPage(account, JSON.parse(JSON.stringify(link)) as string, { pageSize: 500 });
      sizes.push(page.changes.length);
      link = page.nextLink;
      deltaLink = page.deltaLink;
    }
    expect(sizes).toEqual([500, 500, 200]);
    expect(emulator.stats.requests - before).toBe(3);
    expect(await client.readPage(account, deltaLink!)).toEqual({
      changes: [],
      deltaLink: expect.stringContaining('$deltatoken='),
      watermark: expect.any(Number),
    });
  });

  it('returns lookup annotations, formatted values, multi-select strings and DateOnly dates when asked', async () => {
    const load = clientFor(emulator.baseUrl).initialLoad(account, { pageSize: 50, annotations: true });
    const first = await load.next();
    await load.return(undefined);
    if (first.done) throw new Error('The load yielded no page');
    const rows = first.value.changes.map((change) => (change.kind === 'upsert' ? change.row : {}));
    expect(rows[1]?.['_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname']).toBe('systemuser');
    expect(
      rows.some((row) => typeof row['customertypecode@OData.Community.Display.V1.FormattedValue'] === 'string'),
    ).toBe(true);
    expect(
      rows.some((row) => typeof row.sample_channels === 'string' && /^\d+(,\d+)*$/.test(row.sample_channels)),
    ).toBe(true);
    expect(
      rows.every((row) => typeof row.sample_foundedon === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(row.sample_foundedon)),
    ).toBe(true);
  });
});

describe('deltas', () => {
  async function baseline(pageSize = 5000) {
    const pages = await collect(
      clientFor(emulator.baseUrl).initialLoad(account, { pageSize, select: ['name', 'revenue'] }),
    );
    return pages.at(-1)!.deltaLink!;
  }

  it('returns updates and creates in version order, then deletes; an unchanged table gives an empty delta', async () => {
    const deltaLink = await baseline();
    const [first, second, gone] = [1, 2, 3].map((index) => sampleRowId(SEED, 'account', index));
    await write(emulator.baseUrl, 'PATCH', `accounts(${second})`, { name: 'Second, renamed' });
    await write(emulator.baseUrl, 'PATCH', `accounts(${first})`, { name: 'First, renamed', revenue: 12.5 });
    await write(emulator.baseUrl, 'DELETE', `accounts(${gone})`);
    const created = await write(emulator.baseUrl, 'POST', 'accounts', {
      name: 'Brand new',
      'primarycontactid@odata.bind': `/contacts(${sampleRowId(SEED, 'contact', 4)})`,
    });
    const createdId = /\(([^)]+)\)$/.exec(created.headers.get('OData-EntityId') ?? '')?.[1];

    const client = clientFor(emulator.baseUrl);
    const pages = await collect(client.readDelta(account, deltaLink));
    expect(pages).toHaveLength(1);
    const changes = pages[0]!.changes;
    expect(changes.map((change) => [change.kind, change.id])).toEqual([
      ['upsert', second],
      ['upsert', first],
      ['upsert', createdId],
      ['delete', gone],
    ]);
    expect(changes[1]).toMatchObject({
      row: { name: 'First, renamed', revenue: 12.5, _transactioncurrencyid_value: expect.any(String) },
    });
    const versions = changes.flatMap((change) => (change.kind === 'upsert' ? [change.versionNumber] : []));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(pages[0]!.watermark).toBe(emulator.store.currentVersion);
    expect(pages[0]!.deltaLink).not.toBe(deltaLink);

    const again = await collect(client.readDelta(account, pages[0]!.deltaLink!));
    expect(again.map((page) => page.changes)).toEqual([[]]);
  });

  it('reports a delete for a row created and deleted between polls, never seen by the client', async () => {
    const deltaLink = await baseline();
    const created = await write(emulator.baseUrl, 'POST', 'accounts', { name: 'Short-lived' });
    const id = /\(([^)]+)\)$/.exec(created.headers.get('OData-EntityId') ?? '')?.[1];
    await write(emulator.baseUrl, 'DELETE', `accounts(${id})`);
    const [page] = await collect(clientFor(emulator.baseUrl).readDelta(account, deltaLink));
    expect(page!.changes).toEqual([{ kind: 'delete', id }]);
  });

  it('shows a deleted-then-recreated row as its latest state', async () => {
    const deltaLink = await baseline();
    const id = sampleRowId(SEED, 'account', 10);
    await write(emulator.baseUrl, 'DELETE', `accounts(${id})`);
    await write(emulator.baseUrl, 'POST', 'accounts', { accountid: id, name: 'Back again' });
    const [page] = await collect(clientFor(emulator.baseUrl).readDelta(account, deltaLink));
    expect(page!.changes).toEqual([
      expect.objectContaining({ kind: 'upsert', id, row: expect.objectContaining({ name: 'Back again' }) }),
    ]);
  });

  it('follows nextLink inside a large delta until the deltaLink', async () => {
    const deltaLink = await baseline();
    for (let index = 100; index < 125; index++) {
      await write(emulator.baseUrl, 'PATCH', `accounts(${sampleRowId(SEED, 'account', index)})`, {
        telephone1: `+49-${index}`,
      });
    }
    await write(emulator.baseUrl, 'DELETE', `accounts(${sampleRowId(SEED, 'account', 200)})`);
    const pages = await collect(clientFor(emulator.baseUrl).readDelta(account, deltaLink, { pageSize: 10 }));
    expect(pages.map((page) => page.changes.length)).toEqual([10, 10, 6]);
    expect(pages.map((page) => [Boolean(page.nextLink), Boolean(page.deltaLink)])).toEqual([
      [true, false],
      [true, false],
      [false, true],
    ]);
    expect(pages[2]!.changes.at(-1)).toEqual({ kind: 'delete', id: sampleRowId(SEED, 'account', 200) });
  });

  it('leaves changes made during an initial load to the first delta', async () => {
    const client = clientFor(emulator.baseUrl);
    const load = client.initialLoad(account, { pageSize: 1000 });
    await load.next();
    const id = sampleRowId(SEED, 'account', 5);
    await write(emulator.baseUrl, 'PATCH', `accounts(${id})`, { name: 'Changed mid-load' });
    const rest = await collect(load);
    const [delta] = await collect(client.readDelta(account, rest.at(-1)!.deltaLink!));
    expect(delta!.changes).toEqual([expect.objectContaining({ kind: 'upsert', id })]);
  });
});

describe('rows by id', () => {
  it('returns current rows and lists the ids that no longer exist', async () => {
    const [kept, gone] = [20, 21].map((index) => sampleRowId(SEED, 'account', index));
    await write(emulator.baseUrl, 'DELETE', `accounts(${gone})`);
    const result = await clientFor(emulator.baseUrl).readRowsById(account, [kept!, gone!], { select: ['name'] });
    expect(result.missing).toEqual([gone]);
    expect(result.rows).toEqual([
      expect.objectContaining({ kind: 'upsert', id: kept, row: expect.objectContaining({ name: expect.any(String) }) }),
    ]);
    expect(result.rows[0]?.row['@odata.context']).toBeUndefined();
  });

  it('returns the lookup annotations when asked, as pages do (owneridtype and <lookup>_entitytype come from them)', async () => {
    const id = sampleRowId(SEED, 'account', 22);
    const client = clientFor(emulator.baseUrl);
    const annotated = await client.readRowsById(account, [id], { select: ['_ownerid_value'], annotations: true });
    expect(annotated.rows[0]?.row['_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname']).toBe('systemuser');
    const plain = await client.readRowsById(account, [id], { select: ['_ownerid_value'] });
    expect(plain.rows[0]?.row).not.toHaveProperty(['_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname']);
  });
});
