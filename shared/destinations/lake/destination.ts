/**
 * The lake destination of one export profile: Synapse-Link-compatible CSV + model.json in one container,
 * fed by the same `ensureTables` / `applyBatch` calls as the SQL destination. Three modes:
 * - `appendOnly`: every change is a new record in `<table>/<partition>.csv` (append blobs, whole records per
 *   block); deletes are records with `IsDelete=True`; readers keep the latest per `Id` by `versionnumber`.
 * - `inPlace`: partition files hold the latest state (version-guarded, tombstones in a state blob); read-only
 *   snapshots under `<table>/Snapshot/<time>/` are written by `writeSnapshots`, and only then does the root
 *   `model.json` point at them.
 * - `incremental`: append-only records in `<folder>/<table>/<partition>.csv`; `rollover` finishes a folder
 *   (its `model.json` last) and names the next one in `Changelog/changelog.info`.
 * Timers belong to the caller: it calls `writeSnapshots(now)` / `rollover(now)` on its schedule.
 */
import { RestError, type ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';
import type { RowUpsert } from '../../dataverse/changes';
import type { ManyToManyRelationship, TableMetadata } from '../../dataverse/metadata';
import { ExportError, toExportError } from '../../errors';
import { validateDataverseName } from '../../schema/identifiers';
import { ID_COLUMN, VERSION_COLUMN } from '../../schema/table-model';
import type {
  ApplyBatch,
  ApplyResult,
  EnsureTablesResult,
  FailedChange,
  ResyncSweep,
  SchemaAction,
  SchemaFailure,
} from '../destination';
import { CREATED_ON, IS_DELETE, lakeColumnsOf, mergeColumns, type LakeColumn } from './columns';
import { parsePartition, usDateTime } from './csv';
import { createRecordEncoder, type RecordEncoder } from './records';
import {
  columnOfAttribute,
  emptyModel,
  entityOf,
  entityState,
  parseModel,
  partitionEntry,
  serializeModel,
  withEntity,
  type CdmEntity,
  type CdmModel,
  type CdmPartition,
  type PartitionGranularity,
} from './model-json';
import { optionsetFiles } from './optionset-files';
import {
  CHANGELOG,
  OPTIONSET_FOLDER,
  ROOT_MODEL,
  dfsRoot,
  livePartitionPath,
  parseTimeFolderName,
  partitionName,
  partitionOfPath,
  snapshotPartitionPath,
  tableModelPath,
  tableStatePath,
  timeFolderName,
} from './paths';
import { createSeenIds, foldRecords } from './resync';
import { withTableLock, type TableLock } from './table-lock';
import {
  MAX_APPEND_BLOCKS,
  appendBlocks,
  appendToBlob,
  committedBlocks,
  etagOf,
  guarded,
  listCsv,
  readText,
  sameEtag,
  writeText,
} from './storage';

export type LakeMode = 'appendOnly' | 'inPlace' | 'incremental';

export interface LakeTarget {
  mode: LakeMode;
  granularity: PartitionGranularity;
  /** Incremental mode: minutes a folder collects changes before `rollover` finishes it (5 – 1,440). */
  incrementalIntervalMinutes: number;
  /** In-place mode: minutes between snapshots of a changed table. */
  snapshotIntervalMinutes: number;
}

export interface LakeDependencies {
  /** Sink timestamps and folder names; tests pass a fixed clock. */
  clock?: () => Date;
  /** Blocks per append blob before an overflow file starts: Azure's limit, lowered by tests. */
  maxAppendBlocks?: number;
}

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

export interface LakeDestination {
  readonly mode: LakeMode;
  /** Creates the container, the tables' entities (new columns appended) and OptionsetMetadata. Idempotent. */
  ensureTables(tables: TableMetadata[], relationships: ManyToManyRelationship[]): Promise<EnsureTablesResult>;
  /** Applies one batch; data failures come back in `failed`, anything else throws an ExportError. */
  applyBatch(table: TableMetadata, batch: ApplyBatch): Promise<ApplyResult>;
  /** Marks the tables' initial sync complete in model.json (`Athena:InitialSyncState` = `Completed`; DV2SQL skips others). */
  completeInitialSync(logicalNames: string[], at: Date): Promise<void>;
  /** In-place mode: snapshots every table changed since its last snapshot once the interval has passed. Other modes: nothing. */
  writeSnapshots(now: Date): Promise<SnapshotResult>;
  /**
   * Incremental mode: once the current folder is older than the interval and holds data, finishes it and starts
   * the next. Must not run while `applyBatch` runs for the same profile. Other modes: nothing.
   */
  rollover(now: Date): Promise<RolloverResult>;
  /** A full resync's bookkeeping; `withMaintenance` turns `unseenIds` into the port's sweep. */
  resync: LakeResync;
  close(): Promise<void>;
}

export interface LakeResync extends Omit<ResyncSweep, 'sweep'> {
  /**
   * The live ids the resync did not copy, at or below `watermark` (a newer row was written by a change after the
   * resync began). Reads every record of the table once, holding one entry per id in memory; writes nothing.
   */
  unseenIds(table: TableMetadata, watermark: number): Promise<string[]>;
}

type Granularity = PartitionGranularity | 'none';

interface Layout {
  columns: LakeColumn[];
  records: RecordEncoder;
  granularity: Granularity;
  versionIndex: number;
  /** In-place tables rewrite partitions; tables without `createdon` are always append-only (lake-format.md §6). */
  inPlace: boolean;
}

interface LiveRow {
  version: number;
  sinkCreatedOn: string | null;
  raw: string;
}

interface LivePartition {
  /** null: the file does not exist yet. */
  etag: string | null;
  rows: Map<string, LiveRow>;
}

const tableStateSchema = z.strictObject({
  /** Newest delete version per Id: upserts at or below it are stale. */
  tombstones: z.record(z.string(), z.number()),
  snapshot: z
    .strictObject({ at: z.iso.datetime(), folder: z.string(), sources: z.record(z.string(), z.string()) })
    .optional(),
});
type TableState = z.infer<typeof tableStateSchema>;

function parseTableState(text: string, path: string): TableState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = tableStateSchema.safeParse(json);
  if (!parsed.success) {
    throw new ExportError('schema', `${path} is not the export's table state.`, {
      where: path,
      fix: 'Resync the table: delete its folder, its state blob and its entity in model.json, then activate the profile.',
    });
  }
  return parsed.data;
}

