/**
 * The lake's schema work: the container, each table's entity in the root model.json (new columns appended, never
 * reordered), the per-table manifests, OptionsetMetadata, and the initial-sync state DV2SQL waits for.
 */
import type { ManyToManyRelationship, TableMetadata } from '../../dataverse/metadata';
import { toExportError } from '../../errors';
import { validateDataverseName } from '../../schema/identifiers';
import type { EnsureTablesResult, SchemaAction, SchemaFailure } from '../destination';
import { lakeColumnsOf, mergeColumns } from './columns';
import { startChangelog } from './folders';
import { layoutOf } from './layout';
import { livePartitions, readModel, rootListsLiveFiles, updateModel, writeTableModel } from './manifest';
import { columnOfAttribute, entityOf, entityState, withEntity, type CdmEntity, type CdmModel } from './model-json';
import { optionsetFiles } from './optionset-files';
import { OPTIONSET_FOLDER, ROOT_MODEL } from './paths';
import type { LakeMode, LakeState, LakeTarget, Layout } from './state';
import { guarded, writeText } from './storage';

type SchemaState = Pick<
  LakeState,
  'container' | 'containerName' | 'target' | 'queues' | 'location' | 'layouts' | 'clock'
>;

function ensureTable(
  model: CdmModel,
  target: LakeTarget,
  table: TableMetadata,
  actions: SchemaAction[],
): { entity: CdmEntity; layout: Layout } {
  validateDataverseName(table.logicalName, `table ${table.logicalName}`);
  const existing = model.entities.find((candidate) => candidate.name === table.logicalName);
  const existingColumns = existing?.attributes.map(columnOfAttribute) ?? [];
  const columns = mergeColumns(existingColumns, lakeColumnsOf(table));
  if (!existing) actions.push({ table: table.logicalName, action: 'createTable' });
  for (const column of columns.slice(existingColumns.length)) {
    if (existing)
      actions.push({ table: table.logicalName, action: 'addColumn', column: column.name, type: column.dataType });
  }
  const state = existing ? entityState(existing) : { granularity: target.granularity };
  const entity = entityOf(table.logicalName, columns, state, existing?.partitions ?? []);
  return { entity, layout: layoutOf(target.mode, table, entity) };
}

async function writeOptionsetFiles(
  state: Pick<LakeState, 'container' | 'clock'>,
  tables: TableMetadata[],
  relationships: ManyToManyRelationship[],
): Promise<number> {
  const exported = (table: TableMetadata): ReadonlySet<string> => {
    const names = new Set(lakeColumnsOf(table).map((column) => column.name));
    return new Set(table.columns.map((column) => column.logicalName).filter((name) => names.has(name)));
  };
  let lines = 0;
  for (const file of optionsetFiles(tables, relationships, exported, state.clock())) {
    await writeText(state.container, `${OPTIONSET_FOLDER}/${file.kind}.csv`, file.text);
    lines += file.text === '' ? 0 : file.text.split('\n').length - 1;
  }
  return lines;
}

/** One write of the root for all tables: the schema from this call, partitions as the mode keeps them. */
function writeRootEntities(
  state: SchemaState,
  mode: LakeMode,
  ready: Array<{ entity: CdmEntity; layout: Layout }>,
): Promise<CdmModel> {
  return updateModel(state, ROOT_MODEL, async (model) => {
    let result = model;
    for (const { entity, layout } of ready) {
      const kept = result.entities.find((candidate) => candidate.name === entity.name)?.partitions ?? [];
      result = withEntity(result, {
        ...entity,
        partitions: rootListsLiveFiles(mode, layout) ? await livePartitions(state, entity.name) : kept,
      });
    }
    return result;
  });
}

/** Creates the container, the tables' entities (new columns appended) and OptionsetMetadata. Idempotent. */
export async function ensureTables(
  state: SchemaState,
  tables: TableMetadata[],
  relationships: ManyToManyRelationship[],
): Promise<EnsureTablesResult> {
  const actions: SchemaAction[] = [];
  const failures: SchemaFailure[] = [];
  await guarded(state.containerName, () => state.container.createIfNotExists());
  const ready: Array<{ table: TableMetadata; entity: CdmEntity; layout: Layout }> = [];
  const current = (await readModel(state, ROOT_MODEL)).model;
  for (const table of tables) {
    try {
      ready.push({ table, ...ensureTable(current, state.target, table, actions) });
    } catch (error) {
      failures.push({ table: table.logicalName, error: toExportError(error, 'schema') });
    }
  }
  const root = await writeRootEntities(state, state.target.mode, ready);
  for (const { table, layout } of ready) {
    state.layouts.set(table.logicalName, layout);
    const entity = root.entities.find((candidate) => candidate.name === table.logicalName);
    if (entity) await writeTableModel(state, entity);
  }
  if (ready.length > 0) {
    const rows = await writeOptionsetFiles(
      state,
      ready.map(({ table }) => table),
      relationships,
    );
    actions.push({ table: '*', action: 'refreshMetadata', rows });
  }
  if (state.target.mode === 'incremental') await startChangelog(state);
  return { actions, failures };
}

/** Marks the tables' initial sync complete in model.json (`Athena:InitialSyncState` = `Completed`; DV2SQL skips others). */
export async function completeInitialSync(
  state: Pick<LakeState, 'container' | 'queues' | 'location' | 'target'>,
  logicalNames: string[],
  at: Date,
): Promise<void> {
  const names = new Set(logicalNames);
  const model = await updateModel(state, ROOT_MODEL, (current) => ({
    ...current,
    entities: current.entities.map((entity) => {
      if (!names.has(entity.name)) return entity;
      const columns = entity.attributes.map(columnOfAttribute);
      return entityOf(entity.name, columns, { ...entityState(entity), initialSyncCompletedAt: at }, entity.partitions);
    }),
  }));
  for (const entity of model.entities.filter((candidate) => names.has(candidate.name)))
    await writeTableModel(state, entity);
}
