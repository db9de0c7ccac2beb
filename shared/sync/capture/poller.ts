/**
 * The change poller: for every active profile's tables in delta phase, read the changes since the saved
 * deltaLink, put them on the queue, and only then save the new deltaLink, so a crash in between repeats
 * work (duplicate detection and version guards make that harmless) and never loses it. A lease per table
 * keeps overlapping polls apart.
 */
import pLimit from 'p-limit';
import type { RowUpsert } from '../../dataverse/changes';
import { ExportError, toExportError } from '../../errors';
import type { OrchestrationClient } from '../../orchestration/client';
import { resyncTable, type ResyncServices } from '../admin/activation';
import { deleteBatches, upsertBatches } from './batching';
import type { SyncServices } from '../wiring/services';
import { keepRenewing } from '../../storage/blob-lease';
import { snapshotTable, type SnapshotServices } from '../admin/snapshot';
import { afterPollQueued } from '../apply/unapplied-polls';
import { followSourceEnvironment, type SourceEnvironmentOutcome } from './source-environment';

// Short, and renewed every third of it while the poll runs: a host that dies mid-poll blocks its tables for 15 s at most.
const LEASE_SECONDS = 15;
const LEASE_RENEWAL_MS = 5_000;
const TABLES_POLLED_AT_ONCE = 8;
/**
 * The longest a `Retry-After` keeps a table from being polled: Dataverse's service protection asks for at most
 * minutes (https://learn.microsoft.com/power-apps/developer/data-platform/api-limits#retry-operations); a bigger
 * value is a broken or hostile answer and must not stop a table for a day.
 */
export const MAX_THROTTLE_MS = 15 * 60_000;

type PollerStores = 'activations' | 'checkpoints' | 'status' | 'leases' | 'runtimes' | 'queue' | 'metrics' | 'now';
/** What a poll touches: its own stores, and what a re-baseline (resync) and the metadata snapshot need. */
export type PollerServices = Pick<SyncServices, PollerStores> & ResyncServices & SnapshotServices;

export interface TablePoll {
  profile: string;
  table: string;
  outcome: 'changes' | 'no-changes' | 'busy' | 'throttled' | 'rebaselining' | 'failed';
  upserts: number;
  deletes: number;
  error?: string;
}

export async function pollChanges(services: PollerServices, orchestrations: OrchestrationClient): Promise<TablePoll[]> {
  const activations = await services.activations.list();
  const limit = pLimit(TABLES_POLLED_AT_ONCE);
  const polls: Array<Promise<TablePoll[]>> = [];
  for (const { name, value } of activations) {
    if (value.state !== 'active') continue;
    polls.push(pollProfile(services, orchestrations, name, value.tables, limit));
  }
  return (await Promise.all(polls)).flat();
}

/** The profile's tables, once its checkpoints are known to fit the environment its URL names now. */
async function pollProfile(
  services: PollerServices,
  orchestrations: OrchestrationClient,
  profile: string,
  tables: string[],
  limit: ReturnType<typeof pLimit>,
): Promise<TablePoll[]> {
  const none = { upserts: 0, deletes: 0 };
  let environment: SourceEnvironmentOutcome;
  try {
    environment = await followSourceEnvironment(services, orchestrations, profile);
  } catch (error) {
    const failure = toExportError(error);
    await Promise.all(
      tables.map((table) => services.status.update(profile, table, pollError(failure)).catch(() => undefined)),
    );
    return tables.map((table) => ({ profile, table, outcome: 'failed', ...none, error: failure.message }));
  }
  if (environment === 'rebaselined')
    return tables.map((table) => ({ profile, table, outcome: 'rebaselining', ...none }));
  return Promise.all(tables.map((table) => limit(() => pollTable(services, orchestrations, profile, table))));
}

