/**
 * The queue message contract between the change poller (shared/sync/capture/poller.ts) and the applier
 * (shared/sync/apply/applier.ts). Versioned: a reader meets messages written by an older or newer deployment
 * during an upgrade, and says so clearly.
 */
import { z } from 'zod';
import type { RowUpsert } from '../dataverse/changes';
import { GUID_PATTERN } from '../guid';

export const CHANGE_BATCH_SCHEMA_VERSION = 1;

const guid = z.string().regex(GUID_PATTERN, 'must be a GUID');
const versionNumber = z.number().int().nonnegative().refine(Number.isSafeInteger, 'must be a safe integer');
/** Profile names and Dataverse logical names are validated where they are defined; here they only need to be sane. */
const name = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'letters, digits, _ and - only, 1 to 128 characters');

/**
 * A row exactly as the Dataverse client yields it and the destination port takes it. Messages written before
 * upserts carried `kind` (still queued, or parked and replayed, across an upgrade) read as upserts all the same;
 * a reader of that older deployment strips the unknown `kind` key (zod objects strip by default), so both
 * directions read and CHANGE_BATCH_SCHEMA_VERSION stays 1.
 */
const rowUpsertSchema = z.object({
  kind: z.literal('upsert').default('upsert'),
  id: guid,
  versionNumber,
  row: z.record(z.string(), z.unknown()),
}) satisfies z.ZodType<RowUpsert, unknown>;

export const changeBatchSchema = z.object({
  schemaVersion: z.literal(CHANGE_BATCH_SCHEMA_VERSION),
  profile: name,
  table: name,
  /** Stable for the same source page, so a re-sent page is recognised (Service Bus duplicate detection). */
  batchId: z.string().min(1).max(100),
  /** Version watermark of the delta token the batch came from; deletes carry it as their tombstone version. */
  watermark: versionNumber,
  upserts: z.array(rowUpsertSchema),
  deletes: z.array(z.object({ id: guid })),
  /** 0 on first send; the applier re-sends with attempt + 1 after a transient failure (profile retry rules). */
  attempt: z.number().int().nonnegative(),
  /** When the poller read the changes from Dataverse (ISO 8601), for queue-lag figures. */
  readAt: z.iso.datetime(),
  /**
   * The profile's activation generation when the changes were read: a batch of a profile since deleted and created
   * again under its name is dropped by the applier. Optional, so messages of either deployment read during an upgrade.
   */
  generation: z.string().min(1).max(64).optional(),
});

export type ChangeBatch = z.infer<typeof changeBatchSchema>;

/** What travels instead of the batch when its body is over the queue's size limit: the batch is in a blob. */
export const claimCheckSchema = z.object({
  schemaVersion: z.literal(CHANGE_BATCH_SCHEMA_VERSION),
  profile: name,
  table: name,
  batchId: z.string().min(1).max(100),
  attempt: z.number().int().nonnegative(),
  claimCheck: z.object({ container: z.string().min(3).max(63), blobName: z.string().min(1).max(1024) }),
});

export type ClaimCheck = z.infer<typeof claimCheckSchema>;

/** The queue message id: duplicate detection must drop a re-sent page but not a deliberate retry. */
export const changeBatchMessageId = (batch: Pick<ChangeBatch, 'batchId' | 'attempt'>): string =>
  `${batch.batchId}.${batch.attempt}`;