interface InPlaceTable {
  partitions: Map<string, LivePartition>;
  state: TableState;
  stateEtag: string | null;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MINUTE = 60_000;

const isConflict = (error: unknown): boolean =>
  error instanceof ExportError &&
  error.cause instanceof RestError &&
  (error.cause.statusCode === 412 || error.cause.statusCode === 409);

const rowFailure = (id: string, changeType: FailedChange['changeType'], error: unknown): FailedChange => ({
  id,
  changeType,
  reason: error instanceof Error ? error.message : String(error),
});

export function createLakeDestination(
  container: ContainerClient,
  target: LakeTarget,
  dependencies: LakeDependencies = {},
): LakeDestination {
  const clock = dependencies.clock ?? (() => new Date());
  const maxAppendBlocks = dependencies.maxAppendBlocks ?? MAX_APPEND_BLOCKS;
  const root = dfsRoot(container.url, container.accountName, container.containerName);
  // The SDK takes an IP-style URL's first path segment as the account, and for `http://<ip>/<container>` names the
  // container "undefined": take the last path segment then, so errors say where they happened.
  const containerName =
    container.containerName && container.containerName !== 'undefined'
      ? container.containerName
      : (new URL(container.url).pathname.split('/').filter(Boolean).pop() ?? 'the lake container');
  const location = (path: string): string => `${root}/${path}`;
  const layouts = new Map<string, Layout>();
  const inPlaceTables = new Map<string, InPlaceTable>();
  /** Per partition (`<folder>/<partition>` without `.csv`): the file appends go to now and its committed blocks. */
  const appendTargets = new Map<string, { path: string; committedBlocks: number }>();
  const queues = new Map<string, Promise<unknown>>();
  const seenIds = createSeenIds(container);

  /** Runs `action` after every earlier action with the same key, so one process never races itself. */
  function serial<T>(key: string, action: () => Promise<T>): Promise<T> {
    const previous = queues.get(key) ?? Promise.resolve();
    const next = previous.then(action, action);
    queues.set(
      key,
      next.catch(() => undefined),
    );
    return next;
  }

  async function readModel(path: string): Promise<{ model: CdmModel; etag: string | null }> {
    const current = await readText(container, path);
    return current
      ? { model: parseModel(current.text, path), etag: current.etag }
      : { model: emptyModel(), etag: null };
  }

  /**
   * Read-modify-write of a model.json, retried when another writer got there first. `change` runs again on every
   * attempt, so what it lists (partition files) is never older than the model it writes over.
   */
  function updateModel(path: string, change: (model: CdmModel) => CdmModel | Promise<CdmModel>): Promise<CdmModel> {
    return serial(path, async () => {
      for (let attempt = 1; ; attempt++) {
        const { model, etag } = await readModel(path);
        const next = await change(model);
        try {
          await writeText(container, path, serializeModel(next), etag);
          return next;
        } catch (error) {
          if (attempt < 5 && isConflict(error)) continue;
          throw error;
        }
      }
    });
  }

  function layoutOf(table: TableMetadata, entity: CdmEntity): Layout {
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
      inPlace: target.mode === 'inPlace' && granularity !== 'none',
    };
  }

