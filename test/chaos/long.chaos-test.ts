/**
 * `npm run test:chaos`: the long chaos run, ≥ 20,000 operations with every fault, a kill mid-initial-sync
 * and several mid-delta. CHAOS_SEED replays a run (a random seed otherwise, printed first);
 * CHAOS_OPERATIONS changes its length.
 */
import { describe, expect, it } from 'vitest';
import { runChaos } from './run';

const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const operations = Number(process.env.CHAOS_OPERATIONS ?? 20_000);
const DELTA_KILLS = 4;

describe('convergence under chaos (long run)', () => {
  it(`converges after ${operations} operations (seed ${seed})`, async () => {
    const report = await runChaos({
      seed,
      operations,
      accounts: 2_000,
      pageSize: 100,
      deltaKills: DELTA_KILLS,
      forcedFailures: 3,
      convergenceTimeoutMs: 600_000,
      log: (line) => console.log(line),
    });
    console.log(JSON.stringify(report));
    expect(report.operations).toBe(operations);
    expect(report.kills).toEqual({ initialSync: 1, delta: DELTA_KILLS });
    expect(report.faults.throttled).toBeGreaterThan(0);
    expect(report.faults.unavailable).toBeGreaterThan(0);
    expect(report.faults.duplicatesSent + report.faults.delayedDuplicatesSent).toBeGreaterThan(0);
    expect(report.faults.originalsDelayed).toBeGreaterThan(0);
    expect(report.faults.connectionsDropped).toBeGreaterThan(0);
  });
});
