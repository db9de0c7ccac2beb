/**
 * Numbers as plain decimal text: `.`-separated and never in exponent form (`5e-7`, `1e+21`), which JavaScript
 * writes for very small and very large numbers and which SQL Server's conversion to decimal, Spark's Decimal and
 * .NET's invariant parse refuse.
 */
export function plainNumber(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  if (Number.isInteger(value)) return BigInt(value).toString();
  return value.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

/** JSON.stringify's replacer for a batch parameter: a number JavaScript would write with an exponent becomes plain text. */
export const withoutExponents = (_key: string, value: unknown): unknown =>
  typeof value === 'number' && Number.isFinite(value) && /e/i.test(String(value)) ? plainNumber(value) : value;
