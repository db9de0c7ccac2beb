/**
 * The product's column kinds in a dialect's SQL, both ways: the type a column is created with, and the kind an
 * `information_schema.columns` row reads back as (drift detection). Each dialect only names its types.
 */
import type { ColumnType } from '../../schema/table-model';
import type { InformationSchemaColumn } from './dialect';

type FixedKind = 'guid' | 'int' | 'bigint' | 'bit' | 'datetime';
const FIXED_KINDS: readonly FixedKind[] = ['guid', 'int', 'bigint', 'bit', 'datetime'];

export interface TypeNames {
  /** Per fixed-size kind: the name it is created with first, then any other data_type that reads back as it. */
  fixed: Record<FixedKind, readonly [string, ...string[]]>;
  /** data_type values of length-bounded strings (a null or -1 maximum length means unbounded). */
  strings: readonly string[];
  /** data_type values that are always unbounded strings. */
  unboundedStrings: readonly string[];
  decimals: readonly string[];
  string(length: number | 'max'): string;
  decimal(scale: number): string;
}

export function columnTypeSql(type: ColumnType, names: TypeNames): string {
  if (type.kind === 'string') return names.string(type.length);
  if (type.kind === 'decimal') return names.decimal(type.scale);
  return names.fixed[type.kind][0];
}

export function parseColumnType(column: InformationSchemaColumn, names: TypeNames): ColumnType | undefined {
  const dataType = column.data_type;
  if (names.unboundedStrings.includes(dataType)) return { kind: 'string', length: 'max' };
  if (names.strings.includes(dataType)) {
    const length = column.character_maximum_length;
    return length === null || length === -1 ? { kind: 'string', length: 'max' } : { kind: 'string', length };
  }
  if (names.decimals.includes(dataType)) return { kind: 'decimal', scale: column.numeric_scale ?? 0 };
  const kind = FIXED_KINDS.find((candidate) => names.fixed[candidate].includes(dataType));
  return kind ? { kind } : undefined;
}