  async function layoutFor(table: TableMetadata): Promise<Layout> {
    const cached = layouts.get(table.logicalName);
    if (cached) return cached;
    const { model } = await readModel(ROOT_MODEL);
    const entity = model.entities.find((candidate) => candidate.name === table.logicalName);
    if (!entity) {
      throw new ExportError('schema', `The lake has no entity for table ${table.logicalName}.`, {
        where: `${containerName}/${ROOT_MODEL}`,
        fix: 'Activate the profile (ensureTables) before applying changes.',
      });
    }
    const layout = layoutOf(table, entity);
    layouts.set(table.logicalName, layout);
    return layout;
  }

  const livePartitions = async (table: string): Promise<CdmPartition[]> =>
    (await listCsv(container, table)).map((file) => partitionEntry(partitionOfPath(file.path), location(file.path)));

  /** Whether the root entity lists the live files (not snapshots, not the schema-only root of incremental mode). */
  const rootListsLiveFiles = (layout: Layout): boolean =>
    target.mode === 'appendOnly' || (target.mode === 'inPlace' && !layout.inPlace);

  /** The per-table manifest DV2SQL reads: the root entity with the live partition files. */
  async function writeTableModel(entity: CdmEntity): Promise<void> {
    if (target.mode === 'incremental') return;
    await updateModel(tableModelPath(entity.name), async () => ({
      ...emptyModel(),
      entities: [{ ...entity, partitions: await livePartitions(entity.name) }],
    }));
  }

  /** After a new partition file appeared: the root entity's partitions (where it lists live files) and the per-table manifest. */
  async function refreshTableModels(table: string, layout: Layout): Promise<void> {
    const root = await updateModel(ROOT_MODEL, async (model) => {
      const entity = model.entities.find((candidate) => candidate.name === table);
      return entity && rootListsLiveFiles(layout)
        ? withEntity(model, { ...entity, partitions: await livePartitions(table) })
        : model;
    });
    const entity = root.entities.find((candidate) => candidate.name === table);
    if (entity) await writeTableModel(entity);
  }

  interface Pending {
    id: string;
    changeType: FailedChange['changeType'];
    versionNumber: number;
    upsert?: RowUpsert;
  }

  /** Upserts and deletes in version order (deletes after an upsert of the same version), invalid ids failed. */
  function pendingChanges(batch: ApplyBatch, failed: FailedChange[]): Pending[] {
    const changes: Pending[] = [];
    for (const upsert of batch.upserts)
      changes.push({ id: upsert.id, changeType: 'upsert', versionNumber: upsert.versionNumber, upsert });
    for (const remove of batch.deletes)
      changes.push({ id: remove.id, changeType: 'delete', versionNumber: remove.versionNumber });
    const valid = changes.filter((change) => {
      if (GUID.test(change.id)) return true;
      failed.push({ id: change.id, changeType: change.changeType, reason: `Id '${change.id}' is not a GUID.` });
      return false;
    });
    return valid.sort(
      (a, b) =>
        a.versionNumber - b.versionNumber || (a.changeType === b.changeType ? 0 : a.changeType === 'upsert' ? -1 : 1),
    );
  }

  async function currentFolder(): Promise<{ folder: string; etag: string }> {
    const changelog = await readText(container, CHANGELOG);
    const folder = changelog?.text.trim();
    if (!changelog || !folder || !parseTimeFolderName(folder)) {
      throw new ExportError('config', `${CHANGELOG} is missing or does not name a folder.`, {
        where: `${containerName}/${CHANGELOG}`,
        fix: 'Activate the profile (ensureTables), which starts the first folder.',
      });
    }
    return { folder, etag: changelog.etag };
  }

