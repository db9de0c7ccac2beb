/**
 * The applier: one change batch from the queue into the destination, in one transaction (the destination's
 * applyBatch). Whatever happens, the message ends somewhere a person can see it:
 * - applied (stale duplicates and out-of-order versions are no-ops);
 * - rows the destination rejects for data reasons → failed-records store;
 * - the whole batch failing transiently → sent again later with attempt + 1 (profile retry rules), and after
 *   the last attempt every row → failed-records store;
 * - a message that cannot be read → `unprocessablemessages/`.
 * Only failures of our own state storage throw, so the queue redelivers and finally dead-letters the message.
 */
import { toExportError, type ExportError } from '../../errors';
import { MissingClaimCheckError } from '../../queue/claim-checks';
import type { ChangeBatch } from '../../queue/change-batch';
import { recordFailures, type RecordFailuresServices, type RowFailure } from './record-failures';
import { decideRetry } from './retry-decision';
import { afterBatchApplied, nextQueuedPoll } from './unapplied-polls';
import type { SyncServices } from '../wiring/services';
import { snapshotTable, type SnapshotServices } from '../admin/snapshot';
import type { ApplyResult } from '../../destinations/destination';

type ApplierStores =
  'batches' | 'unprocessable' | 'profiles' | 'activations' | 'queue' | 'runtimes' | 'status' | 'metrics' | 'now';
/** What applying a batch touches: its own stores, and what recording failures and the metadata snapshot need. */
export type ApplierServices = Pick<SyncServices, ApplierStores> & RecordFailuresServices & SnapshotServices;

export type ApplyOutcome =
  | { outcome: 'applied'; upserted: number; deleted: number; stale: number; failed: number }
  | { outcome: 'retry-scheduled'; attempt: number; deliverAt: Date }
  | { outcome: 'failed'; rows: number; reason: string }
  | { outcome: 'unprocessable'; reason: string }
  | { outcome: 'ignored'; reason: string };

export interface Delivery {
  messageId: string;
  deliveryCount: number;
}

/** The store truncates huge bodies itself. */
const bodyText = (message: unknown): string =>
  typeof message === 'string' ? message : (JSON.stringify(message) ?? String(message));

export async function applyChanges(
  services: ApplierServices,
  message: unknown,
  delivery: Delivery,
): Promise<ApplyOutcome> {
  let batch: ChangeBatch;
  try {
    batch = await services.batches.readChangeBatch(message);
  } catch (error) {
    // The claim check is released only after its batch was applied: a redelivery after a lost completion.
    if (error instanceof MissingClaimCheckError)
      return { outcome: 'ignored', reason: 'the batch was applied already (its claim check is released)' };
    const failure = toExportError(error, 'data');
    if (failure.errorClass !== 'data') throw failure;
    await services.unprocessable.record({
      messageId: delivery.messageId,
      receivedAt: services.now().toISOString(),
      reason: failure.message,
      rawBody: bodyText(message),
    });
    return { outcome: 'unprocessable', reason: failure.message };
  }

  // Applied even when the profile was deactivated since it was polled: its checkpoint has moved past these changes,
  // and activating again resumes from there, so dropping the batch would lose them. Only a deleted profile's go.
  if (!(await services.profiles.get(batch.profile))) {
    await services.batches.releaseClaimCheck(message);
    return { outcome: 'ignored', reason: `profile '${batch.profile}' no longer exists` };
  }

  // A table taken out of the profile (admin/manage-tables.ts) keeps its rows as they were; adding it again copies
  // it afresh, so what was queued for it before is not needed. The edge logs the reason.
  const activation = await services.activations.get(batch.profile);
  if (activation && !activation.value.tables.includes(batch.table)) {
    await services.batches.releaseClaimCheck(message);
    return { outcome: 'ignored', reason: `table '${batch.table}' was removed from profile '${batch.profile}'` };
  }

  // A batch of an earlier profile of this name (deleted, then created again) belongs to nothing that exists now.
  if (batch.generation !== undefined && batch.generation !== activation?.value.generation) {
    await services.batches.releaseClaimCheck(message);
    return { outcome: 'ignored', reason: `the batch belongs to a deleted profile '${batch.profile}' of the same name` };
  }

  let committed: ApplyResult;
  try {
    committed = await commitBatch(services, batch);
  } catch (error) {
    const outcome = await batchFailed(services, batch, toExportError(error));
    await services.batches.releaseClaimCheck(message);
    return outcome;
  }
  // Outside the try: once the destination committed, a failure to write our own state is not the batch failing (no
  // retry, no rows in the failed-records store); it throws, and the redelivered batch applies as a no-op.
  const outcome = await recordApplied(services, batch, committed);
  await services.batches.releaseClaimCheck(message);
  return outcome;
}

