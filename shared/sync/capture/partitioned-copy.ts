/**
 * The initial sync of one table read by several streams at once (docs/notes/parallel-initial-sync.md). A table's
 * step (`partitionedStep`, one activity at a time per table) first runs the key pass: a change-tracked read of the
 * primary key only, one key page per step, each page's ids kept as one partition; its last page gives the delta
 * link, taken before any full row is read. The partitions are then copied in parallel (`copyPartition`) by
 * ordinary queries by id, each checkpointed as copied; a row changed after the key pass is read newer and comes
 * again in the delta, where the version guard keeps the newest. The step after the last partition finishes the
 * table exactly like the last page of a single-stream load (copy-unit.ts).
 */
import type { RowUpsert } from '../../dataverse/changes';
import type { DataverseClient } from '../../dataverse/client';
import type { TableMetadata } from '../../dataverse/metadata';
import { forEachIdChunk } from '../../dataverse/id-batch-read';
import { webApiSelect, withEveryColumn } from '../../dataverse/properties';
import { ExportError } from '../../errors';
import type { Checkpoint } from '../../state/checkpoints';
import type { PutCondition } from '../../state/document-store';
import type { Versioned } from '../../state/versioned';
import { snapshotTable } from '../admin/snapshot';
import type { SyncServices } from '../wiring/services';
import { applyUnitRows, completeInitialLoad, type CopyUnitServices } from './copy-unit';
import {
  MAX_CONCURRENT_REQUESTS,
  type PageCopied,
  type PartitionCopied,
  type PartitionLane,
} from './initial-sync-plan';
import {
  deletePartitionDocuments,
  partitionName,
  planName,
  type Partition,
  type PartitionPlan,
} from './partition-documents';
import { addCopiedPartition } from './partition-progress';
import { inTableTurn } from './table-turns';

export type PartitionedCopyServices = CopyUnitServices & Pick<SyncServices, 'partitions'>;

/** How long one activity keeps reading key pages before it hands back to the orchestration. */
export const KEY_PASS_STEP_MS = 20_000;

/** How many partitions to copy at once: Dataverse's `x-ms-dop-hint`, capped by the profile's setting and the limit. */
export const streamsFor = (readStreams: number, dopHint: number | undefined): number =>
  Math.max(1, Math.min(readStreams, dopHint ?? readStreams, MAX_CONCURRENT_REQUESTS));

/** The plan of this start of the table, or the ETag of a plan of an earlier start, which the new plan replaces. */
async function currentPlan(
  services: PartitionedCopyServices,
  profile: string,
  table: string,
  checkpoint: Checkpoint,
): Promise<{ plan?: Versioned<PartitionPlan>; replacing?: string }> {
  const stored = await services.partitions.get(planName(profile, table));
  if (!stored) return {};
  const plan = stored.value;
  // A plan of an earlier start of the table (it was reset since) is replaced, never continued.
  if (
    plan.kind !== 'plan' ||
    plan.profile !== profile ||
    plan.table !== table ||
    plan.startedAt !== checkpoint.startedAt
  )
    return { replacing: stored.etag };
  return { plan: { value: plan, etag: stored.etag } };
}

/** Rows copied so far, or undefined when a partition of the plan is not copied yet. */
async function copiedRows(services: PartitionedCopyServices, plan: PartitionPlan): Promise<number | undefined> {
  let rows = 0;
  for (let index = 0; index < plan.partitions; index++) {
    const stored = await services.partitions.get(partitionName(plan.profile, plan.table, index));
    if (stored?.value.kind !== 'partition' || stored.value.startedAt !== plan.startedAt) return undefined;
    if (stored.value.copiedRows === undefined) return undefined;
    rows += stored.value.copiedRows;
  }
  return rows;
}

/**
 * Key pages one after another within one activity, for up to KEY_PASS_STEP_MS: one page per activity cost an
 * orchestration cycle per 5,000 ids, which took longer than the page (a key page is one column). After each page its
 * partition, then the plan, is saved, so a crash re-reads at most the page it was on.
 */
