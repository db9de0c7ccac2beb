import { describe, expect, it } from 'vitest';
import type { RowUpsert } from '../../shared/dataverse/changes';
import { createLakeDestination } from '../../shared/destinations/lake/destination';
import { sampleCounts, sampleRow, sampleTable, toWebApiRow } from '../../local/sample-org';
import { useAzurite } from '../support/azurite';
import { readBlob, readIncrementalFolders } from './lake-readers';
import { SAMPLE_ACCOUNTS, initialSync } from './sample-sync';

const azurite = useAzurite();
const MINUTE = 60_000;
const account = sampleTable('account');
const counts = sampleCounts(SAMPLE_ACCOUNTS);

const upsertsOf = (first: number, rows: number, versionNumber: number): RowUpsert[] =>
  Array.from({ length: rows }, (_, offset) => {
    const row = toWebApiRow(account, sampleRow('account', first + offset, 7, counts), {
      versionNumber,
      annotations: true,
    });
    return { kind: 'upsert', id: String(row.accountid), versionNumber, row };
  });

describe('lake destination behind the port, with maintenance', () => {
  it('never rolls a folder over while a batch is applied: batches asked for during maintenance wait for it', async () => {
    const container = azurite.clients.blobs.getContainerClient('maintained');
    const t0 = new Date('2026-04-01T08:00:00Z');
    let now = t0;
    const lake = createLakeDestination(
      container,
      { mode: 'incremental', granularity: 'Year', incrementalIntervalMinutes: 15, snapshotIntervalMinutes: 60 },
      { clock: () => now },
    );
    const destination = lake;
    await initialSync(lake, t0);
    now = new Date(t0.getTime() + 15 * MINUTE);
    expect(await destination.maintain?.(now)).toEqual({
      done: ['finished folder 2026-04-01T08.00.00Z, now writing 2026-04-01T08.15.00Z'],
    });
    now = new Date(t0.getTime() + 20 * MINUTE);
    await destination.applyBatch(account, { upserts: upsertsOf(0, counts.account, 60_000), deletes: [] });

    // Maintenance first (many storage round trips), then a one-row batch (a few): the batch waits its turn.
    now = new Date(t0.getTime() + 31 * MINUTE);
    const late = upsertsOf(0, 1, 70_000);
    const settled: string[] = [];
    const maintaining = destination.maintain?.(now).then((report) => (settled.push('maintain'), report));
    const applying = destination
      .applyBatch(account, { upserts: late, deletes: [] })
      .then((result) => (settled.push('apply'), result));
    const [report, applied] = await Promise.all([maintaining, applying]);
    expect(settled).toEqual(['maintain', 'apply']);
    expect(report).toEqual({ done: ['finished folder 2026-04-01T08.15.00Z, now writing 2026-04-01T08.31.00Z'] });
    expect(applied.upserted).toBe(1);

    // The finished folder holds the earlier batch; the late row is in the next folder, visible after its rollover.
    const lateId = String(late[0]?.id).toLowerCase();
    expect((await readIncrementalFolders(container)).tables.get('account')?.get(lateId)?.versionnumber).toBe('60000');
    const current: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: '2026-04-01T08.31.00Z/account/' }))
      current.push((await readBlob(container, blob.name)) ?? '');
    expect(current.join('')).toContain(lateId);
    now = new Date(t0.getTime() + 46 * MINUTE);
    await destination.maintain?.(now);
    expect((await readIncrementalFolders(container)).tables.get('account')?.get(lateId)?.versionnumber).toBe('70000');
  });
});
