/**
 * The byte records the initial sync holds rows in until their apply (shared/dataverse/held-bytes.ts): records
 * come back exactly as appended, in pieces or whole, after the buffer grew, and after the first ones were dropped.
 */
import { describe, expect, it } from 'vitest';
import { HeldBytes } from '../../shared/dataverse/held-bytes';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const all = (held: HeldBytes) => Array.from({ length: held.count }, (_, index) => decoder.decode(held.record(index)));

describe('held bytes', () => {
  it('keeps records appended in pieces, past the first buffer size, each as it was', () => {
    const held = new HeldBytes();
    const records = Array.from({ length: 300 }, (_, index) => `{"row":${index},"text":"${'é'.repeat(index * 3)}"}`);
    for (const record of records) {
      const bytes = encoder.encode(record);
      held.append(bytes.subarray(0, 5));
      held.append(bytes.subarray(5));
      held.close();
    }
    expect(all(held)).toEqual(records);
    expect(held.bytes).toBe(records.reduce((sum, record) => sum + encoder.encode(record).length, 0));
  });

  it('drops the first records and keeps the rest, the open one included; clear forgets everything', () => {
    const held = new HeldBytes();
    for (const record of ['a1', 'b22', 'c333']) {
      held.append(encoder.encode(record));
      held.close();
    }
    held.append(encoder.encode('d4'));
    held.dropFirst(2);
    expect(all(held)).toEqual(['c333']);
    held.append(encoder.encode('44'));
    held.close();
    expect(all(held)).toEqual(['c333', 'd444']);
    expect(held.bytes).toBe(8);
    held.dropFirst(5);
    expect([held.count, held.bytes]).toEqual([0, 0]);
    held.append(encoder.encode('e'));
    held.close();
    held.clear();
    expect([held.count, held.bytes]).toEqual([0, 0]);
  });
});