export async function pollTable(
  services: PollerServices,
  orchestrations: OrchestrationClient,
  profile: string,
  tableName: string,
): Promise<TablePoll> {
  const started = performance.now();
  const result: TablePoll = { profile, table: tableName, outcome: 'no-changes', upserts: 0, deletes: 0 };
  const quick = await services.checkpoints.read(profile, tableName);
  if (!quick || quick.value.phase !== 'delta' || !quick.value.deltaLink) return result;
  const { throttledUntil, lastError } = (await services.status.read(profile, tableName)) ?? {};
  if (throttledUntil !== undefined && Date.parse(throttledUntil) > services.now().getTime())
    return { ...result, outcome: 'throttled' };
  const lease = await services.leases.tryAcquire(profile, tableName, LEASE_SECONDS);
  if (!lease) return { ...result, outcome: 'busy' };
  const keeper = keepRenewing(lease, LEASE_RENEWAL_MS);
  try {
    // Read again under the lease: another poller may have moved it on since.
    const checkpoint = await services.checkpoints.read(profile, tableName);
    if (!checkpoint || checkpoint.value.phase !== 'delta' || !checkpoint.value.deltaLink) return result;
    const table = await snapshotTable(services, profile, tableName);
    const { source } = await services.runtimes.get(profile);
    const readAt = services.now();
    const { generation } = checkpoint.value;
    const batchSource = { profile, table: tableName, readAt, ...(generation === undefined ? {} : { generation }) };
    // Before the first send: an applier may apply a batch the moment it is queued, and must find its poll listed.
    let queuedNoted = false;
    const noteQueued = async () => {
      if (queuedNoted) return;
      queuedNoted = true;
      const status = await services.status.read(profile, tableName);
      await services.status.update(profile, tableName, afterPollQueued(status, readAt.toISOString()));
    };
    const upsertedIds = new Set<string>();
    const deletedIds: string[] = [];
    let newDeltaLink: string | undefined;
    let watermark: number | undefined;
    try {
      for await (const page of sourcePages(
        source.readDelta(table, checkpoint.value.deltaLink, { annotations: true }),
      )) {
        const upserts = page.changes.filter((change): change is RowUpsert => change.kind === 'upsert');
        for (const upsert of upserts) upsertedIds.add(upsert.id);
        for (const change of page.changes) if (change.kind === 'delete') deletedIds.push(change.id);
        if (upserts.length > 0) {
          await noteQueued();
          await services.queue.send(upsertBatches(batchSource, upserts, checkpoint.value.watermark ?? 0));
          result.upserts += upserts.length;
        }
        if (page.deltaLink) {
          newDeltaLink = page.deltaLink;
          watermark = page.watermark;
        }
        keeper.check();
      }
    } catch (error) {
      if (!(error instanceof SourceReadFailure) || error.failure.errorClass !== 'expired-token') throw error;
      const failure = error.failure;
      // The org no longer keeps changes that old: start the table over (a full resync).
      await resyncTable(services, orchestrations, profile, tableName);
      await services.status.update(profile, tableName, pollError(failure));
      return { ...result, outcome: 'rebaselining', error: failure.message };
    }
    if (!newDeltaLink)
      throw new ExportError('schema', `The delta of ${tableName} ended without a deltaLink`, { where: tableName });
    keeper.check();
    // A delete's version is the new token's watermark. The old one would lose to an update made in the same window,
    // and the row would outlive its delete: better to stop than to guess.
    if (deletedIds.length > 0 && watermark === undefined) {
      throw new ExportError(
        'schema',
        `The delta of ${tableName} reported deletes, but its deltaLink's $deltatoken carries no version watermark to give them.`,
        {
          where: tableName,
          fix: 'The token format is not the documented <version>!<time>: report it; the table resumes once the export reads it.',
        },
      );
    }
    const deletes = deleteBatches(batchSource, deletedIds, upsertedIds, watermark ?? 0);
    if (deletes.length > 0) {
      await noteQueued();
      await services.queue.send(deletes);
      result.deletes = deletes.reduce((sum, batch) => sum + batch.deletes.length, 0);
    }
    await services.checkpoints.update(
      profile,
      tableName,
      { ...checkpoint.value, deltaLink: newDeltaLink, ...(watermark === undefined ? {} : { watermark }) },
      checkpoint.etag,
    );
    // This poll succeeded: what an earlier poll left is history now; an apply's or a copy's error is theirs to clear.
    const clearPollError = lastError?.source === 'poll';
    if (throttledUntil !== undefined || clearPollError)
      await services.status.update(profile, tableName, {
        ...(throttledUntil === undefined ? {} : { throttledUntil: null }),
        ...(clearPollError ? { lastError: null } : {}),
      });
    if (result.upserts + result.deletes > 0) result.outcome = 'changes';
    return result;
  } catch (error) {
    return { ...result, ...(await recordPollFailure(services, profile, tableName, error)) };
  } finally {
    keeper.stop();
    await lease.release().catch(() => undefined);
    services.metrics.pollDuration(profile, performance.now() - started);
  }
}

/** A failure of the Dataverse read itself, as opposed to the queue or our own state storage around it. */
class SourceReadFailure extends Error {
  constructor(readonly failure: ExportError) {
    super(failure.message);
  }
}

/** The pages as the source yields them; what the source throws comes out as a SourceReadFailure. */
async function* sourcePages<T>(pages: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* pages;
  } catch (error) {
    throw new SourceReadFailure(toExportError(error));
  }
}

/**
 * Writes why the poll failed into the table status. Only Dataverse refusing the read is Dataverse throttling the
 * table (its Retry-After keeps the poller off it); a busy queue or state store (Storage answers 503 Server Busy,
 * shared/storage/errors.ts) is a failed poll like any other, which counts toward degraded (admin/table-health.ts).
 */
async function recordPollFailure(
  services: PollerServices,
  profile: string,
  tableName: string,
  error: unknown,
): Promise<Pick<TablePoll, 'outcome' | 'error'>> {
  const failure = error instanceof SourceReadFailure ? error.failure : toExportError(error);
  if (error instanceof SourceReadFailure && failure.errorClass === 'throttled') {
    services.metrics.throttled(profile);
    const until = new Date(
      services.now().getTime() + Math.min(failure.retryAfterMs ?? 0, MAX_THROTTLE_MS),
    ).toISOString();
    const throttled = new ExportError('throttled', `${failure.message}; throttled until ${until}`, {
      where: failure.where ?? tableName,
      ...(failure.fix ? { fix: failure.fix } : {}),
    });
    await services.status
      .update(profile, tableName, { ...pollError(throttled), throttledUntil: until })
      .catch(() => undefined);
    return { outcome: 'throttled', error: throttled.message };
  }
  await services.status.update(profile, tableName, pollError(failure)).catch(() => undefined);
  return { outcome: 'failed', error: failure.message };
}

/** A poll's failure, marked as the poll's, so the next successful poll clears it (and nothing else's). */
const pollError = (failure: ExportError) => ({ lastError: failure, lastErrorSource: 'poll' as const });
