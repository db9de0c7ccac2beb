/**
 * The initial-sync orchestration's plan, kept pure so the orchestrator stays a thin, deterministic loop:
 * each cycle copies one page of up to `fanOut` tables at once (or lanes of a partitioned table's partitions), then
 * continues as new with the tables still copying, so the orchestration history never grows beyond one cycle.
 */
export interface InitialSyncInput {
  profile: string;
  /** The profile's activation generation: a page copy of a deleted profile of the same name is dropped. */
  generation?: string;
  /** Tables whose initial load is not finished, in the order they get their next page. */
  pending: string[];
  /** How many tables copy a page at the same time. */
  fanOut: number;
  /** Totals so far, carried across `continueAsNew`. */
  progress: Record<string, TableProgress>;
  /**
   * Tables read in partitions (docs/notes/parallel-initial-sync.md): the next partition to copy and how many there
   * are. Two numbers per table, whatever its size, so the input carried across `continueAsNew` stays small.
   */
  partitions?: Record<string, PartitionCursor>;
  /** Partitions copied at the same time across all tables of a cycle (PageCopied.partitions.streams). */
  streams?: number;
}

/** The input of a copy of one table on its own (a resync, or a table added to an active profile). */
export const oneTableCopy = (profile: string, table: string, generation: string | undefined): InitialSyncInput => ({
  profile,
  ...(generation === undefined ? {} : { generation }),
  pending: [table],
  fanOut: 1,
  progress: {},
});

export interface PartitionCursor {
  next: number;
  total: number;
}

/** What the copy-partition activity reports: the rows of the lane's partitions (see PartitionLane). */
export interface PartitionCopied {
  table: string;
  /** The lane's first partition. */
  partition: number;
  rows: number;
  /** Partitions the lane covered; absent in the report of one partition (an activity of the code before lanes). */
  count?: number;
}

/**
 * One copy-partition activity: `count` partitions of a table copied one after another, from `partition` on every
 * `stride`-th. A cycle hands a table's next block of partitions to `streams` lanes round-robin, so every stream
 * stays busy until its lane is done instead of waiting, after each partition, for the slowest of the cycle. Lanes
 * and not a sliding window of Task.any: the Node SDK sends a new Task.any's already-scheduled tasks to the extension
 * again, which schedules them a second time (github.com/Azure/azure-functions-durable-js/issues/574; the local host
 * replays actions the same way, local/host/durable-extension.ts).
 */
export interface PartitionLane {
  table: string;
  partition: number;
  stride: number;
  count: number;
}

/** One activity of a cycle: a step of a table (a page, a key page, or finishing it), or a lane of its partitions. */
export type CopyUnit = { table: string } | PartitionLane;

/**
 * Partitions per lane and cycle: a cycle waits for its slowest lane, whose last partition ends at most one partition
 * after the others; more per lane makes that wait rarer but a lane's activity longer (a partition of 5,000 rows read
 * in 250-id requests takes seconds to a minute, well inside the Functions timeout of the plans the app runs on).
 */
export const PARTITIONS_PER_LANE = 8;

/**
 * Dataverse's limit of concurrent requests per user (learn.microsoft.com/power-apps/developer/data-platform/api-limits):
 * "Number of concurrent requests exceeded the limit of 52" (0x80072326). No cycle runs more partitions than this.
 */
export const MAX_CONCURRENT_REQUESTS = 52;

export interface TableProgress {
  rowsCopied: number;
  pages: number;
  done: boolean;
}

/** What the copy-page activity reports for one table. */
export interface PageCopied {
  table: string;
  rowsCopied: number;
  pages: number;
  /** The table's initial load has its deltaLink: it is in delta phase now. */
  done: boolean;
  /**
   * The key pass is over: the table's rows are read in `total` partitions, `streams` at a time (Dataverse's
   * `x-ms-dop-hint`, capped by the profile's setting). Absent for a table read page by page.
   */
  partitions?: { total: number; streams: number };
}

export const tablesThisCycle = (input: InitialSyncInput): string[] => input.pending.slice(0, Math.max(1, input.fanOut));

/** The lanes of a block of `size` partitions from `next`, dealt round-robin to at most `streams` lanes. */
function lanesOf(table: string, next: number, size: number, streams: number): PartitionLane[] {
  const stride = Math.min(streams, size);
  return Array.from({ length: stride }, (_, lane) => ({
    table,
    partition: next + lane,
    stride,
    count: Math.ceil((size - lane) / stride),
  }));
}

/**
 * This cycle's activities: for each table of the cycle, lanes over its next block of open partitions while the
 * streams last, else one step. A table whose partitions are all handed out gets a step again, which finishes it
 * once every partition is copied.
 */
