import { describe, expect, it } from 'vitest';
import { plainNumber, withoutExponents } from '../../shared/schema/plain-number';

describe('plain numbers', () => {
  it('writes numbers JavaScript would put in exponent form as plain decimal text', () => {
    expect([5e-7, 1.2345e-6, 1e21, 123.45, -2.5e-8, 42].map(plainNumber)).toEqual([
      '0.0000005',
      '0.0000012345',
      '1000000000000000000000',
      '123.45',
      '-0.000000025',
      '42',
    ]);
  });

  it("keeps a batch parameter's JSON free of exponents and leaves other values alone", () => {
    const json = JSON.stringify(
      [{ exchangerate: 5e-7, revenue: 1000.5, name: '5e-7', count: 3, none: null }],
      withoutExponents,
    );
    expect(json).toBe('[{"exchangerate":"0.0000005","revenue":1000.5,"name":"5e-7","count":3,"none":null}]');
  });
});
