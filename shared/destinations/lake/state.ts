/**
 * What one lake destination knows between calls: its settings, where it writes, and the caches the modes keep
 * (entity layouts, in-place tables, append targets, per-key queues). One object, passed explicitly to the modules
 * that need it; each module's parameter type (a `Pick` of it) says which parts it touches.
 */
import type { ContainerClient } from '@azure/storage-blob';
import type { LakeColumn } from './columns';
import type { PartitionGranularity } from './model-json';
import { dfsRoot } from './paths';
import type { RecordEncoder } from './records';
import { MAX_APPEND_BLOCKS } from './storage';
import type { TableState } from './table-state';

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

export type Granularity = PartitionGranularity | 'none';

/** How one table's records are written, read from its entity in the root model.json. */
export interface Layout {
  columns: LakeColumn[];
  records: RecordEncoder;
  granularity: Granularity;
  versionIndex: number;
  /** In-place tables rewrite partitions; tables without `createdon` are always append-only (docs/notes/lake.md). */
  inPlace: boolean;
}

export interface LiveRow {
  version: number;
  sinkCreatedOn: string | null;
  raw: string;
}

export interface LivePartition {
  /** null: the file does not exist yet. */
  etag: string | null;
  rows: Map<string, LiveRow>;
}

/** An in-place table as last read: its partitions' rows and its state blob (tombstones, last snapshot). */
export interface InPlaceTable {
  partitions: Map<string, LivePartition>;
  state: TableState;
  stateEtag: string | null;
}

/** Per partition (`<folder>/<partition>` without `.csv`): the file appends go to now and its committed blocks. */
export interface AppendTarget {
  path: string;
  committedBlocks: number;
}

export interface LakeState {
  readonly container: ContainerClient;
  /** The container's name as errors report it. */
  readonly containerName: string;
  readonly target: LakeTarget;
  readonly clock: () => Date;
  readonly maxAppendBlocks: number;
  /** The dfs URL of a path in the container, as model.json lists partition files. */
  readonly location: (path: string) => string;
  readonly layouts: Map<string, Layout>;
  readonly inPlaceTables: Map<string, InPlaceTable>;
  /** Appended tables' state blobs (tombstones, floor) as last read, with their etags (`append-guard.ts`). */
  readonly tableStates: Map<string, { state: TableState; etag: string | null }>;
  readonly appendTargets: Map<string, AppendTarget>;
  /** The tail of each key's queue (`serial`). */
  readonly queues: Map<string, Promise<unknown>>;
}

export function createLakeState(
  container: ContainerClient,
  target: LakeTarget,
  dependencies: LakeDependencies = {},
): LakeState {
  const root = dfsRoot(container.url, container.accountName, container.containerName);
  // The SDK takes an IP-style URL's first path segment as the account, and for `http://<ip>/<container>` names the
  // container "undefined": take the last path segment then, so errors say where they happened.
  const containerName =
    container.containerName && container.containerName !== 'undefined'
      ? container.containerName
      : (new URL(container.url).pathname.split('/').filter(Boolean).pop() ?? 'the lake container');
  return {
    container,
    containerName,
    target,
    clock: dependencies.clock ?? (() => new Date()),
    maxAppendBlocks: dependencies.maxAppendBlocks ?? MAX_APPEND_BLOCKS,
    location: (path) => `${root}/${path}`,
    layouts: new Map(),
    inPlaceTables: new Map(),
    tableStates: new Map(),
    appendTargets: new Map(),
    queues: new Map(),
  };
}

/** Runs `action` after every earlier action with the same key, so one process never races itself. */
export function serial<T>(state: Pick<LakeState, 'queues'>, key: string, action: () => Promise<T>): Promise<T> {
  const previous = state.queues.get(key) ?? Promise.resolve();
  const next = previous.then(action, action);
  state.queues.set(
    key,
    next.catch(() => undefined),
  );
  return next;
}
