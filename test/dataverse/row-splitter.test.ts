/**
 * The row splitter (shared/dataverse/row-splitter.ts) against `JSON.parse` of the whole body: for any page —
 * any rows, any other members before or after `value`, any whitespace, strings full of quotes, backslashes,
 * brackets and multi-byte characters — and any way the network cuts the bytes, the items it cuts out parse to
 * `value`'s items and the envelope parses to the body with `value` emptied.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotAnObject, RowSplitter } from '../../shared/dataverse/row-splitter';

const tricky = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('"', '\\', '\\"', '{', '}', '[', ']', '"value":[', ',', '🚲', 'Zürich', '\u2028'),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    tricky,
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(tricky, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const row = fc.dictionary(tricky, json, { maxKeys: 6 });
const envelopeMember = fc.tuple(
  fc.constantFrom('@odata.context', '@odata.nextLink', '@odata.deltaLink', 'value2', 'values', 'other'),
  json,
);

const page = fc
  .record({
    before: fc.array(envelopeMember, { maxLength: 2 }),
    rows: fc.array(row, { maxLength: 12 }),
    after: fc.array(envelopeMember, { maxLength: 2 }),
    indent: fc.constantFrom(undefined, 0, 1, 2, '\t'),
    cuts: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
  })
  .map(({ before, rows, after, indent, cuts }) => {
    const body = { ...Object.fromEntries(before), value: rows, ...Object.fromEntries(after) };
    return { body, text: JSON.stringify(body, null, indent), cuts };
  });

const decoder = new TextDecoder();

function split(text: string, cuts: number[]) {
  const bytes = new TextEncoder().encode(text);
  const splitter = new RowSplitter();
  const items: unknown[] = [];
  let offset = 0;
  for (let cut = 0; offset < bytes.length; cut++) {
    const size = cuts[cut % cuts.length] as number;
    splitter.write(bytes.subarray(offset, offset + size), (item) => items.push(JSON.parse(decoder.decode(item))));
    offset += size;
  }
  return { items, splitter };
}

describe('the row splitter', () => {
  it('cuts out exactly the items of value, and keeps the rest, however the bytes arrive', () => {
    fc.assert(
      fc.property(page, ({ text, cuts }) => {
        const { items, splitter } = split(text, cuts);
        // Compared with JSON.parse of the text, not the generated body: JSON has no -0.
        const whole = JSON.parse(text) as { value: unknown[] };
        expect(items).toEqual(whole.value);
        expect(splitter.complete).toBe(true);
        expect(JSON.parse(splitter.envelopeText())).toEqual({ ...whole, value: [] });
      }),
      { numRuns: 300 },
    );
  });

  it('is not complete until the root closes', () => {
    fc.assert(
      fc.property(page, fc.nat(), ({ text }, at) => {
        const end = at % text.length;
        const { splitter } = split(text.slice(0, end), [7]);
        expect(splitter.complete).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses an item of value that is not an object, naming its index', () => {
    expect(() => split('{"value":[{"a":1}, {"b":"]"} ,42]}', [5])).toThrow(new NotAnObject(2));
    expect(() => split('{"value":["x"]}', [100])).toThrow(NotAnObject);
  });

  it('treats only the top-level value member as the rows', () => {
    const text = JSON.stringify({ nested: { value: [{ a: 1 }] }, value: [{ b: 2 }], values: [{ c: 3 }] });
    const { items, splitter } = split(text, [3]);
    expect(items).toEqual([{ b: 2 }]);
    expect(JSON.parse(splitter.envelopeText())).toEqual({
      nested: { value: [{ a: 1 }] },
      value: [],
      values: [{ c: 3 }],
    });
  });
});
