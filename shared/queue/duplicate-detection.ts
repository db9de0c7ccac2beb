/**
 * Duplicate detection for Azure Storage queues, which have none: the Service Bus queue drops a message whose
 * id was sent within `duplicateDetectionHistoryTimeWindow`, and the storage transport must honour the same
 * contract. One table entity per sent message id records when it was sent.
 *
 * The marker is written after the send, never before: a crash between the two can repeat a message (the
 * applier is idempotent), while a marker written first could make a retried send of a lost message look like
 * a duplicate and drop it for good.
 */
import { odata, type TableClient } from '@azure/data-tables';
import { createHash } from 'node:crypto';
import { ensureOnce } from '../storage/ensure-once';
import { hasStorageStatus } from '../storage/errors';

export const SENT_MARKERS_TABLE = 'changequeuesent';

/** The Service Bus queue's window (infra/modules/servicebus.bicep: PT1H). */
export const DEFAULT_DUPLICATE_DETECTION_WINDOW_MS = 60 * 60 * 1000;

/** Expired markers removed per send call; bounded so a send never waits on a long clean-up. */
const PRUNE_PAGE_SIZE = 100;

export interface DuplicateDetection {
  /** True when this message id was sent within the window. */
  sentRecently(messageId: string): Promise<boolean>;
  recordSent(messageId: string): Promise<void>;
  /** Deletes up to one page of markers older than the window. */
  pruneExpired(): Promise<void>;
}

interface SentMarker {
  messageId: string;
  /** A Date is stored as Edm.DateTime, which Table filters compare reliably (unlike large numbers). */
  sentAt: Date;
}

/** Message ids may hold characters a RowKey forbids (`/`, `#`, `?`, `\`); a hash never does. */
const rowKeyFor = (messageId: string): string => createHash('sha256').update(messageId).digest('hex');

export function tableDuplicateDetection(options: {
  table: TableClient;
  queueName: string;
  windowMs: number;
}): DuplicateDetection {
  const { table, queueName, windowMs } = options;
  const ensureTable = ensureOnce(() => table.createTable());

  return {
    async sentRecently(messageId) {
      await ensureTable();
      try {
        const marker = await table.getEntity<SentMarker>(queueName, rowKeyFor(messageId));
        return Date.now() - marker.sentAt.getTime() < windowMs;
      } catch (error) {
        if (hasStorageStatus(error, 404)) return false;
        throw error;
      }
    },

    async recordSent(messageId) {
      await ensureTable();
      await table.upsertEntity<SentMarker>(
        { partitionKey: queueName, rowKey: rowKeyFor(messageId), messageId, sentAt: new Date() },
        'Replace',
      );
    },

    async pruneExpired() {
      await ensureTable();
      const cutoff = new Date(Date.now() - windowMs);
      const pages = table
        .listEntities<SentMarker>({
          queryOptions: { filter: odata`PartitionKey eq ${queueName} and sentAt lt ${cutoff}` },
        })
        .byPage({ maxPageSize: PRUNE_PAGE_SIZE });
      const first = await pages.next();
      if (first.done) return;
      await Promise.all(
        first.value.map((marker) =>
          table.deleteEntity(queueName, marker.rowKey as string).catch((error: unknown) => {
            // Another sender pruned it first.
            if (!hasStorageStatus(error, 404)) throw error;
          }),
        ),
      );
    },
  };
}