async function readKeyPages(
  services: PartitionedCopyServices,
  first: PartitionPlan,
  firstCondition: PutCondition,
  source: { readPage: DataverseClient['readPage'] },
  table: TableMetadata,
): Promise<PartitionPlan> {
  const started = performance.now();
  let plan = first;
  let condition = firstCondition;
  while (plan.keyLink !== undefined) {
    if (plan !== first && performance.now() - started >= KEY_PASS_STEP_MS) return plan;
    const page = await source.readPage(table, plan.keyLink, { pageSize: services.options.pageSize });
    const ids = page.changes.filter((change): change is RowUpsert => change.kind === 'upsert').map(({ id }) => id);
    const partition: Partition = { kind: 'partition', startedAt: plan.startedAt, ids };
    // The partition first: a crash before the plan moves on reads this key page again and rewrites it.
    await services.partitions.put(partitionName(plan.profile, plan.table, plan.partitions), partition);
    const { keyLink: _read, ...rest } = plan;
    const next: PartitionPlan = {
      ...rest,
      partitions: plan.partitions + 1,
      ...(page.nextLink === undefined ? {} : { keyLink: page.nextLink }),
      ...(page.deltaLink === undefined ? {} : { deltaLink: page.deltaLink }),
      ...(page.watermark === undefined ? {} : { watermark: page.watermark }),
    };
    if (page.nextLink === undefined && page.deltaLink === undefined)
      throw new ExportError('schema', `The last key page of ${plan.table} carried no deltaLink`, { where: plan.table });
    const saved = await services.partitions.put(planName(plan.profile, plan.table), next, condition);
    plan = next;
    condition = { ifMatch: saved.etag };
  }
  return plan;
}

/** One step of a table read in partitions: a key page, the plan's partitions once more, or finishing the table. */
export async function partitionedStep(
  services: PartitionedCopyServices,
  profile: string,
  tableName: string,
  checkpoint: Versioned<Checkpoint>,
): Promise<PageCopied> {
  const current = checkpoint.value;
  const table = await snapshotTable(services, profile, tableName);
  const { source, destination } = await services.runtimes.get(profile);
  const { plan: stored, replacing } = await currentPlan(services, profile, tableName, current);
  const plan: PartitionPlan = stored?.value ?? {
    kind: 'plan',
    profile,
    table: tableName,
    startedAt: current.startedAt,
    keyLink: source.initialLoadLink(table, [table.primaryIdAttribute]),
    partitions: 0,
  };
  const progress = { table: tableName, rowsCopied: current.rowsCopied, pages: current.pages, done: false };
  const streams = () => streamsFor(services.options.readStreams, source.http.dopHint);
  if (plan.keyLink !== undefined) {
    // The first plan write creates it, or replaces a plan of an earlier start (found just now) under its ETag.
    const condition: PutCondition = stored
      ? { ifMatch: stored.etag }
      : replacing !== undefined
        ? { ifMatch: replacing }
        : { ifNoneMatch: '*' };
    const next = await readKeyPages(services, plan, condition, source, table);
    return next.keyLink === undefined
      ? { ...progress, partitions: { total: next.partitions, streams: streams() } }
      : progress;
  }
  const rowsCopied = await copiedRows(services, plan);
  if (rowsCopied === undefined) return { ...progress, partitions: { total: plan.partitions, streams: streams() } };
  if (plan.deltaLink === undefined)
    throw new ExportError('schema', `The key pass of ${tableName} ended without a deltaLink`, { where: tableName });
  const now = services.now().toISOString();
  const end = {
    deltaLink: withEveryColumn(plan.deltaLink, table),
    watermark: plan.watermark,
    rowsCopied,
    pages: plan.partitions,
    completedAt: now,
  };
  await completeInitialLoad(services, profile, table, checkpoint, end);
  // As the last page of a single-stream load reports it (copy-page.ts).
  await services.status.update(profile, tableName, {
    phase: 'delta',
    initialRowsCopied: rowsCopied,
    pages: plan.partitions,
    lastSuccessfulSyncAt: now,
    lastError: null,
    ...(destination.countRows ? { rowsInDestination: await destination.countRows(tableName) } : {}),
  });
  // Only once the table is in delta: a crash before this leaves documents its next start replaces.
  await deletePartitionDocuments(services.partitions, profile, tableName);
  return { table: tableName, rowsCopied, pages: plan.partitions, done: true };
}

