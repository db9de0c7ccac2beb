import { describe, expect, it } from 'vitest';
import { costPerMillionRows, FLEX_CONSUMPTION, instanceMemoryFor } from '../bench/cost';

describe('cost per million rows on Flex Consumption', () => {
  it('bills the smallest instance memory size the peak resident set fits in', () => {
    expect(instanceMemoryFor(300)).toEqual({ instanceMemoryMb: 512, fits: true });
    expect(instanceMemoryFor(512)).toEqual({ instanceMemoryMb: 512, fits: true });
    expect(instanceMemoryFor(513)).toEqual({ instanceMemoryMb: 2048, fits: true });
    expect(instanceMemoryFor(5000)).toEqual({ instanceMemoryMb: 4096, fits: false });
  });

  it('turns CPU-seconds, peak memory and busy seconds into per-million figures and dollars', () => {
    // 200,000 rows in 100 busy seconds with 600 MB peak: a 2,048 MB instance, 2 GB × 100 s = 200 GB-s,
    // so 1,000 GB-s per million rows at $0.000026 = $0.026.
    const figures = costPerMillionRows(200_000, 'host', [{ cpuSeconds: 50, peakRssMb: 600, busySeconds: 100 }]);
    expect(FLEX_CONSUMPTION.usdPerGbSecond).toBe(0.000026);
    expect(figures).toEqual({
      rows: 200_000,
      measured: 'host',
      cpuSeconds: 50,
      peakRssMb: 600,
      busySeconds: 100,
      cpuSecondsPerMillionRows: 250,
      rssGbSecondsPerMillionRows: 293,
      instanceMemoryMb: 2048,
      fitsInstance: true,
      billedGbSecondsPerMillionRows: 1000,
      estimatedUsdPerMillionRows: 0.026,
      estimatedUsdPerMillionRowsAtCpuTime: 0.013,
    });
  });

  it('adds up several host instances, each billed at its own size', () => {
    const figures = costPerMillionRows(1_000_000, 'two hosts', [
      { cpuSeconds: 10, peakRssMb: 400, busySeconds: 20 },
      { cpuSeconds: 30, peakRssMb: 900, busySeconds: 40 },
    ]);
    // 0.5 GB × 20 s + 2 GB × 40 s = 90 GB-s.
    expect(figures).toMatchObject({ cpuSeconds: 40, peakRssMb: 900, instanceMemoryMb: 2048 });
    expect(figures.billedGbSecondsPerMillionRows).toBe(90);
    expect(figures.estimatedUsdPerMillionRows).toBe(0.0023);
  });
});