export function unitsThisCycle(input: InitialSyncInput): CopyUnit[] {
  let streams = Math.min(Math.max(1, input.streams ?? 1), MAX_CONCURRENT_REQUESTS);
  const units: CopyUnit[] = [];
  for (const table of tablesThisCycle(input)) {
    const cursor = input.partitions?.[table];
    if (!cursor || cursor.next >= cursor.total) {
      units.push({ table });
      continue;
    }
    const lanes = lanesOf(
      table,
      cursor.next,
      Math.min(streams * PARTITIONS_PER_LANE, cursor.total - cursor.next),
      streams,
    );
    units.push(...lanes);
    streams -= lanes.length;
    if (streams === 0) break;
  }
  return units;
}

/** The partition after the last one a lane covers. */
export const laneEnd = (lane: Pick<PartitionCopied, 'partition' | 'count'> & { stride?: number }): number =>
  lane.partition + ((lane.count ?? 1) - 1) * (lane.stride ?? 1) + 1;

export const isPartitionCopied = (result: PageCopied | PartitionCopied): result is PartitionCopied =>
  'partition' in result;

/** Totals per table once this cycle's pages are copied. */
export function progressAfter(
  input: InitialSyncInput,
  copied: ReadonlyArray<PageCopied | PartitionCopied>,
): Record<string, TableProgress> {
  const progress = { ...input.progress };
  for (const result of copied) {
    if (isPartitionCopied(result)) {
      const before = progress[result.table] ?? { rowsCopied: 0, pages: 0, done: false };
      const pages = before.pages + (result.count ?? 1);
      progress[result.table] = { ...before, rowsCopied: before.rowsCopied + result.rows, pages };
    } else progress[result.table] = { rowsCopied: result.rowsCopied, pages: result.pages, done: result.done };
  }
  return progress;
}

/**
 * The partition cursors and streams after this cycle: a finished key pass opens them, copied lanes move them on to
 * the end of the block the cycle handed out (every lane of it has finished: the cycle is one Task.all).
 */
function partitionsAfter(
  input: InitialSyncInput,
  copied: ReadonlyArray<PageCopied | PartitionCopied>,
): Pick<InitialSyncInput, 'partitions' | 'streams'> {
  if (input.partitions === undefined && !copied.some((result) => 'partitions' in result)) return {};
  const partitions = { ...input.partitions };
  let streams = input.streams;
  const lanes = unitsThisCycle(input).filter((unit): unit is PartitionLane => 'partition' in unit);
  for (const result of copied) {
    const cursor = partitions[result.table];
    if (isPartitionCopied(result)) {
      const lane = lanes.find((unit) => unit.table === result.table && unit.partition === result.partition);
      const end = laneEnd({ ...result, ...(lane ? { stride: lane.stride } : {}) });
      if (cursor) partitions[result.table] = { ...cursor, next: Math.max(cursor.next, end) };
    } else if (result.done) delete partitions[result.table];
    else if (result.partitions) {
      partitions[result.table] = { next: 0, total: result.partitions.total };
      streams = result.partitions.streams;
    }
  }
  return { partitions, ...(streams === undefined ? {} : { streams }) };
}

/** The input of the next cycle, or undefined when every table is done. Unfinished tables go to the back. */
export function nextCycle(
  input: InitialSyncInput,
  progress: Record<string, TableProgress>,
  copied: ReadonlyArray<PageCopied | PartitionCopied> = [],
): InitialSyncInput | undefined {
  const thisCycle = [...new Set(unitsThisCycle(input).map((unit) => unit.table))];
  const unfinished = thisCycle.filter((table) => !progress[table]?.done);
  const rest = input.pending.filter((table) => !thisCycle.includes(table));
  const pending = [...rest, ...unfinished];
  return pending.length === 0 ? undefined : { ...input, pending, progress, ...partitionsAfter(input, copied) };
}

/**
 * The orchestration's custom status: totals only, whatever the number of tables. Durable Functions refuses a
 * custom status over 16 KB of UTF-16 JSON and fails the orchestration (local/host/durable-extension.ts), which a
 * per-table map reached at about 125 tables (measured: 19-character names, 7-digit row counts); per-table
 * figures are in the checkpoints the status API reads.
 */
export interface InitialSyncStatus {
  phase: 'copying' | 'done';
  tablesDone: number;
  tables: number;
  rowsCopied: number;
}

export function summarize(progress: Record<string, TableProgress>, tables: number): InitialSyncStatus {
  const entries = Object.values(progress);
  const tablesDone = entries.filter((entry) => entry.done).length;
  return {
    phase: tablesDone === tables ? 'done' : 'copying',
    tablesDone,
    tables,
    rowsCopied: entries.reduce((sum, entry) => sum + entry.rowsCopied, 0),
  };
}