export interface PartitionCopyReport extends PartitionCopied {
  readMs: number;
  applyMs: number;
}

/**
 * Copies one partition: its rows read by id and applied a chunk at a time (so a partition holds one chunk of rows,
 * as bytes until its turn to write, not its key page's), then the partition marked copied and added to the table's
 * progress.
 * A crash in between copies it again, which the version-guarded apply makes harmless.
 */
export async function copyPartition(
  services: PartitionedCopyServices,
  profile: string,
  tableName: string,
  index: number,
): Promise<PartitionCopyReport> {
  const skipped = { table: tableName, partition: index, rows: 0, readMs: 0, applyMs: 0 };
  const checkpoint = await services.checkpoints.read(profile, tableName);
  if (!checkpoint || checkpoint.value.phase === 'delta') return skipped;
  const name = partitionName(profile, tableName, index);
  const stored = await services.partitions.get(name);
  if (stored?.value.kind !== 'partition' || stored.value.startedAt !== checkpoint.value.startedAt) {
    // The table was started over since this partition was handed out: its new plan copies the rows.
    return skipped;
  }
  const partition = stored.value;
  if (partition.copiedRows !== undefined) return { ...skipped, rows: partition.copiedRows };
  const table = await snapshotTable(services, profile, tableName);
  const { source } = await services.runtimes.get(profile);
  const where = { profile, table, phase: checkpoint.value.phase, batchId: `initial-p${index}` };
  const started = performance.now();
  let rows = 0;
  let applyMs = 0;
  const select = { select: webApiSelect(table), annotations: true };
  // Rows are applied in chunks like a page's (page-stream.ts): one apply per 250-id request cost a third of the
  // apply speed (each apply has its fixed statements), and a whole partition at once would hold all its rows. A
  // chunk waits for the table's turn as bytes and is parsed once the turn has come (table-turns.ts).
  await forEachIdChunk(source.http, table, partition.ids, select, async (chunk) => {
    const waited = performance.now();
    applyMs += await inTableTurn(`${profile}/${tableName}`, async () => {
      const turnTaken = performance.now();
      const upserts = chunk.rows();
      const parsedMs = performance.now() - turnTaken;
      // Requests whose ids were all deleted since the key pass: nothing to apply.
      if (upserts.length > 0) await applyUnitRows(services, where, upserts);
      rows += upserts.length;
      // Waiting for the turn is waiting on the apply stage; parsing is the read's.
      return performance.now() - waited - parsedMs;
    });
  });
  applyMs = Math.round(applyMs);
  const readMs = Math.max(0, Math.round(performance.now() - started) - applyMs);
  await services.partitions.put(name, { ...partition, copiedRows: rows }, { ifMatch: stored.etag });
  await addCopiedPartition(
    services.checkpoints,
    { profile, table: tableName, startedAt: checkpoint.value.startedAt },
    rows,
  );
  return { table: tableName, partition: index, rows, readMs, applyMs };
}

/**
 * Copies a lane's partitions one after another (initial-sync-plan.ts, PartitionLane): the stream goes on to its next
 * partition as soon as one is copied. A lane run again (a retry, a restarted host) skips the partitions it copied.
 */
export async function copyPartitionLane(
  services: PartitionedCopyServices,
  profile: string,
  lane: PartitionLane,
): Promise<PartitionCopyReport & { count: number }> {
  const report = { table: lane.table, partition: lane.partition, rows: 0, readMs: 0, applyMs: 0, count: lane.count };
  for (let index = 0; index < lane.count; index++) {
    const copied = await copyPartition(services, profile, lane.table, lane.partition + index * lane.stride);
    report.rows += copied.rows;
    report.readMs += copied.readMs;
    report.applyMs += copied.applyMs;
  }
  return report;
}