  /**
   * Appends to the partition's newest file (`<partition>.csv`, then `<partition>_001.csv`, …): a file that could
   * not take the batch's blocks within the append blob limit is left as it is and the next one started.
   * Returns whether the file is new to this instance (its model.json entries may need a refresh).
   */
  async function appendToPartition(folder: string, partition: string, blocks: string[]): Promise<boolean> {
    const key = `${folder}/${partition}`;
    let current = appendTargets.get(key);
    if (!current) {
      const overflow = new RegExp(`^${partition}(_(\\d{3}))?$`);
      const newest = (await listCsv(container, folder))
        .map((file) => partitionOfPath(file.path))
        .filter((name) => overflow.test(name))
        .sort()
        .at(-1);
      const path = `${folder}/${newest ?? partition}.csv`;
      current = { path, committedBlocks: newest ? await committedBlocks(container, path) : 0 };
    }
    let create = !appendTargets.has(key);
    if (current.committedBlocks + blocks.length > maxAppendBlocks) {
      const suffix = Number(/_(\d{3})\.csv$/.exec(current.path)?.[1] ?? 0) + 1;
      current = { path: `${folder}/${partition}_${String(suffix).padStart(3, '0')}.csv`, committedBlocks: 0 };
      create = true;
    }
    try {
      appendTargets.set(key, {
        path: current.path,
        committedBlocks: await appendToBlob(container, current.path, blocks, create),
      });
    } catch (error) {
      // Some blocks may have landed: read the file's block count from the lake next time.
      appendTargets.delete(key);
      throw error;
    }
    // A file this instance writes to for the first time may have been created by a writer that died before
    // listing it in model.json: refreshing then heals that.
    return create;
  }

  async function appendChanges(table: TableMetadata, layout: Layout, batch: ApplyBatch): Promise<ApplyResult> {
    const failed: FailedChange[] = [];
    const sinkTime = usDateTime(clock());
    const byPartition = new Map<string, string[]>();
    let upserted = 0;
    let deleted = 0;
    // Deletes carry no createdon; they go to the partition of their own time (readers dedupe per Id across the table).
    const deletePartition = partitionName(clock().toISOString(), layout.granularity);
    for (const change of pendingChanges(batch, failed)) {
      try {
        let record: string;
        let partition: string;
        if (change.upsert) {
          const { fields, createdOn } = layout.records.upsert(change.upsert, sinkTime);
          record = layout.records.encode(fields);
          partition = partitionName(createdOn, layout.granularity);
          upserted += 1;
        } else {
          record = layout.records.encode(layout.records.remove(change.id, change.versionNumber, sinkTime));
          partition = deletePartition;
          deleted += 1;
        }
        const records = byPartition.get(partition);
        if (records) records.push(record);
        else byPartition.set(partition, [record]);
      } catch (error) {
        if (!(error instanceof ExportError) || error.errorClass !== 'data') throw error;
        failed.push(rowFailure(change.id, change.changeType, error));
      }
    }
    const folder = target.mode === 'incremental' ? (await currentFolder()).folder : null;
    // Partitions are separate blobs: their appends run side by side.
    const firstWrites = await Promise.all(
      [...byPartition].map(([partition, records]) =>
        appendToPartition(
          folder ? `${folder}/${table.logicalName}` : table.logicalName,
          partition,
          appendBlocks(records),
        ),
      ),
    );
    if (firstWrites.includes(true) && !folder) await refreshTableModels(table.logicalName, layout);
    return { upserted, deleted, skippedAsStale: 0, failed, widened: [] };
  }

  async function loadPartition(path: string, layout: Layout): Promise<LivePartition> {
    const blob = await readText(container, path);
    const rows = new Map<string, LiveRow>();
    if (!blob) return { etag: null, rows };
    const parsed = parsePartition(blob.text, path);
    for (const { record, raw } of parsed) {
      const id = record[0] ?? '';
      rows.set(id, {
        version: Number(record[layout.versionIndex] ?? 0),
        sinkCreatedOn: record[1] || null,
        raw: raw.endsWith('\n') ? raw : `${raw}\n`,
      });
    }
    return { etag: blob.etag, rows };
  }

