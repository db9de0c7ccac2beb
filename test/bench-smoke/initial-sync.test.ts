/**
 * Smoke-sized runs of the initial-sync and memory benchmarks (`npm run bench`), so they do not rot between
 * measurements: the same code paths at a few hundred rows, checked for shape and sanity, never for speed.
 */
import { describe, expect, it } from 'vitest';
import { run as initialSync } from '../bench/initial-sync';
import { run as memory } from '../bench/memory';

describe('benchmark smoke runs', () => {
  it('initial-sync copies every source row end to end and reports rates and ratios', async () => {
    const figures = await initialSync(['--accounts', '300', '--contacts', '200']);
    expect(figures).toMatchObject({ tables: { account: 300, contact: 200 }, rows: 500, pages: 2 });
    for (const name of ['endToEndRowsPerSecond', 'readRowsPerSecond', 'applyRowsPerSecond', 'rawCopyRowsPerSecond', 'applyVsRawCopy', 'endToEndVsRawCopy', 'hostPeakRssMb']) {
      expect(figures[name], name).toBeGreaterThan(0);
    }
  }, 90_000);

  it('memory reports the host peak of both sizes and their difference', async () => {
    const figures = await memory(['--small', '100', '--large', '200']);
    expect(figures).toMatchObject({ small: { rows: 100 }, large: { rows: 200 } });
    const small = figures.smallPeakRssMb as number;
    const large = figures.largePeakRssMb as number;
    expect(small).toBeGreaterThan(50);
    expect(figures.peakDifferenceMb).toBe(large - small);
  }, 120_000);
});
