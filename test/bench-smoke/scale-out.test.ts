import { describe, expect, it } from 'vitest';
import { run } from '../bench/scale-out';

// The benchmark at toy size, so it keeps running; its figures here mean nothing (see npm run bench).
describe('scale-out benchmark (smoke size)', () => {
  it('drains the same backlog with one and with two host processes', async () => {
    const figures = await run(['--rows', '300', '--pairs', '1']);
    const runs = figures.runs as Array<Record<string, number>>;
    expect(runs.map((entry) => entry.hosts)).toEqual([1, 2]);
    for (const entry of runs) {
      expect(entry.messages).toBe(1);
      expect(entry.rowsPerSecond).toBeGreaterThan(0);
    }
    expect(figures.twoToOneRatio).toBeGreaterThan(0);
  }, 180_000);
});
