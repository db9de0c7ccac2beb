import { describe, expect, it } from 'vitest';
import { createLakeDestination, type LakeTarget } from '../../shared/destinations/lake/destination';
import { dfsRoot } from '../../shared/destinations/lake/paths';
import { sampleCounts, sampleRow, sampleTable, sampleTables, toWebApiRow } from '../../local/sample-org';
import { useAzurite } from '../support/azurite';
import { interceptWrites } from './intercept';
import { csvProblems, modelProblems } from './lake-checks';
import { readBlob, readIncrementalFolders } from './lake-readers';
import { applyChanges, differences, initialSync } from './sample-sync';

const azurite = useAzurite();
const target: LakeTarget = {
  mode: 'incremental',
  granularity: 'Year',
  incrementalIntervalMinutes: 15,
  snapshotIntervalMinutes: 60,
};
const MINUTE = 60_000;

describe('lake destination, incremental update folders', () => {
  it('writes one folder per interval; readers of folders older than changelog.info get the source back', async () => {
    const container = azurite.clients.blobs.getContainerClient('incremental');
    const root = dfsRoot(container.url, container.accountName, container.containerName);
    const t0 = new Date('2026-03-01T10:00:00Z');
    let now = t0;
    const destination = createLakeDestination(container, target, { clock: () => now });
    const source = await initialSync(destination, t0);
    expect(await readBlob(container, 'Changelog/changelog.info')).toBe('2026-03-01T10.00.00Z');

    // Inside the interval nothing rolls over, and readers see no folder yet.
    expect(await destination.rollover(new Date(t0.getTime() + 5 * MINUTE))).toEqual({
      finished: null,
      current: '2026-03-01T10.00.00Z',
    });
    expect((await readIncrementalFolders(container)).folders).toEqual([]);

    now = new Date(t0.getTime() + 15 * MINUTE);
    expect(await destination.rollover(now)).toEqual({
      finished: '2026-03-01T10.00.00Z',
      current: '2026-03-01T10.15.00Z',
    });
    const firstModel = (await readBlob(container, '2026-03-01T10.00.00Z/model.json')) ?? '';
    expect(modelProblems(firstModel, { containerRoot: root, requireCompleted: true })).toEqual([]);
    expect(await readBlob(container, '2026-03-01T10.00.00Z/OptionsetMetadata/GlobalOptionsetMetadata.csv')).toContain(
      'sample_industry',
    );

    now = new Date(t0.getTime() + 20 * MINUTE);
    await applyChanges(destination, source);
    // The folder being written is invisible to readers until the next rollover.
    const midway = await readIncrementalFolders(container);
    expect(midway.folders).toEqual(['2026-03-01T10.00.00Z']);

    now = new Date(t0.getTime() + 31 * MINUTE);
    expect((await destination.rollover(now)).finished).toBe('2026-03-01T10.15.00Z');
    const secondModel = JSON.parse((await readBlob(container, '2026-03-01T10.15.00Z/model.json')) ?? '{}');
    expect(modelProblems(JSON.stringify(secondModel), { containerRoot: root, requireCompleted: true })).toEqual([]);
    // Idle tables are listed with an empty partitions array.
    const partitionsOf = (name: string) =>
      secondModel.entities.find((entity: { name: string }) => entity.name === name).partitions;
    expect(partitionsOf('role')).toEqual([]);
    expect(partitionsOf('account').length).toBeGreaterThan(0);
    for (const entity of secondModel.entities) {
      for (const partition of entity.partitions) {
        expect(
          csvProblems(
            (await readBlob(container, `2026-03-01T10.15.00Z/${entity.name}/${partition.name}.csv`)) ?? '',
            entity.attributes,
          ),
        ).toEqual([]);
      }
    }

    const { folders, tables } = await readIncrementalFolders(container);
    expect(folders).toEqual(['2026-03-01T10.00.00Z', '2026-03-01T10.15.00Z']);
    for (const table of sampleTables) {
      expect(
        secondModel.entities.some((candidate: { name: string }) => candidate.name === table.logicalName),
        table.logicalName,
      ).toBe(true);
      expect(
        differences(table, tables.get(table.logicalName) ?? new Map(), source.get(table.logicalName) ?? new Map()),
      ).toEqual([]);
    }

    // With nothing written since, the current folder stays current (no empty folders).
    now = new Date(t0.getTime() + 90 * MINUTE);
    expect(await destination.rollover(now)).toEqual({ finished: null, current: '2026-03-01T10.31.00Z' });
    await destination.close();
  });

  it('needs an activated profile before it can write a folder', async () => {
    const container = azurite.clients.blobs.getContainerClient('incremental-new');
    await container.create();
    const destination = createLakeDestination(container, target);
    await expect(destination.rollover(new Date())).rejects.toMatchObject({ errorClass: 'config' });
    await destination.ensureTables([sampleTable('role')], []);
    expect(await readBlob(container, 'Changelog/changelog.info')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}Z$/);
  });

  it('finishes a rollover whose changelog.info write failed at the next run, instead of failing at every run', async () => {
    const raw = azurite.clients.blobs.getContainerClient('incremental-lost-write');
    const t0 = new Date('2026-03-01T10:00:00Z');
    let writes = 0;
    // The second write of changelog.info (the first rollover's; the first is activation's) is lost.
    const container = interceptWrites(raw, 'Changelog/changelog.info', async () => {
      if (++writes === 2) throw new Error('socket hang up');
    });
    const destination = createLakeDestination(container, target, { clock: () => t0 });
    const account = sampleTable('account');
    await destination.ensureTables([account], []);
    const upserts = Array.from({ length: 5 }, (_, index) => {
      const row = toWebApiRow(account, sampleRow('account', index, 7, sampleCounts(20)), {
        versionNumber: 10 + index,
        annotations: true,
      });
      return { kind: 'upsert' as const, id: String(row.accountid), versionNumber: 10 + index, row };
    });
    await destination.applyBatch(account, { upserts, deletes: [] });
    await expect(destination.rollover(new Date(t0.getTime() + 15 * MINUTE))).rejects.toThrow();
    expect(await readBlob(raw, 'Changelog/changelog.info')).toBe('2026-03-01T10.00.00Z');
    expect(await destination.rollover(new Date(t0.getTime() + 16 * MINUTE))).toEqual({
      finished: '2026-03-01T10.00.00Z',
      current: '2026-03-01T10.16.00Z',
    });
    const { folders, tables } = await readIncrementalFolders(raw);
    expect(folders).toEqual(['2026-03-01T10.00.00Z']);
    expect(tables.get('account')?.size).toBe(upserts.length);
  });
});
