/**
 * The lake's timed work, which the caller runs on its schedule and never while a batch is applied:
 * in-place snapshots (read-only copies under `<table>/Snapshot/<time>/`, then the root model.json points at them)
 * and incremental folder rollover (finish the folder, its model.json last, then name the next in the changelog).
 */
import type { MaintenanceReport } from '../destination';
import { CREATED_ON } from './columns';
import { currentFolder } from './folders';
import { readModel, updateModel } from './manifest';
import { partitionEntry, serializeModel, withEntity, type CdmEntity, type CdmPartition } from './model-json';
import {
  CHANGELOG,
  OPTIONSET_FOLDER,
  ROOT_MODEL,
  parseTimeFolderName,
  partitionOfPath,
  snapshotPartitionPath,
  tableStatePath,
  timeFolderName,
} from './paths';
import type { LakeState } from './state';
import { listCsv, readText, sameEtag, writeText } from './storage';
import { withTableLock } from './table-lock';
import { readTableState, type TableState } from './table-state';

const MINUTE = 60_000;

export interface SnapshotResult {
  /** Tables whose snapshot was written, with the folder under `<table>/Snapshot/`. */
  written: Array<{ table: string; folder: string; files: string[] }>;
}

export interface RolloverResult {
  /** The folder finished by this call (its model.json written), if any. */
  finished: string | null;
  /** The folder `changelog.info` names now. */
  current: string;
}

type SnapshotState = Pick<LakeState, 'container' | 'location' | 'target' | 'inPlaceTables'>;

/** Copies the table's live partitions once the interval has passed and something changed; null otherwise. */
async function snapshotTable(
  state: SnapshotState,
  entity: CdmEntity,
  now: Date,
): Promise<{ entity: CdmEntity; files: string[]; state: () => Promise<void> } | null> {
  const { container } = state;
  const name = entity.name;
  const { state: tableState, etag } = await readTableState(container, name);
  const previous = tableState.snapshot;
  if (previous && now.getTime() - Date.parse(previous.at) < state.target.snapshotIntervalMinutes * MINUTE) return null;
  const live = await listCsv(container, name);
  const unchanged =
    previous &&
    live.length === Object.keys(previous.sources).length &&
    live.every((file) => sameEtag(previous.sources[partitionOfPath(file.path)], file.etag));
  if (unchanged || live.length === 0) return null;
  const folder = timeFolderName(now);
  const sources: Record<string, string> = {};
  const files: string[] = [];
  const partitions: CdmPartition[] = [];
  for (const file of live) {
    const partition = partitionOfPath(file.path);
    const content = await readText(container, file.path);
    if (!content) continue;
    const path = snapshotPartitionPath(name, folder, partition);
    // Never overwritten: a reader that opened this snapshot keeps reading the same bytes.
    await writeText(container, path, content.text, null);
    sources[partition] = content.etag;
    files.push(path);
    partitions.push(partitionEntry(partition, state.location(path)));
  }
  const next: TableState = { ...tableState, snapshot: { at: now.toISOString(), folder, sources } };
  return {
    entity: { ...entity, partitions },
    files,
    state: async () => {
      await writeText(container, tableStatePath(name), JSON.stringify(next), etag);
      state.inPlaceTables.delete(name);
    },
  };
}

/** In-place mode: snapshots every table changed since its last snapshot once the interval has passed. Other modes: nothing. */
export async function writeSnapshots(
  state: SnapshotState & Pick<LakeState, 'queues'>,
  now: Date,
): Promise<SnapshotResult> {
  if (state.target.mode !== 'inPlace') return { written: [] };
  const { model } = await readModel(state, ROOT_MODEL);
  const written: SnapshotResult['written'] = [];
  const snapshots: Array<{ entity: CdmEntity; state: () => Promise<void> }> = [];
  for (const entity of model.entities) {
    const isInPlace = entity.attributes.some((attribute) => attribute.name === CREATED_ON);
    if (!isInPlace) continue;
    // Under the table's lock too: a batch of another instance moving a row between partitions is never half in it.
    const snapshot = await withTableLock(state.container, entity.name, () => snapshotTable(state, entity, now));
    if (!snapshot) continue;
    snapshots.push(snapshot);
    written.push({ table: entity.name, folder: timeFolderName(now), files: snapshot.files });
  }
  if (snapshots.length === 0) return { written };
  // Switched only now that every snapshot file is complete, in one atomic overwrite.
  await updateModel(state, ROOT_MODEL, (current) =>
    snapshots.reduce((result, { entity }) => {
      const existing = result.entities.find((candidate) => candidate.name === entity.name);
      return existing ? withEntity(result, { ...existing, partitions: entity.partitions }) : result;
    }, current),
  );
  for (const snapshot of snapshots) await snapshot.state();
  return { written };
}

/**
 * Incremental mode: once the current folder is older than the interval and holds data, finishes it and starts
 * the next. Other modes: nothing.
 */
export async function rollover(
  state: Pick<LakeState, 'container' | 'containerName' | 'location' | 'target'>,
  now: Date,
): Promise<RolloverResult> {
  const { container } = state;
  if (state.target.mode !== 'incremental') return { finished: null, current: '' };
  const { folder, etag } = await currentFolder(state);
  const started = parseTimeFolderName(folder) as Date;
  if (now.getTime() - started.getTime() < state.target.incrementalIntervalMinutes * MINUTE)
    return { finished: null, current: folder };
  const { model } = await readModel(state, ROOT_MODEL);
  const entities: CdmEntity[] = [];
  let hasData = false;
  for (const entity of model.entities) {
    const files = await listCsv(container, `${folder}/${entity.name}`);
    hasData ||= files.length > 0;
    entities.push({
      ...entity,
      partitions: files.map((file) => partitionEntry(partitionOfPath(file.path), state.location(file.path))),
    });
  }
  // An idle folder stays current: later folders exist only when something changed (docs/notes/lake.md).
  if (!hasData) return { finished: null, current: folder };
  for await (const item of container.listBlobsFlat({ prefix: `${OPTIONSET_FOLDER}/` })) {
    const content = await readText(container, item.name);
    if (content) await writeText(container, `${folder}/${item.name}`, content.text);
  }
  // Last, once: readers (and the ADF template's BlobCreated trigger) take the folder's model.json as "complete".
  // If it is there already, a rollover wrote it and then failed to move changelog.info on: finish that one,
  // with the files as they are now, instead of failing on it at every run from now on.
  const folderModel = `${folder}/${ROOT_MODEL}`;
  await writeText(
    container,
    folderModel,
    serializeModel({ ...model, entities }),
    (await readText(container, folderModel))?.etag ?? null,
  );
  const next = timeFolderName(now);
  await writeText(container, CHANGELOG, next, etag);
  return { finished: folder, current: next };
}

/** The port's maintenance report: what the snapshots and the rollover did, in words for the log. */
export const maintenanceReport = (snapshots: SnapshotResult, rolled: RolloverResult): MaintenanceReport => ({
  done: [
    ...snapshots.written.map(
      (snapshot) => `snapshot of ${snapshot.table} in ${snapshot.table}/Snapshot/${snapshot.folder}`,
    ),
    ...(rolled.finished ? [`finished folder ${rolled.finished}, now writing ${rolled.current}`] : []),
  ],
});
