/**
 * What the partitioned initial sync keeps between activities (docs/notes/parallel-initial-sync.md), as JSON documents
 * in the state container: per table one plan (the key pass's progress, then its delta link), and per partition
 * the ids its key page gave and whether they are copied. Both name the checkpoint start they belong to, so a table
 * started over (resync, expired token) never copies a partition of its previous plan.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { DocumentStore } from '../../state/document-store';

const count = z.number().int().nonnegative();

export const partitionPlanSchema = z.object({
  kind: z.literal('plan'),
  profile: z.string(),
  table: z.string(),
  /** The checkpoint's `startedAt` this plan belongs to. */
  startedAt: z.string(),
  /** The next key page; absent once the key pass has its delta link. */
  keyLink: z.string().min(1).optional(),
  /** From the key pass's last page: where the delta phase starts. Taken before any row is read. */
  deltaLink: z.string().min(1).optional(),
  watermark: count.optional(),
  /** Key pages read so far: partition n holds the ids of key page n. */
  partitions: count,
});
export type PartitionPlan = z.infer<typeof partitionPlanSchema>;

export const partitionSchema = z.object({
  kind: z.literal('partition'),
  startedAt: z.string(),
  ids: z.array(z.string()),
  /** Rows applied; absent until the partition is copied. */
  copiedRows: count.optional(),
});
export type Partition = z.infer<typeof partitionSchema>;

export const partitionDocumentSchema = z.discriminatedUnion('kind', [partitionPlanSchema, partitionSchema]);
export type PartitionDocument = z.infer<typeof partitionDocumentSchema>;
export type PartitionDocuments = DocumentStore<PartitionDocument>;

/**
 * Document names (`[A-Za-z0-9_-]{1,128}`): the profile (no `_` in it) and a hash of the table, as a logical name can
 * be 128 characters long; the plan repeats both names in full.
 */
export const planName = (profile: string, table: string): string =>
  `${profile}_${createHash('sha256').update(table).digest('hex').slice(0, 32)}`;
export const partitionName = (profile: string, table: string, index: number): string =>
  `${planName(profile, table)}-${index}`;

/**
 * Deletes a table's plan and partitions (the table finished, or its profile is deleted). Past the plan's count it
 * goes on while partitions exist: a plan of an earlier, larger start leaves partitions the later one never rewrote,
 * and a crash before the first plan write leaves partition 0 without a plan.
 */
export async function deletePartitionDocuments(
  store: PartitionDocuments,
  profile: string,
  table: string,
): Promise<void> {
  const plan = await store.get(planName(profile, table));
  const planned = plan?.value.kind === 'plan' ? plan.value.partitions : 0;
  for (let index = 0; ; index++) {
    const existed = await store.delete(partitionName(profile, table, index));
    if (!existed && index >= planned) break;
  }
  await store.delete(planName(profile, table));
}