  async function inPlaceTable(name: string, layout: Layout): Promise<InPlaceTable> {
    let cached = inPlaceTables.get(name);
    // Another writer's tombstones or rows show as a different etag; only what changed is read again.
    if (cached && !sameEtag(cached.stateEtag, await etagOf(container, tableStatePath(name)))) cached = undefined;
    if (!cached) {
      const state = await readText(container, tableStatePath(name));
      cached = {
        partitions: new Map(),
        state: state ? parseTableState(state.text, tableStatePath(name)) : { tombstones: {} },
        stateEtag: state?.etag ?? null,
      };
      inPlaceTables.set(name, cached);
    }
    for (const file of await listCsv(container, name)) {
      const partition = partitionOfPath(file.path);
      if (!sameEtag(cached.partitions.get(partition)?.etag, file.etag))
        cached.partitions.set(partition, await loadPartition(file.path, layout));
    }
    return cached;
  }

  /** Under the table's lock (`table-lock.ts`): the read of the live table and the writes below are one step across instances. */
  async function applyInPlace(
    table: TableMetadata,
    layout: Layout,
    batch: ApplyBatch,
    lock: TableLock,
  ): Promise<ApplyResult> {
    const name = table.logicalName;
    const failed: FailedChange[] = [];
    const live = await inPlaceTable(name, layout);
    const sinkTime = usDateTime(clock());
    const where = new Map<string, string>();
    for (const [partition, contents] of live.partitions)
      for (const id of contents.rows.keys()) where.set(id, partition);
    const dirty = new Set<string>();
    let stateChanged = false;
    let upserted = 0;
    let deleted = 0;
    let stale = 0;
    for (const change of pendingChanges(batch, failed)) {
      const id = change.id.toLowerCase();
      const tombstone = live.state.tombstones[id];
      const partition = where.get(id);
      const current = partition === undefined ? undefined : live.partitions.get(partition)?.rows.get(id);
      if (change.upsert) {
        if (
          (tombstone !== undefined && tombstone >= change.versionNumber) ||
          (current && current.version >= change.versionNumber)
        ) {
          stale += 1;
          continue;
        }
        try {
          const { fields, createdOn } = layout.records.upsert(change.upsert, sinkTime);
          if (current?.sinkCreatedOn) fields[1] = current.sinkCreatedOn;
          const target = partitionName(createdOn, layout.granularity);
          const record = layout.records.encode(fields);
          if (partition !== undefined && partition !== target) {
            live.partitions.get(partition)?.rows.delete(id);
            dirty.add(partition);
          }
          const contents = live.partitions.get(target) ?? { etag: null, rows: new Map<string, LiveRow>() };
          contents.rows.delete(id);
          contents.rows.set(id, { version: change.versionNumber, sinkCreatedOn: fields[1] ?? null, raw: record });
          live.partitions.set(target, contents);
          where.set(id, target);
          dirty.add(target);
          upserted += 1;
        } catch (error) {
          if (!(error instanceof ExportError) || error.errorClass !== 'data') throw error;
          failed.push(rowFailure(change.id, 'upsert', error));
        }
        continue;
      }
      // A delete wins over the row version it saw go (its version is the delta token's watermark).
      if (current && current.version > change.versionNumber) {
        stale += 1;
        continue;
      }
      if (tombstone === undefined || tombstone < change.versionNumber) {
        live.state.tombstones[id] = change.versionNumber;
        stateChanged = true;
      }
      if (current && partition !== undefined) {
        live.partitions.get(partition)?.rows.delete(id);
        where.delete(id);
        dirty.add(partition);
        deleted += 1;
      } else {
        stale += 1;
      }
    }
    lock.check();
    try {
      // Tombstones first: if the partition write fails, a redelivered delete still finds its row and removes it.
      if (stateChanged)
        live.stateEtag = await writeText(container, tableStatePath(name), JSON.stringify(live.state), live.stateEtag);
      let created = false;
      for (const partition of dirty) {
        const contents = live.partitions.get(partition);
        if (!contents) continue;
        const text = [...contents.rows.values()].map((row) => row.raw).join('');
        created ||= contents.etag === null;
        contents.etag = await writeText(container, livePartitionPath(name, partition), text, contents.etag);
      }
      if (created) await refreshTableModels(name, layout);
    } catch (error) {
      // Our view of the table may now be behind another writer's; read it again on the retry.
      inPlaceTables.delete(name);
      throw error;
    }
    return { upserted, deleted, skippedAsStale: stale, failed, widened: [] };
  }

