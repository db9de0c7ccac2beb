/**
 * Schema drift: the table the metadata asks for against the table the destination has. Columns are
 * added and widened, never dropped or narrowed; a change that cannot be a widening is a schema failure
 * for that table alone.
 */
import { MAX_BOUNDED_STRING, type ColumnType, type DestinationColumn } from './table-model';

export interface ExistingColumn {
  name: string;
  type: ColumnType;
}

export type DriftAction =
  | { kind: 'addColumn'; column: DestinationColumn }
  | { kind: 'widenColumn'; column: string; from: ColumnType; to: ColumnType };

export interface DriftConflict {
  column: string;
  existing: ColumnType;
  wanted: ColumnType;
}

export function describeType(type: ColumnType): string {
  switch (type.kind) {
    case 'string':
      return `string(${type.length})`;
    case 'decimal':
      return `decimal(38,${type.scale})`;
    default:
      return type.kind;
  }
}

const MAX_INTEGER_SAFE_SCALE = 28;

/**
 * The type a column must become to hold both what it holds and what is wanted, or undefined when no
 * widening can (int → string, guid → int, …). Equal to `existing` when nothing needs to change.
 */
export function widenedType(existing: ColumnType, wanted: ColumnType): ColumnType | undefined {
  if (existing.kind === 'string' && wanted.kind === 'string') {
    if (existing.length === 'max' || wanted.length === 'max') return { kind: 'string', length: 'max' };
    return { kind: 'string', length: Math.max(existing.length, wanted.length) };
  }
  if (existing.kind === 'decimal' && wanted.kind === 'decimal') {
    return { kind: 'decimal', scale: Math.max(existing.scale, wanted.scale) };
  }
  if (existing.kind === wanted.kind) return existing;
  if (existing.kind === 'int' && wanted.kind === 'bigint') return wanted;
  if (existing.kind === 'bigint' && wanted.kind === 'int') return existing;
  if (
    (existing.kind === 'int' || existing.kind === 'bigint') &&
    wanted.kind === 'decimal' &&
    wanted.scale <= MAX_INTEGER_SAFE_SCALE
  ) {
    return wanted;
  }
  return undefined;
}

export const sameType = (a: ColumnType, b: ColumnType): boolean => describeType(a) === describeType(b);

export function diffTable(
  wanted: DestinationColumn[],
  existing: ExistingColumn[],
): { actions: DriftAction[]; conflicts: DriftConflict[] } {
  const byName = new Map(existing.map((column) => [column.name.toLowerCase(), column]));
  const actions: DriftAction[] = [];
  const conflicts: DriftConflict[] = [];
  for (const column of wanted) {
    const current = byName.get(column.name.toLowerCase());
    if (!current) {
      actions.push({ kind: 'addColumn', column });
      continue;
    }
    const target = widenedType(current.type, column.type);
    if (!target) conflicts.push({ column: current.name, existing: current.type, wanted: column.type });
    else if (!sameType(target, current.type))
      actions.push({ kind: 'widenColumn', column: current.name, from: current.type, to: target });
  }
  return { actions, conflicts };
}

/**
 * The width an over-long string column grows to: the next power of two that holds `needed` characters
 * (so a slowly growing value does not trigger a widening per batch), `max` beyond 4,000 characters.
 */
export function widthFor(needed: number): ColumnType {
  if (needed > MAX_BOUNDED_STRING) return { kind: 'string', length: 'max' };
  let length = 1;
  while (length < needed) length *= 2;
  return { kind: 'string', length: Math.min(length, MAX_BOUNDED_STRING) };
}
