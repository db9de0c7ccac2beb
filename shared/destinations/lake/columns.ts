/**
 * The lake column set of a table (Synapse Link's, not DES's): `Id`, `SinkCreatedOn`, `SinkModifiedOn`, the
 * table's columns in `ColumnNumber` order with lookups as `<name>` + `<name>_entitytype`, and `IsDelete` last.
 * Which Web API property feeds which column is decided once, in table-model.ts, so SQL and lake agree;
 * this module only picks the CDM data types and the text form of each value (docs/reference/lake-format.md §2, §3).
 */
import type { ColumnMetadata, TableMetadata } from '../../dataverse/metadata';
import { buildTableModel, type ColumnSource } from '../../schema/table-model';

export type CdmDataType =
  'guid' | 'string' | 'int64' | 'decimal' | 'double' | 'boolean' | 'dateTime' | 'dateTimeOffset';

export interface LakeColumn {
  name: string;
  dataType: CdmDataType;
  /** Characters for bounded strings; -1 when not applicable. */
  maxLength: number;
  /** Decimals only. */
  precision?: number;
  scale?: number;
  /** Where a row's value comes from; null for a column the table no longer has (it stays, filled with null). */
  source: ColumnSource | { kind: 'isDelete' } | null;
}

export const CREATED_ON = 'createdon';
export const IS_DELETE = 'IsDelete';
export const SINK_CREATED_ON = 'SinkCreatedOn';
export const SINK_MODIFIED_ON = 'SinkModifiedOn';
/** Dataverse's decimal columns are stored as decimal(38, scale) in its database. */
const DECIMAL_PRECISION = 38;

function dataTypeOf(name: string, metadata: ColumnMetadata | undefined, kind: string): CdmDataType {
  // Synapse Link writes `createdon` as dateTimeOffset since 2022-07-29 (docs/reference/lake-format.md §3).
  if (name === CREATED_ON) return 'dateTimeOffset';
  if (metadata?.attributeType === 'Double') return 'double';
  switch (kind) {
    case 'guid':
      return 'guid';
    case 'int':
    case 'bigint':
      return 'int64';
    case 'decimal':
      return 'decimal';
    case 'bit':
      return 'boolean';
    case 'datetime':
      return 'dateTime';
    default:
      return 'string';
  }
}

/** The columns the table's metadata asks for today, in Synapse Link order. */
export function lakeColumnsOf(table: TableMetadata): LakeColumn[] {
  const byName = new Map(table.columns.map((column) => [column.logicalName, column]));
  const columns = buildTableModel(table, '').columns.map((column): LakeColumn => {
    const metadata = column.source.kind === 'property' ? byName.get(column.name) : undefined;
    const dataType = dataTypeOf(column.name, metadata, column.type.kind);
    const lake: LakeColumn = { name: column.name, dataType, maxLength: -1, source: column.source };
    if (dataType === 'string' && column.type.kind === 'string') {
      // The metadata length, not the SQL row-size fitting DES needs (table-model.ts fitRowSize).
      const length = metadata?.maxLength ?? (column.type.length === 'max' ? undefined : column.type.length);
      if (length !== undefined) lake.maxLength = length;
    }
    if (dataType === 'decimal' && column.type.kind === 'decimal') {
      lake.precision = DECIMAL_PRECISION;
      lake.scale = column.type.scale;
    }
    return lake;
  });
  return [...columns, { name: IS_DELETE, dataType: 'boolean', maxLength: -1, source: { kind: 'isDelete' } }];
}

/**
 * The lake keeps the column order it already has: new columns are appended (older rows stay ragged) and
 * columns the table dropped stay, filled with null, as Synapse Link does (docs/reference/lake-format.md §3, §6).
 */
export function mergeColumns(existing: Array<Omit<LakeColumn, 'source'>>, wanted: LakeColumn[]): LakeColumn[] {
  const wantedByName = new Map(wanted.map((column) => [column.name.toLowerCase(), column]));
  const kept = existing.map((column): LakeColumn => {
    const current = wantedByName.get(column.name.toLowerCase());
    return { ...column, source: current?.source ?? null };
  });
  const known = new Set(existing.map((column) => column.name.toLowerCase()));
  return [...kept, ...wanted.filter((column) => !known.has(column.name.toLowerCase()))];
}
