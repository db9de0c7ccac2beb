/**
 * The lake's model.json files: the root manifest (every entity, with the partitions readers should read) and the
 * per-table manifests DV2SQL reads. Every write is a read-modify-write guarded by the blob's etag.
 */
import { ExportError } from '../../errors';
import { hasStorageStatus } from '../../storage/errors';
import { emptyModel, parseModel, partitionEntry, serializeModel, withEntity } from './model-json';
import type { CdmEntity, CdmModel, CdmPartition } from './model-json';
import { ROOT_MODEL, partitionOfPath, tableModelPath } from './paths';
import { serial, type LakeMode, type LakeState, type Layout } from './state';
import { listCsv, readText, writeText } from './storage';

/** Whether a write lost to another writer: its etag no longer matched (412) or the blob appeared meanwhile (409). */
export const isConflict = (error: unknown): boolean =>
  error instanceof ExportError && hasStorageStatus(error.cause, 409, 412);

export async function readModel(
  state: Pick<LakeState, 'container'>,
  path: string,
): Promise<{ model: CdmModel; etag: string | null }> {
  const current = await readText(state.container, path);
  return current ? { model: parseModel(current.text, path), etag: current.etag } : { model: emptyModel(), etag: null };
}

/**
 * Read-modify-write of a model.json, retried when another writer got there first. `change` runs again on every
 * attempt, so what it lists (partition files) is never older than the model it writes over.
 */
export function updateModel(
  state: Pick<LakeState, 'container' | 'queues'>,
  path: string,
  change: (model: CdmModel) => CdmModel | Promise<CdmModel>,
): Promise<CdmModel> {
  return serial(state, path, async () => {
    for (let attempt = 1; ; attempt++) {
      const { model, etag } = await readModel(state, path);
      const next = await change(model);
      try {
        await writeText(state.container, path, serializeModel(next), etag);
        return next;
      } catch (error) {
        if (attempt < 5 && isConflict(error)) continue;
        throw error;
      }
    }
  });
}

/** The live partition files of a table (`<table>/*.csv`) as model.json lists them. */
export const livePartitions = async (
  state: Pick<LakeState, 'container' | 'location'>,
  table: string,
): Promise<CdmPartition[]> =>
  (await listCsv(state.container, table)).map((file) =>
    partitionEntry(partitionOfPath(file.path), state.location(file.path)),
  );

/** Whether the root entity lists the live files (not snapshots, not the schema-only root of incremental mode). */
export const rootListsLiveFiles = (mode: LakeMode, layout: Layout): boolean =>
  mode === 'appendOnly' || (mode === 'inPlace' && !layout.inPlace);

/** The per-table manifest DV2SQL reads: the root entity with the live partition files. */
export async function writeTableModel(
  state: Pick<LakeState, 'container' | 'queues' | 'location' | 'target'>,
  entity: CdmEntity,
): Promise<void> {
  if (state.target.mode === 'incremental') return;
  await updateModel(state, tableModelPath(entity.name), async () => ({
    ...emptyModel(),
    entities: [{ ...entity, partitions: await livePartitions(state, entity.name) }],
  }));
}

/** After a new partition file appeared: the root entity's partitions (where it lists live files) and the per-table manifest. */
export async function refreshTableModels(
  state: Pick<LakeState, 'container' | 'queues' | 'location' | 'target'>,
  table: string,
  layout: Layout,
): Promise<void> {
  const root = await updateModel(state, ROOT_MODEL, async (model) => {
    const entity = model.entities.find((candidate) => candidate.name === table);
    return entity && rootListsLiveFiles(state.target.mode, layout)
      ? withEntity(model, { ...entity, partitions: await livePartitions(state, table) })
      : model;
  });
  const entity = root.entities.find((candidate) => candidate.name === table);
  if (entity) await writeTableModel(state, entity);
}
