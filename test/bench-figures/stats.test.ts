import { describe, expect, it } from 'vitest';
import { backlogTrend, latencySummary, maxOf, minOf, percentile } from '../bench/stats';

// 200,000 values: more than a spread (`Math.max(...values)`) can pass as arguments on V8's stack.
const many = Array.from({ length: 200_000 }, (_, index) => (index * 7919) % 200_000);

describe('benchmark statistics', () => {
  it('finds the maximum and minimum of 200,000 values', () => {
    expect(maxOf(many)).toBe(199_999);
    expect(minOf(many)).toBe(0);
    expect(maxOf([], 0)).toBe(0);
    expect(Number.isNaN(minOf([]))).toBe(true);
  });

  it('summarises 200,000 latencies by nearest-rank percentiles, in numeric order', () => {
    const summary = latencySummary(many.map((value) => value + 1));
    expect(summary).toEqual({ count: 200_000, p50: 100_000, p95: 190_000, p99: 198_000, max: 200_000 });
    // Numeric, not string, order: 1000 sorts after 999.
    expect(latencySummary([1000, 999, 5])).toMatchObject({ p50: 999, max: 1000 });
    expect(latencySummary([]).count).toBe(0);
    expect(percentile([10, 20, 30, 40], 75)).toBe(30);
  });

  it('calls a backlog that holds steady flat and one that climbs growing', () => {
    const seconds = Array.from({ length: 60 }, (_, index) => index + 1);
    const steady = seconds.map((atSeconds) => ({ atSeconds, backlog: 1000 + (atSeconds % 3) * 200 }));
    expect(backlogTrend(steady, 1000).verdict).toBe('flat');
    const climbing = seconds.map((atSeconds) => ({ atSeconds, backlog: 1000 + atSeconds * 50 }));
    expect(backlogTrend(climbing, 1000)).toEqual({ slopePerSecond: 50, growthOverWindow: 2950, verdict: 'growing' });
    const draining = seconds.map((atSeconds) => ({ atSeconds, backlog: 10_000 - atSeconds * 100 }));
    expect(backlogTrend(draining, 1000).verdict).toBe('shrinking');
    expect(backlogTrend(steady.slice(0, 2), 1000).verdict).toBe('too few samples');
  });
});
