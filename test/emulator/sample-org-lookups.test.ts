/**
 * The sample org's lookups point at rows it generates, whatever the row counts. A lookup in Dataverse holds the
 * id of an existing row (or null); the emulator once answered `8b3aba1d-…-000000000NaN` for every account's
 * primary contact when it held no contacts (`contacts: 0`, as the partitioned-copy journey and the
 * initial-sync benchmark ask), so a PostgreSQL destination refused every account row as invalid uuid.
 */
import { describe, expect, it } from 'vitest';
import { sampleCounts, sampleRowId, sampleRowIndex, sampleRows, type SampleCounts } from '../../local/sample-org/rows';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SEED = 5;

/** Every lookup of every generated row of `counts`, as `table.column → id` problems (empty when all are sound). */
function unsoundLookups(counts: SampleCounts): string[] {
  const problems: string[] = [];
  for (const table of Object.keys(counts) as Array<keyof SampleCounts>) {
    for (const row of sampleRows(table, SEED, counts)) {
      for (const [column, value] of Object.entries(row)) {
        if (value === null || typeof value !== 'object') continue;
        // activityparty's activityid targets activitypointer: the email with that id.
        const target = value.logicalName === 'activitypointer' ? 'email' : value.logicalName;
        if (!(target in counts)) continue; // transactioncurrency: a fixed row outside the counts
        const index = sampleRowIndex(SEED, target, value.id);
        const exists = GUID.test(value.id) && index !== undefined && index < counts[target as keyof SampleCounts];
        if (!exists) problems.push(`${table}.${column} → ${value.logicalName} ${value.id}`);
      }
    }
  }
  return problems;
}

describe('the sample org’s lookups', () => {
  it('point at generated rows with the default counts', () => {
    expect(unsoundLookups(sampleCounts(40))).toEqual([]);
  });

  it('are null rather than a made-up id when the target table has no rows (contacts: 0)', () => {
    const counts = sampleCounts(40, 0);
    expect(unsoundLookups(counts)).toEqual([]);
    const [account] = sampleRows('account', SEED, counts);
    expect(account?.primarycontactid).toBeNull();
  });

  it('refuses to make an id of an index that is not a row number', () => {
    expect(() => sampleRowId(SEED, 'contact', Number.NaN)).toThrow(/row index/);
    expect(() => sampleRowId(SEED, 'contact', -1)).toThrow(/row index/);
  });
});
