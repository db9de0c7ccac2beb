/**
 * Order statistics and trends for the benchmarks' figures. Nothing here spreads an array into arguments
 * (`Math.max(...values)`): V8 puts every spread argument on the stack, and 180,000 latencies of a 3-minute
 * run at 1,000 changes/s overflow it (RangeError: Maximum call stack size exceeded).
 */

/** The largest value, or `empty` when there is none; a plain loop, so any number of values is fine. */
export function maxOf(values: Iterable<number>, empty = Number.NaN): number {
  let max = Number.NEGATIVE_INFINITY;
  let any = false;
  for (const value of values) {
    any = true;
    if (value > max) max = value;
  }
  return any ? max : empty;
}

/** The smallest value, or `empty` when there is none. */
export function minOf(values: Iterable<number>, empty = Number.NaN): number {
  let min = Number.POSITIVE_INFINITY;
  let any = false;
  for (const value of values) {
    any = true;
    if (value < min) min = value;
  }
  return any ? min : empty;
}

/** The `p`-th percentile (0–100) of ascending `sorted`, nearest rank. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Count, p50/p95/p99 and maximum, rounded to whole units; sorts a typed copy (numeric order, no comparator calls). */
export function latencySummary(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const whole = (value: number) => (Number.isNaN(value) ? Number.NaN : Math.round(value));
  return {
    count: sorted.length,
    p50: whole(percentile(sorted, 50)),
    p95: whole(percentile(sorted, 95)),
    p99: whole(percentile(sorted, 99)),
    max: whole(sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number)),
  };
}

export interface BacklogSample {
  /** Seconds since the start of the window. */
  atSeconds: number;
  /** Changes written to the source and not yet in the destination then. */
  backlog: number;
}

export interface BacklogTrend {
  /** Least-squares slope of the backlog over the window, in changes per second. */
  slopePerSecond: number;
  /** What the slope adds up to over the window, in changes. */
  growthOverWindow: number;
  /**
   * `growing` when the fitted backlog rises by more than one second's worth of changes over the window,
   * `shrinking` when it falls by as much, `flat` otherwise: a steady pipeline holds a backlog of about
   * its latency times the rate, which neither grows nor shrinks.
   */
  verdict: 'flat' | 'growing' | 'shrinking' | 'too few samples';
}

/** Whether the backlog kept up with the write rate (`changesPerSecond`) over the window, from its samples. */
export function backlogTrend(samples: readonly BacklogSample[], changesPerSecond: number): BacklogTrend {
  const n = samples.length;
  if (n < 3) return { slopePerSecond: Number.NaN, growthOverWindow: Number.NaN, verdict: 'too few samples' };
  let sumX = 0;
  let sumY = 0;
  for (const sample of samples) {
    sumX += sample.atSeconds;
    sumY += sample.backlog;
  }
  const meanX = sumX / n;
  const meanY = sumY / n;
  let covariance = 0;
  let variance = 0;
  for (const sample of samples) {
    covariance += (sample.atSeconds - meanX) * (sample.backlog - meanY);
    variance += (sample.atSeconds - meanX) ** 2;
  }
  const slope = variance === 0 ? 0 : covariance / variance;
  const window = (samples[n - 1] as BacklogSample).atSeconds - (samples[0] as BacklogSample).atSeconds;
  const growth = slope * window;
  const verdict = growth > changesPerSecond ? 'growing' : growth < -changesPerSecond ? 'shrinking' : 'flat';
  return {
    slopePerSecond: Math.round(slope * 100) / 100,
    growthOverWindow: Math.round(growth),
    verdict,
  };
}
