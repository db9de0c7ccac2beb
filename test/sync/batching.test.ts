import { describe, expect, it } from 'vitest';
import { changeBatchSchema } from '../../shared/queue/change-batch';
import { deleteBatches, latestById, upsertBatches } from '../../shared/sync/capture/batching';
import type { RowUpsert } from '../../shared/dataverse/changes';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const upsert = (n: number, versionNumber: number): RowUpsert => ({
  kind: 'upsert',
  id: id(n),
  versionNumber,
  row: { name: `row ${n} v${versionNumber}` },
});
const source = { profile: 'sales', table: 'account', readAt: new Date('2026-01-02T03:04:05Z') };

describe('change batching', () => {
  it('keeps the newest version of a row listed twice and splits into valid batches', () => {
    expect(
      latestById([upsert(1, 10), upsert(2, 11), upsert(1, 12), upsert(1, 9)]).map((u) => [u.id, u.versionNumber]),
    ).toEqual([
      [id(1), 12],
      [id(2), 11],
    ]);
    const batches = upsertBatches(
      source,
      Array.from({ length: 2500 }, (_, n) => upsert(n, 100 + n)),
      5000,
      1000,
    );
    expect(batches.map((batch) => batch.upserts.length)).toEqual([1000, 1000, 500]);
    for (const batch of batches) expect(changeBatchSchema.parse(batch)).toEqual(batch);
    expect(new Set(batches.map((batch) => batch.batchId)).size).toBe(3);
  });

  it('derives batch ids from content: same changes, same id; any different change, a different id', () => {
    const a = upsertBatches(source, [upsert(1, 10), upsert(2, 11)], 50)[0];
    const again = upsertBatches({ ...source, readAt: new Date() }, [upsert(2, 11), upsert(1, 10)].reverse(), 50)[0];
    const newer = upsertBatches(source, [upsert(1, 10), upsert(2, 12)], 50)[0];
    expect(again?.batchId).toBe(a?.batchId);
    expect(newer?.batchId).not.toBe(a?.batchId);
  });

  it('drops deletes of rows the same delta upserts (deleted, then created again) and stamps the rest with the new watermark', () => {
    const batches = deleteBatches(source, [id(1), id(2), id(2), id(3)], new Set([id(3)]), 777);
    expect(batches).toHaveLength(1);
    expect(batches[0]?.deletes).toEqual([{ id: id(1) }, { id: id(2) }]);
    expect(batches[0]?.watermark).toBe(777);
    expect(deleteBatches(source, [id(1)], new Set(), 778)[0]?.batchId).not.toBe(
      deleteBatches(source, [id(1)], new Set(), 777)[0]?.batchId,
    );
  });
});