/** The batch failed as a whole: send it again later, or after the last attempt put every row in the failed records. */
async function batchFailed(services: ApplierServices, batch: ChangeBatch, failure: ExportError): Promise<ApplyOutcome> {
  // The rules come from the stored profile, not its runtime: building the runtime is what may just have failed.
  const profile = await services.profiles.get(batch.profile);
  const rules = profile?.value ?? { retryCount: 0, retryIntervalSeconds: 0 };
  const decision = decideRetry(failure, batch.attempt, rules, services.now());
  if (decision.action === 'retry') {
    await services.queue.send([{ ...batch, attempt: decision.attempt }], { deliverAt: decision.deliverAt });
    return { outcome: 'retry-scheduled', attempt: decision.attempt, deliverAt: decision.deliverAt };
  }
  await recordFailures(services, batch, allRows(batch, decision.reason, failure));
  await services.status.update(batch.profile, batch.table, { lastError: failure, lastErrorSource: 'apply' });
  return { outcome: 'failed', rows: batch.upserts.length + batch.deletes.length, reason: decision.reason };
}

function allRows(batch: ChangeBatch, reason: string, failure: ExportError): RowFailure[] {
  return [
    ...batch.upserts.map((upsert) => ({
      id: upsert.id,
      changeType: 'upsert' as const,
      reason,
      errorClass: failure.errorClass,
      payload: upsert.row,
    })),
    ...batch.deletes.map((remove) => ({
      id: remove.id,
      changeType: 'delete' as const,
      reason,
      errorClass: failure.errorClass,
    })),
  ];
}

/** The destination's one transaction: everything that failing means the batch failed. */
async function commitBatch(services: ApplierServices, batch: ChangeBatch): Promise<ApplyResult> {
  const table = await snapshotTable(services, batch.profile, batch.table);
  const { destination } = await services.runtimes.get(batch.profile);
  return destination.applyBatch(table, {
    upserts: batch.upserts,
    deletes: batch.deletes.map((remove) => ({ id: remove.id, versionNumber: batch.watermark })),
  });
}

/** After the commit: the rows the destination rejected, the counters, the lag and the metrics. */
async function recordApplied(
  services: ApplierServices,
  batch: ChangeBatch,
  result: ApplyResult,
): Promise<ApplyOutcome> {
  const payloads = new Map(batch.upserts.map((upsert) => [upsert.id, upsert.row]));
  await recordFailures(
    services,
    batch,
    result.failed.map((failure) => ({
      ...failure,
      errorClass: 'data' as const,
      ...(failure.changeType === 'upsert' ? { payload: payloads.get(failure.id) ?? {} } : {}),
    })),
  );
  const appliedAt = services.now();
  await services.status.increment(batch.profile, batch.table, { rowsApplied: result.upserted + result.deleted });
  const lag = afterBatchApplied(await services.status.read(batch.profile, batch.table), batch.readAt);
  await services.status.update(batch.profile, batch.table, { lastSuccessfulSyncAt: appliedAt.toISOString(), ...lag });
  if (lag?.oldestUnappliedChangeAt === null) await keepLagOfPollQueuedMeanwhile(services, batch);
  services.metrics.rowsApplied(batch.profile, batch.table, 'upsert', result.upserted);
  services.metrics.rowsApplied(batch.profile, batch.table, 'delete', result.deleted);
  services.metrics.rowsApplied(batch.profile, batch.table, 'skipped', result.skippedAsStale);
  services.metrics.queueLag(batch.profile, batch.table, appliedAt.getTime() - Date.parse(batch.readAt));
  for (const upsert of batch.upserts) {
    const modifiedOn = upsert.row.modifiedon;
    if (typeof modifiedOn === 'string')
      services.metrics.endToEndLatency(batch.profile, batch.table, appliedAt.getTime() - Date.parse(modifiedOn));
  }
  return {
    outcome: 'applied',
    upserted: result.upserted,
    deleted: result.deleted,
    stale: result.skippedAsStale,
    failed: result.failed.length,
  };
}

/** A poll that queued changes just before the lag was cleared (the status is merged without ETags) keeps its lag. */
async function keepLagOfPollQueuedMeanwhile(services: ApplierServices, batch: ChangeBatch): Promise<void> {
  const status = await services.status.read(batch.profile, batch.table);
  const next = status?.oldestUnappliedChangeAt === undefined ? nextQueuedPoll(status, batch.readAt) : undefined;
  if (next !== undefined) await services.status.update(batch.profile, batch.table, { oldestUnappliedChangeAt: next });
}
