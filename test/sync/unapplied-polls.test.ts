/** The lag bookkeeping of shared/sync/apply/unapplied-polls.ts, as the poller and the applier take turns with it. */
import { describe, expect, it } from 'vitest';
import { MAX_QUEUED_POLLS, type TableStatus, type TableStatusPatch } from '../../shared/state/table-status';
import { afterBatchApplied, afterPollQueued } from '../../shared/sync/apply/unapplied-polls';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 21, 10, minute)).toISOString();

/** Merges a patch as the status store does (null and [] clear). */
function merged(status: Partial<TableStatus> | undefined, patch: TableStatusPatch | undefined): Partial<TableStatus> {
  const next = { ...status };
  if (patch?.oldestUnappliedChangeAt !== undefined)
    next.oldestUnappliedChangeAt = patch.oldestUnappliedChangeAt ?? undefined;
  if (patch?.queuedPolls !== undefined) next.queuedPolls = patch.queuedPolls.length > 0 ? patch.queuedPolls : undefined;
  return next;
}

describe('the oldest unapplied change', () => {
  it('moves from poll to poll as their batches are applied, and clears after the last one', () => {
    let status: Partial<TableStatus> | undefined;
    for (const minute of [1, 2, 3]) status = merged(status, afterPollQueued(status, at(minute)));
    expect(status).toEqual({ oldestUnappliedChangeAt: at(1), queuedPolls: [at(1), at(2), at(3)] });

    status = merged(status, afterBatchApplied(status, at(1)));
    expect(status.oldestUnappliedChangeAt).toBe(at(2));
    status = merged(status, afterBatchApplied(status, at(2)));
    expect(status.oldestUnappliedChangeAt).toBe(at(3));
    status = merged(status, afterBatchApplied(status, at(3)));
    expect(status.oldestUnappliedChangeAt).toBeUndefined();
  });

  it('is left alone by a batch older than it (a late redelivery)', () => {
    const status = { oldestUnappliedChangeAt: at(5), queuedPolls: [at(5)] };
    expect(afterBatchApplied(status, at(4))).toBeUndefined();
    expect(afterBatchApplied(undefined, at(4))).toBeUndefined();
  });

  it('forgets the polls applied before the next poll, and starts afresh once caught up', () => {
    const behind = { oldestUnappliedChangeAt: at(3), queuedPolls: [at(1), at(2), at(3)] };
    expect(afterPollQueued(behind, at(4))).toEqual({
      oldestUnappliedChangeAt: at(3),
      queuedPolls: [at(3), at(4)],
    });
    const caughtUp = { queuedPolls: [at(1), at(2)] };
    expect(afterPollQueued(caughtUp, at(4))).toEqual({ oldestUnappliedChangeAt: at(4), queuedPolls: [at(4)] });
  });

  it('keeps the oldest and the newest poll when the list is full', () => {
    const queuedPolls = Array.from({ length: MAX_QUEUED_POLLS }, (_, minute) => at(minute));
    const patch = afterPollQueued({ oldestUnappliedChangeAt: at(0), queuedPolls }, at(MAX_QUEUED_POLLS));
    expect(patch.queuedPolls).toHaveLength(MAX_QUEUED_POLLS);
    expect(patch.queuedPolls?.[0]).toBe(at(0));
    expect(patch.queuedPolls?.at(-1)).toBe(at(MAX_QUEUED_POLLS));
  });
});
