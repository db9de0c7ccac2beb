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
import { readIdBatch } from '../../dataverse/id-batch-read';
import { webApiSelect } from '../../dataverse/properties';
import { ExportError } from '../../errors';
import type { Checkpoint } from '../../state/checkpoints';
import type { Versioned } from '../../state/versioned';
import { snapshotTable } from '../admin/snapshot';
import type { SyncServices } from '../wiring/services';
import { applyUnitRows, completeInitialLoad, type CopyUnitServices } from './copy-unit';
import { MAX_CONCURRENT_REQUESTS, type PageCopied, type PartitionCopied } from './initial-sync-plan';
import { partitionName, planName, type Partition, type PartitionPlan } from './partition-documents';

export type PartitionedCopyServices = CopyUnitServices & Pick<SyncServices, 'partitions'>;

/** How long one activity keeps reading key pages before it hands back to the orchestration. */
export const KEY_PASS_STEP_MS = 20_000;

/** How many partitions to copy at once: Dataverse's `x-ms-dop-hint`, capped by the profile's setting and the limit. */
export const streamsFor = (readStreams: number, dopHint: number | undefined): number =>
  Math.max(1, Math.min(readStreams, dopHint ?? readStreams, MAX_CONCURRENT_REQUESTS));

async function currentPlan(
  services: PartitionedCopyServices,
  profile: string,
  table: string,
  checkpoint: Checkpoint,
): Promise<Versioned<PartitionPlan> | undefined> {
  const stored = await services.partitions.get(planName(profile, table));
  if (!stored || stored.value.kind !== 'plan') return undefined;
  const plan = stored.value;
  // A plan of an earlier start of the table (it was reset since) is replaced, never continued.
  if (plan.profile !== profile || plan.table !== table || plan.startedAt !== checkpoint.startedAt) return undefined;
  return { value: plan, etag: stored.etag };
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
  firstEtag: string | undefined,
  source: { readPage: DataverseClient['readPage'] },
  table: TableMetadata,
): Promise<PartitionPlan> {
  const started = performance.now();
  let plan = first;
  let etag = firstEtag;
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
    const saved = await services.partitions.put(
      planName(plan.profile, plan.table),
      next,
      etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: etag },
    );
    plan = next;
    etag = saved.etag;
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
  const { source } = await services.runtimes.get(profile);
  const stored = await currentPlan(services, profile, tableName, current);
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
    const next = await readKeyPages(services, plan, stored?.etag, source, table);
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
    deltaLink: plan.deltaLink,
    watermark: plan.watermark,
    rowsCopied,
    pages: plan.partitions,
    completedAt: now,
  };
  await completeInitialLoad(services, profile, table, checkpoint, end);
  await services.status.update(profile, tableName, {
    phase: 'delta',
    initialRowsCopied: rowsCopied,
    pages: plan.partitions,
    lastSuccessfulSyncAt: now,
    lastError: null,
  });
  return { table: tableName, rowsCopied, pages: plan.partitions, done: true };
}

export interface PartitionCopyReport extends PartitionCopied {
  readMs: number;
  applyMs: number;
}

/**
 * Copies one partition: its rows read by id and applied, then the partition marked copied. A crash in between
 * copies it again, which the version-guarded apply makes harmless.
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
  const readStarted = performance.now();
  const upserts = await readIdBatch(source.http, table, partition.ids, {
    select: webApiSelect(table),
    annotations: true,
  });
  const readMs = Math.round(performance.now() - readStarted);
  const where = { profile, table, phase: checkpoint.value.phase, batchId: `initial-p${index}` };
  // The key pass's last page may hold no ids (the table's row count a multiple of the page size): nothing to apply.
  const { applyMs } = upserts.length === 0 ? { applyMs: 0 } : await applyUnitRows(services, where, upserts);
  await services.partitions.put(name, { ...partition, copiedRows: upserts.length }, { ifMatch: stored.etag });
  return { table: tableName, partition: index, rows: upserts.length, readMs, applyMs };
}
