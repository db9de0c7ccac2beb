/**
 * Absent is not null: a batch polled before an attribute was added (its deltaLink still had the old `$select`)
 * carries rows without that property. Rewriting an in-place row from such an upsert keeps the row's value of the
 * column; a property present with null empties it. (Appended tables cannot keep anything: each record stands alone.)
 */
import { parse } from 'csv-parse/sync';
import type { RowUpsert } from '../../dataverse/changes';
import type { LakeColumn } from './columns';
import type { Fields } from './records';

/** Indexes of the columns fed by a Web API property the upsert's row does not carry. */
export function absentFields(columns: readonly LakeColumn[], upsert: RowUpsert): number[] {
  const absent: number[] = [];
  columns.forEach((column, index) => {
    const source = column.source;
    if ((source?.kind === 'property' || source?.kind === 'lookupTable') && !(source.property in upsert.row))
      absent.push(index);
  });
  return absent;
}

/** The fields of one record as the encoder wrote them: an empty unquoted field is null, `""` the empty string. */
export function recordFields(raw: string): Fields {
  const [record] = parse(raw, {
    relax_column_count: true,
    cast: (value, context) => (context.quoting || value !== '' ? value : null),
  }) as Array<Array<string | null>>;
  return record ?? [];
}

/** `fields` with the fields at `absent` taken from the row's current record (null where that record is shorter). */
export function keepFields(fields: Fields, absent: readonly number[], currentRecord: string): Fields {
  if (absent.length === 0) return fields;
  const current = recordFields(currentRecord);
  const kept = [...fields];
  for (const index of absent) kept[index] = current[index] ?? null;
  return kept;
}
