import { describe, expect, it } from 'vitest';
import { run } from '../bench/delta-latency';

// The benchmark at toy size, so it keeps running; its figures here mean nothing (see npm run bench).
describe('delta-latency benchmark (smoke size)', () => {
  it('sends paced changes through the Web API and finds every one in the destination, with ordered percentiles', async () => {
    const figures = await run(['--seconds', '2', '--rate', '20', '--accounts', '100']);
    expect(figures.writesFailed).toBe(0);
    expect(figures.notArrived).toBe(0);
    expect(figures.writesCommitted).toBe(figures.changesSent);
    expect(Number(figures.upserts) + Number(figures.deletes)).toBe(figures.writesCommitted);
    expect(Number(figures.changesSent)).toBeGreaterThanOrEqual(30);
    const latency = figures.latencyMs as Record<string, number>;
    expect(latency.p50).toBeGreaterThan(0);
    expect(latency.p50).toBeLessThanOrEqual(latency.p95 as number);
    expect(latency.p95).toBeLessThanOrEqual(latency.p99 as number);
    expect(latency.p99).toBeLessThanOrEqual(latency.max as number);
    // The two parts of the split each take time and neither exceeds the whole.
    for (const part of ['writeToDeltaReadMs', 'deltaReadToCommitMs']) {
      const split = figures[part] as Record<string, number>;
      expect(split.p50, part).toBeGreaterThan(0);
      expect(split.max, part).toBeLessThanOrEqual(latency.max as number);
    }
  }, 180_000);
});
