/**
 * A copied partition's rows added to its table's checkpoint (`rowsCopied`, `pages`), which the status endpoint and
 * `npm start`'s progress read (shared/sync/admin/status.ts), so they move while partitions copy instead of staying
 * at 0 until the table finishes. Several partitions of a table finish at once: each adds under the checkpoint's ETag
 * and reads it again on a conflict, so no addition overwrites another.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CheckpointStore } from '../../state/checkpoints';
import { WriteConflict } from '../admin/conflicts';

const MAX_ATTEMPTS = 20;

/**
 * Called once per partition, after the partition was marked copied (one writer wins that), so a partition is
 * counted at most once. A crash in between, or giving up after MAX_ATTEMPTS conflicts, leaves the figure short:
 * it is a lower bound while the table copies, and finishing the table writes the exact total (partitioned-copy.ts).
 */
export async function addCopiedPartition(
  checkpoints: CheckpointStore,
  where: { profile: string; table: string; startedAt: string },
  rows: number,
): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await checkpoints.read(where.profile, where.table);
    // The table finished, or was started over since (its new start counts its own partitions).
    if (!current || current.value.phase === 'delta' || current.value.startedAt !== where.startedAt) return;
    const { updatedAt: _stamped, ...fields } = current.value;
    try {
      await checkpoints.update(
        where.profile,
        where.table,
        { ...fields, rowsCopied: fields.rowsCopied + rows, pages: fields.pages + 1 },
        current.etag,
      );
      return;
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
      // Spread the retries of partitions that finished together, so they do not collide again.
      await sleep(Math.floor(Math.random() * 50 * (attempt + 1)));
    }
  }
}
