/**
 * Numbers as the lake writes them: `String(value)`, or `plainNumber` for the exponent forms. `String` looks for the
 * shortest digits that read back as the value (ECMA-262 Number::toString), the costliest step of a row's CSV record;
 * most Dataverse decimals and doubles have a few decimals, so those are tried first. A decimal `scaled / 10^k` reads
 * back as the value exactly when the division gives it (both are exact doubles and IEEE division rounds correctly),
 * so the first `k` with a matching `scaled` gives the fewest digits. Up to 15 significant digits no two decimals read
 * back as the same double (DBL_DIG), so the one found is the one `String` prints; anything else takes `String`.
 */
import { plainNumber } from '../../schema/plain-number';

const SCALES = [10, 100, 1_000, 10_000, 100_000, 1_000_000];
/** With at most 6 decimals, 9 integer digits keep the result within 15 significant digits. */
const FAST_BELOW = 1e9;
const FAST_FROM = 1e-6;

/** Zeros that pad a fraction's digits to its decimals. */
const ZEROS = ['', '0', '00', '000', '0000', '00000'];

/** The digits of `scaled` (an integer below 1e15) with a point before its last `decimals`, as String prints it. */
function withPoint(negative: boolean, scaled: number, decimals: number): string {
  const scale = SCALES[decimals - 1] as number;
  // Exact: integers below 2^53.
  const fraction = scaled % scale;
  const digits = String(fraction);
  return `${negative ? '-' : ''}${(scaled - fraction) / scale}.${ZEROS[decimals - digits.length]}${digits}`;
}

/** The fewest-decimals text of a non-integer of 1e-6 to 1e9 (either sign), or undefined when String must decide. */
function fewDecimals(value: number): string | undefined {
  const magnitude = Math.abs(value);
  if (!(magnitude >= FAST_FROM && magnitude < FAST_BELOW)) return undefined;
  for (let index = 0; index < SCALES.length; index++) {
    const scale = SCALES[index] as number;
    // The product may round one off the nearest integer: look either side of it.
    const nearest = Math.round(magnitude * scale);
    const below = (nearest - 1) / scale === magnitude;
    const at = nearest / scale === magnitude;
    const above = (nearest + 1) / scale === magnitude;
    if (!below && !at && !above) continue;
    // Two decimals of this length reading back as the value: String picks the closer one; let it.
    if (Number(below) + Number(at) + Number(above) > 1) return undefined;
    return withPoint(value < 0, below ? nearest - 1 : at ? nearest : nearest + 1, index + 1);
  }
  return undefined;
}

export function numberText(value: number): string {
  if (Number.isInteger(value)) return Math.abs(value) < 1e21 ? String(value) : plainNumber(value);
  const text = fewDecimals(value) ?? String(value);
  return text.includes('e') ? plainNumber(value) : text;
}
