/**
 * A smoke-sized run of the initial-sync benchmark (`npm run bench`), so it does not rot between measurements:
 * the same code paths at a few hundred rows, checked for shape and sanity, never for speed. The memory
 * benchmark runs the same sync (test/bench/host-sync.ts) twice over; a smoke run of it would double this
 * file's time for the few lines of its own.
 */
import { describe, expect, it } from 'vitest';
import { run as initialSync } from '../bench/initial-sync';

describe('initial-sync benchmark, smoke-sized', () => {
  it('copies every source row end to end and reports rates and ratios', async () => {
    const figures = await initialSync(['--accounts', '300', '--contacts', '200']);
    expect(figures).toMatchObject({ tables: { account: 300, contact: 200 }, rows: 500, pages: 2 });
    for (const name of [
      'endToEndRowsPerSecond',
      'readPerStreamRowsPerSecond',
      'applyRowsPerSecond',
      'applyPerStreamRowsPerSecond',
      'rawCopyRowsPerSecond',
      'applyVsRawCopy',
      'endToEndVsRawCopy',
      'hostPeakRssMb',
    ]) {
      expect(figures[name], name).toBeGreaterThan(0);
    }
  }, 90_000);
});
