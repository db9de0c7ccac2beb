/**
 * The lag bookkeeping the poller and the applier share in the table status: `oldestUnappliedChangeAt` is when the
 * oldest poll whose changes are still queued read them, and `queuedPolls` lists the polls that queued changes from
 * that one on, so applying one poll's batch moves the lag on to the next poll still queued, not to "caught up"
 * while a later poll's batch waits behind it.
 *
 * Known approximations, all on the side of showing lag: the status is merged without ETags, so a poll and an apply
 * at the same moment may leave an applied poll's time standing until the next batch is applied (the applier reads
 * again after clearing, so never the other way round). Where a poll queued several batches, applying any of them
 * counts the poll applied. Past MAX_QUEUED_POLLS the second oldest times are dropped, so one apply may skip a poll.
 */
import { MAX_QUEUED_POLLS, type TableStatus, type TableStatusPatch } from '../../state/table-status';

type LagFields = Pick<TableStatus, 'oldestUnappliedChangeAt' | 'queuedPolls'> | undefined;

/** What the poller writes after a poll read at `readAt` queued changes. */
export function afterPollQueued(status: LagFields, readAt: string): TableStatusPatch {
  const oldest = status?.oldestUnappliedChangeAt;
  // With nothing unapplied, every listed poll was applied; otherwise drop only those before the oldest unapplied.
  const stillQueued = oldest === undefined ? [] : (status?.queuedPolls ?? []).filter((at) => at >= oldest);
  const queuedPolls = [...stillQueued.filter((at) => at < readAt), readAt];
  while (queuedPolls.length > MAX_QUEUED_POLLS) queuedPolls.splice(1, 1);
  return { oldestUnappliedChangeAt: oldest !== undefined && oldest < readAt ? oldest : readAt, queuedPolls };
}

/**
 * What the applier writes after applying a batch read at `readAt`: the lag moves on to the first poll after it that is
 * still queued, or clears when none is; undefined when the batch is older than the oldest unapplied change (a late
 * redelivery or a retry of what was counted applied already) and changes nothing.
 */
export function afterBatchApplied(status: LagFields, readAt: string): TableStatusPatch | undefined {
  const oldest = status?.oldestUnappliedChangeAt;
  if (oldest === undefined || readAt < oldest) return undefined;
  return { oldestUnappliedChangeAt: nextQueuedPoll(status, readAt) ?? null };
}

/** The first poll after `readAt` still listed as queued. */
export const nextQueuedPoll = (status: LagFields, readAt: string): string | undefined =>
  status?.queuedPolls?.find((at) => at > readAt);
