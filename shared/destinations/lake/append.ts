/**
 * Append-only writes (append-only mode, incremental mode, and tables without `createdon` in in-place mode): every
 * change becomes a new record in its partition's append blob; deletes are records with `IsDelete=True`.
 */
import type { TableMetadata } from '../../dataverse/metadata';
import { ExportError } from '../../errors';
import type { ApplyBatch, ApplyResult, FailedChange } from '../destination';
import { usDateTime } from './csv';
import { currentFolder } from './folders';
import { orderedChanges, rowFailure } from './ordered-changes';
import { partitionName, partitionOfPath } from './paths';
import type { LakeState, Layout } from './state';
import { AppendBlocks } from './append-blocks';
import { appendToBlob, committedBlocks, listCsv } from './storage';

/** A table folder and the partition names of its CSV files, listed at most once per batch. */
export interface FolderFiles {
  path: string;
  partitions(): Promise<string[]>;
}

/**
 * One listing of the folder for all the batch's partitions this instance has not written yet (a listing per
 * partition cost a round trip each on the first batch of every instance).
 */
export function folderFiles(container: LakeState['container'], path: string): FolderFiles {
  let listing: Promise<string[]> | undefined;
  return {
    path,
    partitions: () =>
      (listing ??= listCsv(container, path).then((files) => files.map((file) => partitionOfPath(file.path)))),
  };
}

/**
 * Appends to the partition's newest file (`<partition>.csv`, then `<partition>_001.csv`, …): a file that could
 * not take the batch's blocks within the append blob limit is left as it is and the next one started.
 * Returns whether the file is new to this instance (its model.json entries may need a refresh).
 */
export async function appendToPartition(
  state: Pick<LakeState, 'container' | 'appendTargets' | 'maxAppendBlocks'>,
  folder: FolderFiles,
  partition: string,
  blocks: Buffer[],
): Promise<boolean> {
  const key = `${folder.path}/${partition}`;
  let current = state.appendTargets.get(key);
  if (!current) {
    const overflow = new RegExp(`^${partition}(_(\\d{3}))?$`);
    const newest = (await folder.partitions())
      .filter((name) => overflow.test(name))
      .sort()
      .at(-1);
    const path = `${folder.path}/${newest ?? partition}.csv`;
    current = { path, committedBlocks: newest ? await committedBlocks(state.container, path) : 0 };
  }
  let create = !state.appendTargets.has(key);
  if (current.committedBlocks + blocks.length > state.maxAppendBlocks) {
    const suffix = Number(/_(\d{3})\.csv$/.exec(current.path)?.[1] ?? 0) + 1;
    current = { path: `${folder.path}/${partition}_${String(suffix).padStart(3, '0')}.csv`, committedBlocks: 0 };
    create = true;
  }
  try {
    state.appendTargets.set(key, {
      path: current.path,
      committedBlocks: await appendToBlob(state.container, current.path, blocks, create),
    });
  } catch (error) {
    // Some blocks may have landed: read the file's block count from the lake next time.
    state.appendTargets.delete(key);
    throw error;
  }
  // A file this instance writes to for the first time may have been created by a writer that died before
  // listing it in model.json: refreshing then heals that.
  return create;
}

/** The batch's CSV records per partition, as Append Block bodies; rows that cannot be written (data errors) go to `failed`. */
function recordsByPartition(
  state: Pick<LakeState, 'clock'>,
  layout: Layout,
  batch: ApplyBatch,
  failed: FailedChange[],
): { byPartition: Map<string, AppendBlocks>; upserted: number; deleted: number } {
  const sinkTime = usDateTime(state.clock());
  const byPartition = new Map<string, AppendBlocks>();
  let upserted = 0;
  let deleted = 0;
  // Deletes carry no createdon; they go to the partition of their own time (readers dedupe per Id across the table).
  const deletePartition = partitionName(state.clock().toISOString(), layout.granularity);
  for (const change of orderedChanges(batch, failed)) {
    try {
      let record: string;
      let partition: string;
      if (change.kind === 'upsert') {
        const upsert = layout.records.upsertRecord(change, sinkTime);
        record = upsert.record;
        partition = partitionName(upsert.createdOn, layout.granularity);
        upserted += 1;
      } else {
        record = layout.records.encode(layout.records.remove(change.id, change.versionNumber, sinkTime));
        partition = deletePartition;
        deleted += 1;
      }
      let blocks = byPartition.get(partition);
      if (!blocks) byPartition.set(partition, (blocks = new AppendBlocks()));
      blocks.add(record);
    } catch (error) {
      if (!(error instanceof ExportError) || error.errorClass !== 'data') throw error;
      failed.push(rowFailure(change.id, change.kind, error));
    }
  }
  return { byPartition, upserted, deleted };
}

type AppendState = Pick<
  LakeState,
  'container' | 'containerName' | 'clock' | 'target' | 'appendTargets' | 'maxAppendBlocks' | 'queues' | 'location'
>;

/**
 * The batch's records appended; `newFiles` when a file is new to this instance and the table's model.json entries
 * need `refreshTableModels` (ETag-guarded, so it need not run under the table's lock).
 */
export async function appendRecords(
  state: AppendState,
  table: TableMetadata,
  layout: Layout,
  batch: ApplyBatch,
): Promise<{ result: ApplyResult; newFiles: boolean }> {
  const failed: FailedChange[] = [];
  const { byPartition, upserted, deleted } = recordsByPartition(state, layout, batch, failed);
  const folder = state.target.mode === 'incremental' ? (await currentFolder(state)).folder : null;
  const files = folderFiles(state.container, folder ? `${folder}/${table.logicalName}` : table.logicalName);
  // Partitions are separate blobs: their appends run side by side.
  const firstWrites = await Promise.all(
    [...byPartition].map(([partition, blocks]) => appendToPartition(state, files, partition, blocks.blocks())),
  );
  return {
    result: { upserted, deleted, skippedAsStale: 0, failed, widened: [] },
    newFiles: firstWrites.includes(true) && !folder,
  };
}