  /** Incremental mode's time folders, oldest first, the one being written included. */
  async function timeFolders(): Promise<string[]> {
    return guarded(containerName, async () => {
      const folders: string[] = [];
      for await (const item of container.listBlobsByHierarchy('/')) {
        const name = item.name.replace(/\/$/, '');
        if (item.kind === 'prefix' && parseTimeFolderName(name)) folders.push(name);
      }
      return folders.sort();
    });
  }

  /** A table's live ids with their versions as readers see them: the in-place partitions, or the newest record per Id across its files. */
  async function liveIds(table: TableMetadata, layout: Layout): Promise<Array<[string, number]>> {
    if (layout.inPlace) {
      const live = await inPlaceTable(table.logicalName, layout);
      return [...live.partitions.values()].flatMap((partition) =>
        [...partition.rows].map(([id, row]): [string, number] => [id, row.version]),
      );
    }
    const folders =
      target.mode === 'incremental'
        ? (await timeFolders()).map((folder) => `${folder}/${table.logicalName}`)
        : [table.logicalName];
    const fields = {
      version: layout.versionIndex,
      isDelete: layout.columns.findIndex((column) => column.name === IS_DELETE),
    };
    const newest = new Map<string, { version: number; deleted: boolean }>();
    for (const folder of folders) {
      for (const file of await listCsv(container, folder))
        foldRecords((await readText(container, file.path))?.text ?? '', file.path, fields, newest);
    }
    return [...newest].filter(([, record]) => !record.deleted).map(([id, record]) => [id, record.version]);
  }

  async function ensureTable(
    model: CdmModel,
    table: TableMetadata,
    actions: SchemaAction[],
  ): Promise<{ entity: CdmEntity; layout: Layout }> {
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
    return { entity, layout: layoutOf(table, entity) };
  }

  async function writeOptionsetFiles(
    tables: TableMetadata[],
    relationships: ManyToManyRelationship[],
  ): Promise<number> {
    const exported = (table: TableMetadata): ReadonlySet<string> => {
      const names = new Set(lakeColumnsOf(table).map((column) => column.name));
      return new Set(table.columns.map((column) => column.logicalName).filter((name) => names.has(name)));
    };
    let lines = 0;
    for (const file of optionsetFiles(tables, relationships, exported, clock())) {
      await writeText(container, `${OPTIONSET_FOLDER}/${file.kind}.csv`, file.text);
      lines += file.text === '' ? 0 : file.text.split('\n').length - 1;
    }
    return lines;
  }

