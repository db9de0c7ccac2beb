/**
 * What the applier does with a batch that failed as a whole, following the profile's retry rules
 * (DES semantics: retryCount further attempts, retryIntervalSeconds apart).
 */
import { isRetryable, type ExportError } from '../../errors';

export type RetryDecision =
  /** Send the batch again later with attempt + 1. */
  | { action: 'retry'; attempt: number; deliverAt: Date }
  /** Out of attempts, or retrying cannot help: every row goes to the failed-records store with the reason. */
  | { action: 'fail-rows'; reason: string };

export interface RetryRules {
  retryCount: number;
  retryIntervalSeconds: number;
}

export function decideRetry(error: ExportError, attempt: number, rules: RetryRules, now: Date): RetryDecision {
  if (!isRetryable(error)) {
    return { action: 'fail-rows', reason: `${error.errorClass} error: ${error.message}` };
  }
  if (attempt >= rules.retryCount) {
    return { action: 'fail-rows', reason: `still failing after ${attempt + 1} attempts: ${error.message}` };
  }
  // A throttled destination tells us how long to wait; otherwise the profile's interval, as DES did.
  const waitMs = Math.max(rules.retryIntervalSeconds * 1000, error.retryAfterMs ?? 0);
  return { action: 'retry', attempt: attempt + 1, deliverAt: new Date(now.getTime() + waitMs) };
}
