import { describe, expect, it } from 'vitest';
import {
  lagSeconds,
  scheduleIntervalMs,
  tableHealth,
  type HealthRules,
  type TableFacts,
} from '../../shared/sync/admin/table-health';

const rules: HealthRules = { pollIntervalMs: 5_000, degradedAfterPolls: 3 };
const now = new Date('2026-12-01T12:00:00.000Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();
const delta = (facts: Partial<TableFacts> = {}): TableFacts => ({
  active: true,
  phase: 'delta',
  checkpointUpdatedAt: ago(2),
  copyStartedAt: ago(3600),
  ...facts,
});

describe('lag', () => {
  it('is 0 for a caught-up table polled a moment ago', () => {
    expect(lagSeconds(delta(), now, rules)).toBe(0);
  });

  it('runs from the oldest change read and not applied yet', () => {
    expect(lagSeconds(delta({ oldestUnappliedChangeAt: ago(42) }), now, rules)).toBe(42);
  });

  it('runs from the last successful poll while polls fail, so it grows instead of reading 0', () => {
    const failing = delta({ checkpointUpdatedAt: ago(30), lastError: { message: 'refused', at: ago(1) } });
    expect(lagSeconds(failing, now, rules)).toBe(30);
    expect(lagSeconds(failing, new Date(now.getTime() + 10_000), rules)).toBe(40);
  });

  it('takes the older of the two when changes wait and polls fail', () => {
    const both = delta({
      checkpointUpdatedAt: ago(30),
      oldestUnappliedChangeAt: ago(50),
      lastError: { message: 'refused', at: ago(1) },
    });
    expect(lagSeconds(both, now, rules)).toBe(50);
  });

  it('ignores an error older than the last successful poll (the source recovered)', () => {
    expect(lagSeconds(delta({ lastError: { message: 'refused', at: ago(60) } }), now, rules)).toBe(0);
  });

  it('counts a table nobody polled for the degraded window as failing, error or not', () => {
    expect(lagSeconds(delta({ checkpointUpdatedAt: ago(20) }), now, rules)).toBe(20);
    expect(lagSeconds(delta({ checkpointUpdatedAt: ago(14) }), now, rules)).toBe(0);
  });

  it('runs from the start of a copy that stopped short of delta', () => {
    const failed = delta({ phase: 'initial', copyEnded: { runtimeStatus: 'Failed', at: ago(10) } });
    expect(lagSeconds(failed, now, rules)).toBe(3600);
  });
});

describe('table health', () => {
  it('is ok while polls succeed, and for an error a later poll got past', () => {
    expect(tableHealth(delta(), now, rules)).toEqual({ state: 'ok', reason: null });
    expect(tableHealth(delta({ lastError: { message: 'x', at: ago(9) } }), now, rules).state).toBe('ok');
  });

  it('stays ok for failures shorter than N poll intervals', () => {
    const brief = delta({ checkpointUpdatedAt: ago(14), lastError: { message: 'refused', at: ago(1) } });
    expect(tableHealth(brief, now, rules).state).toBe('ok');
    expect(tableHealth(brief, now, { ...rules, degradedAfterPolls: 2 }).state).toBe('degraded');
  });

  it('is degraded after N poll intervals of failed polls, with the error as the reason', () => {
    const failing = delta({ checkpointUpdatedAt: ago(15), lastError: { message: 'HTTP 403 refused', at: ago(1) } });
    const health = tableHealth(failing, now, rules);
    expect(health.state).toBe('degraded');
    expect(health.reason).toContain(`No successful poll since ${ago(15)}`);
    expect(health.reason).toContain('HTTP 403 refused');
  });

  // Issue 16: health judged only the polls, so a table whose batches the destination refused (every row to the
  // failed-records store) or that nothing applied any more read `ok` while its lag grew.
  it('is degraded when changes wait to be applied for N poll intervals, though polls succeed', () => {
    const refused = { message: 'The destination refused the batch', at: ago(3) };
    const stalled = tableHealth(delta({ oldestUnappliedChangeAt: ago(15), lastError: refused }), now, rules);
    expect(stalled.state).toBe('degraded');
    expect(stalled.reason).toBe(`Changes read at ${ago(15)} are not applied yet (15 s): ${refused.message}`);
    expect(tableHealth(delta({ oldestUnappliedChangeAt: ago(15) }), now, rules).reason).toBe(
      `Changes read at ${ago(15)} are not applied yet (15 s), and no apply reported an error: is the change queue being processed?`,
    );
    expect(tableHealth(delta({ oldestUnappliedChangeAt: ago(14), lastError: refused }), now, rules).state).toBe('ok');
    expect(tableHealth(delta({ oldestUnappliedChangeAt: ago(60), active: false }), now, rules).state).toBe('ok');
  });

  it('names throttling, and a poller that reports nothing, as the reason', () => {
    const throttled = delta({
      checkpointUpdatedAt: ago(60),
      throttledUntil: ago(-30),
      lastError: { message: 'throttled', at: ago(59) },
    });
    expect(tableHealth(throttled, now, rules).reason).toContain(`throttles it until ${ago(-30)}`);
    expect(tableHealth(delta({ checkpointUpdatedAt: ago(60) }), now, rules).reason).toContain(
      'is the poll timer running?',
    );
  });

  it('is failed when the initial sync or resync is over and the table never reached delta', () => {
    const failed = tableHealth(
      delta({
        phase: 'initial',
        lastError: { message: 'Dataverse refused the token', at: ago(5) },
        copyEnded: { runtimeStatus: 'Failed', at: ago(5) },
      }),
      now,
      rules,
    );
    expect(failed.state).toBe('failed');
    expect(failed.reason).toContain('initial sync stopped (Failed');
    expect(failed.reason).toContain('Dataverse refused the token');
    expect(
      tableHealth(delta({ phase: 'resync', copyEnded: { runtimeStatus: 'Terminated', at: ago(5) } }), now, rules)
        .reason,
    ).toMatch(/^The resync stopped \(Terminated.*host log/);
  });

  it('judges neither inactive profiles nor copies still running', () => {
    const stale = { checkpointUpdatedAt: ago(600), lastError: { message: 'refused', at: ago(1) } };
    expect(tableHealth(delta({ ...stale, active: false }), now, rules).state).toBe('ok');
    expect(lagSeconds(delta({ ...stale, active: false }), now, rules)).toBe(0);
    expect(tableHealth(delta({ ...stale, phase: 'initial' }), now, rules).state).toBe('ok');
  });
});

describe('poll interval', () => {
  it('is the longest gap between runs of the NCRONTAB schedule', () => {
    expect(scheduleIntervalMs('*/5 * * * * *')).toBe(5_000);
    expect(scheduleIntervalMs('* * * * * *')).toBe(1_000);
    expect(scheduleIntervalMs('0 */2 * * * *')).toBe(120_000);
  });
});
