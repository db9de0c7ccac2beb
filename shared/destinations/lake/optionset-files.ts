/**
 * `OptionsetMetadata/*.csv` (docs/reference/lake-format.md §3): the same rows DES's metadata tables hold (metadata-tables.ts),
 * written headerless in the column orders DV2SQL and the FastTrack scripts read. Quoting only where a value
 * needs it: DV2SQL splits these lines on `,` and uses the leading name fields as they are.
 */
import { stringify } from 'csv-stringify/sync';
import type { ManyToManyRelationship, TableMetadata } from '../../dataverse/metadata';
import { metadataRows, metadataTable, metadataTableKinds, type MetadataTableKind } from '../../schema/metadata-tables';
import type { SqlValue } from '../../schema/row-values';

export interface OptionsetFile {
  kind: MetadataTableKind;
  text: string;
}

const fieldText = (value: SqlValue | undefined): string | null =>
  value === null || value === undefined
    ? null
    : typeof value === 'boolean'
      ? value
        ? 'True'
        : 'False'
      : String(value);

export function optionsetFiles(
  tables: TableMetadata[],
  relationships: ManyToManyRelationship[],
  exported: (table: TableMetadata) => ReadonlySet<string>,
  now: Date,
): OptionsetFile[] {
  const rows = metadataRows(tables, relationships, exported, now.toISOString());
  return metadataTableKinds.map((kind) => {
    const columns = metadataTable('', kind).columns;
    // AttributeMetadata's Id is an identity column in SQL; here it is the row's position.
    const records = rows[kind].map((row, index) =>
      columns.map((column) => fieldText(column.identity ? index + 1 : row[column.name])),
    );
    return { kind, text: stringify(records, { record_delimiter: '\n' }) };
  });
}
