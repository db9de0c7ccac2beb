/** A table's write layout (columns, record encoder, partitioning, mode), from its entity in the root model.json. */
import type { TableMetadata } from '../../dataverse/metadata';
import { ExportError } from '../../errors';
import { ID_COLUMN, VERSION_COLUMN } from '../../schema/table-model';
import { CREATED_ON, lakeColumnsOf, mergeColumns } from './columns';
import { readModel } from './manifest';
import { columnOfAttribute, entityState, type CdmEntity } from './model-json';
import { ROOT_MODEL } from './paths';
import { createRecordEncoder } from './records';
import type { Granularity, LakeMode, LakeState, Layout } from './state';

export function layoutOf(mode: LakeMode, table: TableMetadata, entity: CdmEntity): Layout {
  const existing = entity.attributes.map(columnOfAttribute);
  // Only the columns the entity declares: new metadata columns appear after the next ensureTables.
  const columns = mergeColumns(existing, lakeColumnsOf(table)).slice(0, existing.length);
  const hasCreatedOn = columns.some((column) => column.name === CREATED_ON && column.source !== null);
  const granularity: Granularity = hasCreatedOn ? entityState(entity).granularity : 'none';
  const versionIndex = columns.findIndex((column) => column.name === VERSION_COLUMN);
  if (versionIndex < 0 || columns[0]?.name !== ID_COLUMN) {
    throw new ExportError(
      'schema',
      `The lake entity ${table.logicalName} has no ${ID_COLUMN} first or no ${VERSION_COLUMN} column.`,
      {
        where: `${ROOT_MODEL}#${table.logicalName}`,
        fix: 'Delete the table folder and its entity from model.json, then activate the profile again to resync it.',
      },
    );
  }
  return {
    columns,
    records: createRecordEncoder(columns),
    granularity,
    versionIndex,
    inPlace: mode === 'inPlace' && granularity !== 'none',
  };
}

const hasColumnsOf = (layout: Layout, table: TableMetadata): boolean => {
  const known = new Set(layout.columns.map((column) => column.name.toLowerCase()));
  return lakeColumnsOf(table).every((column) => known.has(column.name.toLowerCase()));
};

/**
 * The cached layout, or the one the root model.json gives (then cached until `ensureTables` replaces it, or until the
 * table's metadata names a column the layout lacks).
 */
export async function layoutFor(
  state: Pick<LakeState, 'container' | 'containerName' | 'target' | 'layouts'>,
  table: TableMetadata,
): Promise<Layout> {
  const cached = state.layouts.get(table.logicalName);
  // Columns the metadata has and the cached layout lacks were added by another instance's schema refresh: read again.
  if (cached && hasColumnsOf(cached, table)) return cached;
  const { model } = await readModel(state, ROOT_MODEL);
  const entity = model.entities.find((candidate) => candidate.name === table.logicalName);
  if (!entity) {
    throw new ExportError('schema', `The lake has no entity for table ${table.logicalName}.`, {
      where: `${state.containerName}/${ROOT_MODEL}`,
      fix: 'Activate the profile (ensureTables) before applying changes.',
    });
  }
  const layout = layoutOf(state.target.mode, table, entity);
  state.layouts.set(table.logicalName, layout);
  return layout;
}
