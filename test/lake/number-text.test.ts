/** The lake's number text (shared/destinations/lake/number-text.ts) is the text String and plainNumber gave. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numberText } from '../../shared/destinations/lake/number-text';
import { plainNumber } from '../../shared/schema/plain-number';

const viaString = (value: number): string => {
  const text = String(value);
  return text.includes('e') ? plainNumber(value) : text;
};

describe('lake number text', () => {
  it('is what String (plainNumber for exponent forms) writes, for any double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        expect(numberText(value)).toBe(viaString(value));
      }),
      { numRuns: 20_000 },
    );
  });

  it('is what String writes for decimals of a few places, the form money and coordinates take', () => {
    const decimal = fc
      .tuple(fc.integer({ min: -(10 ** 15), max: 10 ** 15 }), fc.integer({ min: 0, max: 8 }))
      .map(([scaled, places]) => scaled / 10 ** places);
    fc.assert(
      fc.property(decimal, (value) => {
        expect(numberText(value)).toBe(viaString(value));
      }),
      { numRuns: 50_000 },
    );
    for (const value of [
      0.1,
      0.3,
      0.1 + 0.2,
      1 / 3,
      -8670864.18,
      5783918.7887,
      37.1533,
      1e-6,
      999999999.999999,
      5e-7,
      -0,
    ])
      expect(numberText(value)).toBe(viaString(value));
  });
});
