/**
 * Whether a table is keeping up, from what the poller, the applier and the initial sync left in the state
 * stores: its lag and its health (`ok`, `degraded`, `failed`). Pure, so status and /api/health agree.
 *
 * The poller moves a delta table's checkpoint after every successful poll, changes or not
 * (shared/sync/capture/poller.ts), so the checkpoint's `updatedAt` is the last successful poll. A poll that
 * fails writes `lastError` and leaves the checkpoint alone. The applier clears `oldestUnappliedChangeAt` as it
 * catches up (shared/sync/apply/unapplied-polls.ts), so changes waiting longer than the polls are allowed to fail
 * mean the applying is what fails.
 */
import { Cron } from 'croner';

export type TableHealthState = 'ok' | 'degraded' | 'failed';

export interface TableHealth {
  state: TableHealthState;
  /** Why it is not ok, in words safe to return from the API; null when ok. */
  reason: string | null;
}

export interface HealthRules {
  /** The longest gap between two runs of the poll timer. */
  pollIntervalMs: number;
  /** Poll intervals without a successful poll before a delta table is degraded. */
  degradedAfterPolls: number;
}

export interface TableFacts {
  /** Only an active profile is polled: an inactive one is never degraded for not being polled. */
  active: boolean;
  phase: 'initial' | 'delta' | 'resync' | 'not started';
  /** The checkpoint's last write: in delta, the last successful poll. */
  checkpointUpdatedAt?: string;
  /** When the initial sync (or resync) of the table started. */
  copyStartedAt?: string;
  oldestUnappliedChangeAt?: string;
  lastError?: { message: string; at: string };
  throttledUntil?: string;
  /** The initial sync or resync orchestration of a table not yet in delta is over without bringing it there. */
  copyEnded?: { runtimeStatus: string; at: string };
}

const millis = (iso: string | undefined): number | undefined => {
  const value = iso === undefined ? NaN : Date.parse(iso);
  return Number.isNaN(value) ? undefined : value;
};

/** The last successful poll of a delta table in an active profile; undefined where nothing polls it. */
function lastPollOf(facts: TableFacts): number | undefined {
  return facts.active && facts.phase === 'delta' ? millis(facts.checkpointUpdatedAt) : undefined;
}

/** No successful poll since the last error, or none for the degraded window (the poller itself may be down). */
function pollsFailing(facts: TableFacts, now: number, rules: HealthRules): boolean {
  const lastPoll = lastPollOf(facts);
  if (lastPoll === undefined) return false;
  const errorAt = millis(facts.lastError?.at);
  return (errorAt !== undefined && errorAt > lastPoll) || now - lastPoll >= degradedWindowMs(rules);
}

const degradedWindowMs = (rules: HealthRules) => rules.pollIntervalMs * rules.degradedAfterPolls;

/** Whether the copy stopped short of delta: the table can only be behind by everything since it started. */
const copyFailed = (facts: TableFacts) => facts.active && facts.phase !== 'delta' && facts.copyEnded !== undefined;

/**
 * Seconds the destination is behind: since the oldest change read and not applied yet, or, while polls fail, since
 * the last successful poll (changes made since then are not even read), or, when the copy failed, since it started.
 * So it grows while a table fails and reads 0 only when the table is caught up.
 */
export function lagSeconds(facts: TableFacts, now: Date, rules: HealthRules): number {
  const at = now.getTime();
  const since = [millis(facts.oldestUnappliedChangeAt)];
  if (pollsFailing(facts, at, rules)) since.push(lastPollOf(facts));
  if (copyFailed(facts)) since.push(millis(facts.copyStartedAt));
  const oldest = Math.min(...since.filter((value): value is number => value !== undefined));
  return Number.isFinite(oldest) ? Math.max(0, Math.round((at - oldest) / 1000)) : 0;
}

export function tableHealth(facts: TableFacts, now: Date, rules: HealthRules): TableHealth {
  if (copyFailed(facts) && facts.copyEnded) {
    const { runtimeStatus, at } = facts.copyEnded;
    const cause = facts.lastError ? `: ${facts.lastError.message}` : '; the host log has the cause';
    return {
      state: 'failed',
      reason: `The ${facts.phase === 'resync' ? 'resync' : 'initial sync'} stopped (${runtimeStatus} at ${at}) before the table reached delta${cause}`,
    };
  }
  const at = now.getTime();
  const lastPoll = lastPollOf(facts);
  if (lastPoll === undefined || !pollsFailing(facts, at, rules) || at - lastPoll < degradedWindowMs(rules))
    return applyHealth(facts, at, rules);
  const since = `No successful poll since ${new Date(lastPoll).toISOString()} (${Math.round((at - lastPoll) / 1000)} s)`;
  const throttledUntil = millis(facts.throttledUntil);
  if (throttledUntil !== undefined && throttledUntil > at)
    return { state: 'degraded', reason: `${since}: Dataverse throttles it until ${facts.throttledUntil}` };
  const errorAt = millis(facts.lastError?.at);
  if (facts.lastError && errorAt !== undefined && errorAt > lastPoll)
    return { state: 'degraded', reason: `${since}: ${facts.lastError.message}` };
  return { state: 'degraded', reason: `${since}, and no poll reported an error: is the poll timer running?` };
}

/**
 * Polls succeed, but changes they read have waited for the degraded window without being applied: the destination
 * refuses the batches (their rows go to the failed-records store) or nothing is processing the change queue.
 */
function applyHealth(facts: TableFacts, at: number, rules: HealthRules): TableHealth {
  const oldest = millis(facts.oldestUnappliedChangeAt);
  if (!facts.active || oldest === undefined || at - oldest < degradedWindowMs(rules))
    return { state: 'ok', reason: null };
  const waiting = `Changes read at ${facts.oldestUnappliedChangeAt} are not applied yet (${Math.round((at - oldest) / 1000)} s)`;
  const errorAt = millis(facts.lastError?.at);
  if (facts.lastError && errorAt !== undefined && errorAt >= oldest)
    return { state: 'degraded', reason: `${waiting}: ${facts.lastError.message}` };
  return {
    state: 'degraded',
    reason: `${waiting}, and no apply reported an error: is the change queue being processed?`,
  };
}

/** The longest gap between runs of an NCRONTAB schedule (six fields, seconds first), over its next runs. */
export function scheduleIntervalMs(schedule: string, from = new Date()): number {
  const cron = new Cron(schedule, { paused: true });
  try {
    const runs = cron.nextRuns(16, from).map((run) => run.getTime());
    let longest = 0;
    for (let i = 1; i < runs.length; i++) longest = Math.max(longest, (runs[i] ?? 0) - (runs[i - 1] ?? 0));
    return longest;
  } finally {
    cron.stop();
  }
}

/** The rules from the settings: the poll timer's schedule and STATUS_DEGRADED_AFTER_POLLS. */
export const healthRules = (pollSchedule: string, degradedAfterPolls: number): HealthRules => ({
  pollIntervalMs: scheduleIntervalMs(pollSchedule),
  degradedAfterPolls,
});
