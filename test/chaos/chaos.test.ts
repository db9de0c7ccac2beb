/**
 * The short chaos run in `npm test`: a fixed seed, every fault, one kill mid-initial-sync and one mid-delta.
 * `npm run test:chaos` runs the long one (test/chaos/long.chaos-test.ts); the seed printed first replays either.
 */
import { describe, expect, it } from 'vitest';
import { runChaos } from './run';

const SEED = 20_261_122;
const OPERATIONS = 300;

describe('convergence under chaos (short run)', () => {
  it(`converges: destination = source, no resurrected deletes, no lost updates, only forced failures (seed ${SEED})`, async () => {
    const report = await runChaos({
      seed: SEED,
      operations: OPERATIONS,
      accounts: 200,
      pageSize: 20,
      deltaKills: 1,
      forcedFailures: 2,
      // Well inside the test's own timeout, so a run that does not converge fails with its differences and seed.
      convergenceTimeoutMs: 100_000,
      log: (line) => console.log(line),
    });
    console.log(JSON.stringify(report));
    expect(report.operations).toBe(OPERATIONS);
    expect(report.kills).toEqual({ initialSync: 1, delta: 1 });
    expect(report.faults.throttled + report.faults.unavailable).toBeGreaterThan(0);
    expect(report.faults.duplicatesSent + report.faults.delayedDuplicatesSent).toBeGreaterThan(0);
    expect(report.faults.connectionsDropped).toBeGreaterThan(0);
  }, 240_000);
});