  async function snapshotTable(
    entity: CdmEntity,
    now: Date,
  ): Promise<{ entity: CdmEntity; files: string[]; state: () => Promise<void> } | null> {
    const name = entity.name;
    const stateBlob = await readText(container, tableStatePath(name));
    const state = stateBlob ? parseTableState(stateBlob.text, tableStatePath(name)) : { tombstones: {} };
    const previous = state.snapshot;
    if (previous && now.getTime() - Date.parse(previous.at) < target.snapshotIntervalMinutes * MINUTE) return null;
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
      partitions.push(partitionEntry(partition, location(path)));
    }
    const next: TableState = { ...state, snapshot: { at: now.toISOString(), folder, sources } };
    return {
      entity: { ...entity, partitions },
      files,
      state: async () => {
        await writeText(container, tableStatePath(name), JSON.stringify(next), stateBlob?.etag ?? null);
        inPlaceTables.delete(name);
      },
    };
  }

  return {
    mode: target.mode,

    async ensureTables(tables, relationships) {
      const actions: SchemaAction[] = [];
      const failures: SchemaFailure[] = [];
      await guarded(containerName, () => container.createIfNotExists());
      const ready: Array<{ table: TableMetadata; entity: CdmEntity; layout: Layout }> = [];
      const current = (await readModel(ROOT_MODEL)).model;
      for (const table of tables) {
        try {
          ready.push({ table, ...(await ensureTable(current, table, actions)) });
        } catch (error) {
          failures.push({ table: table.logicalName, error: toExportError(error, 'schema') });
        }
      }
      // One write of the root for all tables: the schema from this call, partitions as the mode keeps them.
      const root = await updateModel(ROOT_MODEL, async (model) => {
        let result = model;
        for (const { entity, layout } of ready) {
          const kept = result.entities.find((candidate) => candidate.name === entity.name)?.partitions ?? [];
          result = withEntity(result, {
            ...entity,
            partitions: rootListsLiveFiles(layout) ? await livePartitions(entity.name) : kept,
          });
        }
        return result;
      });
      for (const { table, layout } of ready) {
        layouts.set(table.logicalName, layout);
        const entity = root.entities.find((candidate) => candidate.name === table.logicalName);
        if (entity) await writeTableModel(entity);
      }
      if (ready.length > 0) {
        const rows = await writeOptionsetFiles(
          ready.map(({ table }) => table),
          relationships,
        );
        actions.push({ table: '*', action: 'refreshMetadata', rows });
      }
      if (target.mode === 'incremental' && !(await readText(container, CHANGELOG))) {
        await writeText(container, CHANGELOG, timeFolderName(clock()), null).catch((error: unknown) => {
          if (!isConflict(error)) throw error;
        });
      }
      return { actions, failures };
    },

    applyBatch(table, batch) {
      return serial(`table:${table.logicalName}`, async () => {
        const layout = await layoutFor(table);
        if (!layout.inPlace) return appendChanges(table, layout, batch);
        return withTableLock(container, table.logicalName, (lock) => applyInPlace(table, layout, batch, lock));
      });
    },

    resync: {
      start: (logicalName) => seenIds.clear(logicalName),
      finish: (logicalName) => seenIds.clear(logicalName),
      markSeen: (logicalName, ids) => seenIds.add(logicalName, ids),
      async unseenIds(table, watermark) {
        const seen = await seenIds.read(table.logicalName);
        return (await liveIds(table, await layoutFor(table)))
          .filter(([id, version]) => version <= watermark && !seen.has(id))
          .map(([id]) => id);
      },
    },

    async completeInitialSync(logicalNames, at) {
      const names = new Set(logicalNames);
      const model = await updateModel(ROOT_MODEL, (current) => ({
        ...current,
        entities: current.entities.map((entity) => {
          if (!names.has(entity.name)) return entity;
          const columns = entity.attributes.map(columnOfAttribute);
          return entityOf(
            entity.name,
            columns,
            { ...entityState(entity), initialSyncCompletedAt: at },
            entity.partitions,
          );
        }),
      }));
      for (const entity of model.entities.filter((candidate) => names.has(candidate.name)))
        await writeTableModel(entity);
    },

    async writeSnapshots(now) {
      if (target.mode !== 'inPlace') return { written: [] };
      const { model } = await readModel(ROOT_MODEL);
      const written: SnapshotResult['written'] = [];
      const snapshots: Array<{ entity: CdmEntity; state: () => Promise<void> }> = [];
      for (const entity of model.entities) {
        const isInPlace = entity.attributes.some((attribute) => attribute.name === CREATED_ON);
        if (!isInPlace) continue;
        // Under the table's lock too: a batch of another instance moving a row between partitions is never half in it.
        const snapshot = await withTableLock(container, entity.name, () => snapshotTable(entity, now));
        if (!snapshot) continue;
        snapshots.push(snapshot);
        written.push({ table: entity.name, folder: timeFolderName(now), files: snapshot.files });
      }
      if (snapshots.length === 0) return { written };
      // Switched only now that every snapshot file is complete, in one atomic overwrite.
      await updateModel(ROOT_MODEL, (current) =>
        snapshots.reduce((result, { entity }) => {
          const existing = result.entities.find((candidate) => candidate.name === entity.name);
          return existing ? withEntity(result, { ...existing, partitions: entity.partitions }) : result;
        }, current),
      );
      for (const snapshot of snapshots) await snapshot.state();
      return { written };
    },

    async rollover(now) {
      if (target.mode !== 'incremental') return { finished: null, current: '' };
      const { folder, etag } = await currentFolder();
      const started = parseTimeFolderName(folder) as Date;
      if (now.getTime() - started.getTime() < target.incrementalIntervalMinutes * MINUTE)
        return { finished: null, current: folder };
      const { model } = await readModel(ROOT_MODEL);
      const entities: CdmEntity[] = [];
      let hasData = false;
      for (const entity of model.entities) {
        const files = await listCsv(container, `${folder}/${entity.name}`);
        hasData ||= files.length > 0;
        entities.push({
          ...entity,
          partitions: files.map((file) => partitionEntry(partitionOfPath(file.path), location(file.path))),
        });
      }
      // An idle folder stays current: later folders exist only when something changed (lake-format.md §1b).
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
    },

    async close() {
      layouts.clear();
      inPlaceTables.clear();
      appendTargets.clear();
    },
  };
}
