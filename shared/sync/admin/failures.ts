/**
 * Failed records: resync re-reads them from Dataverse by id and applies what it finds; a record whose row no
 * longer exists in Dataverse was deleted there, so it is applied as a delete at the table's current watermark
 * (only in the delta phase: during a copy there is none yet, and the record stays).
 * Records that apply cleanly are resolved; the rest stay, with their new reason.
 */
import { webApiSelect } from '../../dataverse/properties';
import { ExportError } from '../../errors';
import type { FailedRecordSummary } from '../../state/failed-records';
import type { SyncServices } from '../wiring/services';
import { snapshotTable, type SnapshotServices } from './snapshot';

// The HTTP edge (functions/) validates keys and runs the retention sweep through here: it does not reach into state/.
export { failedRecordKeySchema } from '../../state/failed-records';
export { sweepExpiredFailures } from '../../state/retention';

type FailedRecordServices = Pick<SyncServices, 'failedRecords'>;
export type FailureResyncServices = Pick<SyncServices, 'runtimes' | 'checkpoints'> &
  FailedRecordServices &
  SnapshotServices;

export interface ResyncResult {
  resolved: number;
  stillFailing: Array<{ key: string; reason: string }>;
}

const MAX_RESYNC_RECORDS = 5_000;
/**
 * While a table is copied (initial sync or resync) its checkpoint has no delta watermark yet: a delete at an older
 * version would leave the row standing, yet resolve its record. The copy's sweep or next delta removes such a row.
 */
const COPY_RUNNING =
  'The row no longer exists in Dataverse, but the table is being copied: resync this record again once the table is in its delta phase.';

export async function resyncFailures(
  services: FailureResyncServices,
  profile: string,
  options: { table?: string; keys?: string[] } = {},
): Promise<ResyncResult> {
  const summaries = options.keys
    ? await summariesForKeys(services, profile, options.keys)
    : await allSummaries(services, profile, options.table);
  const byTable = new Map<string, FailedRecordSummary[]>();
  for (const summary of summaries) byTable.set(summary.table, [...(byTable.get(summary.table) ?? []), summary]);
  const result: ResyncResult = { resolved: 0, stillFailing: [] };
  const { source, destination } = await services.runtimes.get(profile);
  for (const [tableName, records] of byTable) {
    const table = await snapshotTable(services, profile, tableName);
    const checkpoint = await services.checkpoints.read(profile, tableName);
    const ids = [...new Set(records.map((record) => record.id))];
    // Read as the initial sync and the deltas read (copy-page.ts): the same columns, and the lookup annotations
    // that `<lookup>_entitytype` / `owneridtype` are filled from.
    const found = await source.readRowsById(table, ids, { select: webApiSelect(table), annotations: true });
    const watermark = checkpoint?.value.phase === 'delta' ? checkpoint.value.watermark : undefined;
    const applied = await destination.applyBatch(table, {
      upserts: found.rows,
      deletes: watermark === undefined ? [] : found.missing.map((id) => ({ id, versionNumber: watermark })),
    });
    const failedIds = new Map(applied.failed.map((failure) => [failure.id, failure.reason]));
    if (watermark === undefined) for (const id of found.missing) failedIds.set(id, COPY_RUNNING);
    const resolved = records.filter((record) => !failedIds.has(record.id));
    result.resolved += await services.failedRecords.resolve(resolved.map((record) => record.key));
    const still = records.flatMap((record) => {
      const reason = failedIds.get(record.id);
      return reason === undefined ? [] : [{ key: record.key, reason }];
    });
    await keepNewReasons(services, still);
    result.stillFailing.push(...still);
  }
  return result;
}

/** A record that fails again keeps its key and takes the new reason (the cause may have changed since). */
async function keepNewReasons(services: FailedRecordServices, still: ResyncResult['stillFailing']): Promise<void> {
  const updated = await Promise.all(
    still.map(async ({ key, reason }) => {
      const record = await services.failedRecords.download(key);
      return record && record.reason !== reason ? { ...record, reason } : undefined;
    }),
  );
  const changed = updated.filter((record) => record !== undefined);
  // Same profile, table, id, change type and failedAt: the same key, so this overwrites the record in place.
  if (changed.length > 0) await services.failedRecords.record(changed);
}

async function allSummaries(
  services: FailedRecordServices,
  profile: string,
  table: string | undefined,
): Promise<FailedRecordSummary[]> {
  const all: FailedRecordSummary[] = [];
  let after: string | undefined;
  do {
    const page = await services.failedRecords.list(profile, {
      ...(table ? { table } : {}),
      pageSize: 1000,
      ...(after ? { after } : {}),
    });
    all.push(...page.records);
    after = page.next;
  } while (after && all.length < MAX_RESYNC_RECORDS);
  return all;
}

async function summariesForKeys(
  services: FailedRecordServices,
  profile: string,
  keys: string[],
): Promise<FailedRecordSummary[]> {
  return Promise.all(
    keys.map(async (key) => {
      const record = await services.failedRecords.download(key);
      if (!record || record.profile !== profile) {
        throw new ExportError('data', `There is no failed record '${key}' in profile '${profile}'`, {
          where: 'keys',
          fix: 'List the failures again: it may have been resolved already.',
        });
      }
      return {
        key,
        profile,
        table: record.table,
        id: record.id,
        changeType: record.changeType,
        failedAt: record.failedAt,
      };
    }),
  );
}
