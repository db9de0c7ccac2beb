import { describe, expect, it } from 'vitest';
import { ExportError } from '../../shared/errors';
import { decideRetry } from '../../shared/sync/apply/retry-decision';

const now = new Date('2026-01-01T00:00:00Z');
const rules = { retryCount: 2, retryIntervalSeconds: 5 };

describe('decideRetry', () => {
  it('retries transient failures after the profile interval until retryCount more attempts are used', () => {
    expect(decideRetry(new ExportError('transient', 'connection reset'), 0, rules, now)).toEqual({
      action: 'retry',
      attempt: 1,
      deliverAt: new Date('2026-01-01T00:00:05Z'),
    });
    expect(decideRetry(new ExportError('transient', 'connection reset'), 1, rules, now)).toMatchObject({
      action: 'retry',
      attempt: 2,
    });
    expect(decideRetry(new ExportError('transient', 'connection reset'), 2, rules, now)).toEqual({
      action: 'fail-rows',
      reason: 'still failing after 3 attempts: connection reset',
    });
  });

  it('waits at least as long as a throttling destination asks', () => {
    const decision = decideRetry(new ExportError('throttled', 'busy', { retryAfterMs: 30_000 }), 0, rules, now);
    expect(decision).toMatchObject({ action: 'retry', deliverAt: new Date('2026-01-01T00:00:30Z') });
  });

  it('does not retry what retrying cannot fix', () => {
    for (const errorClass of ['schema', 'data', 'config'] as const) {
      expect(decideRetry(new ExportError(errorClass, 'nope'), 0, rules, now)).toEqual({
        action: 'fail-rows',
        reason: `${errorClass} error: nope`,
      });
    }
  });
});
