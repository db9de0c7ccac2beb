/** The storage requests an append-only batch makes to write its CSV records, on a real (Azurite) blob service. */
import type { AppendBlobClient, BlobClient, ContainerClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { createLakeDestination } from '../../shared/destinations/lake/destination';
import { sampleCounts, sampleRow, sampleTable, toWebApiRow } from '../../local/sample-org';
import { useAzurite } from '../support/azurite';
import { parseCsv } from './lake-checks';
import { readBlob } from './lake-readers';

const azurite = useAzurite();

const bound = (target: object, property: string | symbol): unknown => {
  const value: unknown = Reflect.get(target, property);
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
};

/**
 * `container`, noting in `events`, in call order, every listing, every append blob write (create or Append Block) and
 * every download or property read of a blob.
 */
function recorded(container: ContainerClient, events: string[]): ContainerClient {
  const noted =
    (event: string, action: (...args: unknown[]) => unknown) =>
    (...args: unknown[]): unknown => {
      events.push(event);
      return action(...args);
    };
  return new Proxy(container, {
    get(target, property) {
      if (property === 'listBlobsByHierarchy' || property === 'listBlobsFlat')
        return noted('list', bound(target, property) as (...args: unknown[]) => unknown);
      if (property === 'getBlobClient') {
        return (name: string): BlobClient =>
          new Proxy(target.getBlobClient(name), {
            get: (blob, member) =>
              member === 'download' || member === 'getProperties'
                ? noted(`${member} ${name}`, bound(blob, member) as (...args: unknown[]) => unknown)
                : bound(blob, member),
          });
      }
      if (property === 'getAppendBlobClient') {
        return (name: string): AppendBlobClient =>
          new Proxy(target.getAppendBlobClient(name), {
            get: (blob, member) =>
              member === 'createIfNotExists' || member === 'appendBlock'
                ? noted(`write ${name}`, bound(blob, member) as (...args: unknown[]) => unknown)
                : bound(blob, member),
          });
      }
      return bound(target, property);
    },
  });
}

/** An append-only lake (yearly partitions) over a container whose requests are noted in `events`, `account` ensured. */
async function recordedAppendOnlyLake(container: string) {
  const events: string[] = [];
  const raw = azurite.clients.blobs.getContainerClient(container);
  const destination = createLakeDestination(recorded(raw, events), {
    mode: 'appendOnly',
    granularity: 'Year',
    incrementalIntervalMinutes: 60,
    snapshotIntervalMinutes: 60,
  });
  const account = sampleTable('account');
  await destination.ensureTables([account], []);
  return { events, raw, destination, account };
}

describe('lake append-only writes', () => {
  it("lists the table folder once for all of a first batch's new partition files", async () => {
    const { events, raw, destination, account } = await recordedAppendOnlyLake('append-requests');
    const years = [2021, 2022, 2023, 2024];
    const counts = sampleCounts(years.length * 3);
    const upserts = years.flatMap((year, yearIndex) =>
      [0, 1, 2].map((offset) => {
        const index = yearIndex * 3 + offset;
        const row = toWebApiRow(account, sampleRow('account', index, 1, counts), {
          versionNumber: 100 + index,
          annotations: true,
        });
        row.createdon = `${year}-03-04T05:06:07Z`;
        return { kind: 'upsert' as const, id: String(row.accountid), versionNumber: 100 + index, row };
      }),
    );
    events.length = 0;
    const result = await destination.applyBatch(account, { upserts, deletes: [] });
    expect(result.failed).toEqual([]);

    const firstWrite = events.findIndex((event) => event.startsWith('write '));
    expect(events.slice(0, firstWrite).filter((event) => event === 'list')).toHaveLength(1);
    for (const year of years) {
      expect(events).toContain(`write account/${year}.csv`);
      expect(parseCsv((await readBlob(raw, `account/${year}.csv`)) ?? '')).toHaveLength(3);
    }
    await destination.close();
  }, 60_000);

  it('does not download the table state blob again for every batch while it does not exist', async () => {
    const { events, destination, account } = await recordedAppendOnlyLake('append-state-reads');
    const counts = sampleCounts(9);
    events.length = 0;
    for (const batch of [0, 1, 2]) {
      const upserts = [0, 1, 2].map((offset) => {
        const index = batch * 3 + offset;
        const row = toWebApiRow(account, sampleRow('account', index, 1, counts), {
          versionNumber: 100 + index,
          annotations: true,
        });
        return { kind: 'upsert' as const, id: String(row.accountid), versionNumber: 100 + index, row };
      });
      expect((await destination.applyBatch(account, { upserts, deletes: [] })).failed).toEqual([]);
    }
    // No deletes and no resync: the state blob never comes to exist, and its absence is cached like any etag.
    const statePath = 'dataverse-export-state/account.json';
    expect(events.filter((event) => event === `download ${statePath}`)).toHaveLength(1);
    expect(events.filter((event) => event === `getProperties ${statePath}`)).toHaveLength(2);
    await destination.close();
  }, 60_000);
});
