/**
 * Checkpoints per (profile, table) in Azure Table storage: where the initial sync or the change poller carries
 * on after a restart. Every write after the first is conditional on the ETag that was read, so two workers can
 * never both advance the same checkpoint (a crash or a race repeats work, never skips it); the loser gets a
 * WriteConflict.
 */
import type { TableClient, TableEntity } from '@azure/data-tables';
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { ExportError } from '../errors';
import type { StorageClients } from '../storage/clients';
import { ensureOnce } from '../storage/ensure-once';
import { CHECKPOINTS_TABLE, checkedName } from './names';
import { WriteConflict, storageFailure, storageStatus } from '../storage/errors';
import { int64, storedInteger } from './table-values';
import { deletePartition } from './partition';
import type { Versioned } from './versioned';

const count = z.number().int().nonnegative();

export const checkpointSchema = z.object({
  phase: z.enum(['initial', 'delta', 'resync']),
  /** The next page of the initial sync (or resync); absent once the last page gave the deltaLink. */
  nextLink: z.string().min(1).optional(),
  /** Where the change poller asks for changes next. */
  deltaLink: z.string().min(1).optional(),
  /** Version watermark of the last delta token whose batches were enqueued. */
  watermark: count.optional(),
  rowsCopied: count,
  pages: count,
  startedAt: z.iso.datetime(),
  /** Stamped by the store on every write. */
  updatedAt: z.iso.datetime(),
  initialSyncCompletedAt: z.iso.datetime().optional(),
  /**
   * The activation generation the checkpoint belongs to (shared/sync/admin/activation.ts): work of a profile deleted
   * and created again under the same name carries the old one and is dropped. Absent in checkpoints written before.
   */
  generation: z.string().min(1).max(64).optional(),
});

export type Checkpoint = z.infer<typeof checkpointSchema>;
export type CheckpointPhase = Checkpoint['phase'];
/** What a writer supplies; the store stamps `updatedAt`. */
export type CheckpointFields = Omit<Checkpoint, 'updatedAt'>;

export interface CheckpointStore {
  read(profile: string, table: string): Promise<Versioned<Checkpoint> | undefined>;
  /** Starts a checkpoint; a WriteConflict if one exists already (another worker started first). */
  create(profile: string, table: string, fields: CheckpointFields): Promise<Versioned<Checkpoint>>;
  /** Replaces the checkpoint only if it is still at `etag`; otherwise a WriteConflict. */
  update(profile: string, table: string, fields: CheckpointFields, etag: string): Promise<Versioned<Checkpoint>>;
  /**
   * Starts the table over from its first page (re-baseline after an expired token, or a resync an admin asked
   * for), whatever state it was in: unconditional, so any worker still holding the old ETag loses its next update.
   * `generation` is the profile's current one, kept on the new checkpoint.
   */
  reset(
    profile: string,
    table: string,
    phase: 'initial' | 'resync',
    generation?: string,
  ): Promise<Versioned<Checkpoint>>;
  listByProfile(profile: string): Promise<Array<{ table: string } & Versioned<Checkpoint>>>;
  /** Forgets every checkpoint of a deleted profile, so one created again under its name starts from scratch. */
  deleteByProfile(profile: string): Promise<void>;
}

/**
 * A Table storage string property holds at most 32K UTF-16 characters (64 KiB), but a nextLink with a paging
 * cookie can be longer. Long links are split over numbered properties of the same entity (1 MiB in all), so a
 * checkpoint is still written in one atomic, ETag-guarded operation; a blob beside it could not be.
 */
const LINK_CHUNK_CHARS = 30_000;
/** Two links of this size stay well inside the 1 MiB entity limit. */
export const MAX_LINK_CHARS = 200_000;
type LinkProperty = 'nextLink' | 'deltaLink';

function splitLink(link: string): string[] {
  const chunks: string[] = [];
  for (let start = 0; start < link.length;) {
    let end = Math.min(start + LINK_CHUNK_CHARS, link.length);
    // Never cut a surrogate pair in two: each half alone is not valid UTF-16 for the service.
    if (end < link.length && /[\uDC00-\uDFFF]/.test(link.charAt(end))) end -= 1;
    chunks.push(link.slice(start, end));
    start = end;
  }
  return chunks;
}

function linkProperties(name: LinkProperty, link: string | undefined, where: string): Record<string, unknown> {
  if (link === undefined) return {};
  if (link.length > MAX_LINK_CHARS) {
    throw new ExportError(
      'data',
      `The ${name} is ${link.length} characters long; a checkpoint holds at most ${MAX_LINK_CHARS}`,
      {
        where,
        fix: 'Reduce the page size (Prefer: odata.maxpagesize) so Dataverse returns shorter paging links.',
      },
    );
  }
  const chunks = splitLink(link);
  return {
    [`${name}Chunks`]: chunks.length,
    ...Object.fromEntries(chunks.map((chunk, index) => [`${name}_${index}`, chunk])),
  };
}

function joinLink(entity: Record<string, unknown>, name: LinkProperty): string | undefined {
  const chunks = entity[`${name}Chunks`];
  if (typeof chunks !== 'number') return undefined;
  return Array.from({ length: chunks }, (_, index) => entity[`${name}_${index}`]).join('');
}

function toEntity(profile: string, table: string, checkpoint: Checkpoint): TableEntity<Record<string, unknown>> {
  const where = `checkpoint ${profile}/${table}`;
  return {
    partitionKey: profile,
    rowKey: table,
    phase: checkpoint.phase,
    ...linkProperties('nextLink', checkpoint.nextLink, where),
    ...linkProperties('deltaLink', checkpoint.deltaLink, where),
    ...(checkpoint.watermark === undefined ? {} : { watermark: int64(checkpoint.watermark) }),
    rowsCopied: int64(checkpoint.rowsCopied),
    pages: int64(checkpoint.pages),
    startedAt: checkpoint.startedAt,
    updatedAt: checkpoint.updatedAt,
    ...(checkpoint.initialSyncCompletedAt === undefined
      ? {}
      : { initialSyncCompletedAt: checkpoint.initialSyncCompletedAt }),
    ...(checkpoint.generation === undefined ? {} : { generation: checkpoint.generation }),
  };
}

const storedCheckpointSchema = checkpointSchema.extend({
  watermark: storedInteger.optional(),
  rowsCopied: storedInteger,
  pages: storedInteger,
});

function fromEntity(entity: Record<string, unknown>, where: string): Checkpoint {
  const parsed = storedCheckpointSchema.safeParse({
    ...entity,
    nextLink: joinLink(entity, 'nextLink'),
    deltaLink: joinLink(entity, 'deltaLink'),
  });
  if (!parsed.success) {
    throw new ExportError('schema', `The stored checkpoint cannot be read: ${z.prettifyError(parsed.error)}`, {
      where,
      fix: 'Reset the table (resync) so the checkpoint is written again.',
    });
  }
  return parsed.data;
}

function stamped(fields: CheckpointFields, where: string): Checkpoint {
  const parsed = checkpointSchema.safeParse({ ...fields, updatedAt: new Date().toISOString() });
  if (!parsed.success)
    throw new ExportError('data', `The checkpoint is not valid: ${z.prettifyError(parsed.error)}`, { where });
  return parsed.data;
}

export function createTableCheckpointStore(clients: StorageClients): CheckpointStore {
  const client: TableClient = clients.table(CHECKPOINTS_TABLE);
  const ensureTable = ensureOnce(() => client.createTable());

  async function attempt<T>(what: string, where: string, operation: () => Promise<T>): Promise<T> {
    try {
      await ensureTable();
      return await operation();
    } catch (error) {
      const { statusCode } = storageStatus(error);
      // 412: the ETag moved on; 409 on create: it exists; 404 on update: it was deleted under us.
      if (statusCode === 412 || statusCode === 409 || statusCode === 404) throw new WriteConflict(what, where);
      throw storageFailure(error, what, where);
    }
  }

  return {
    async read(profile, table) {
      const where = `checkpoint ${checkedName('profile', profile)}/${checkedName('table', table)}`;
      try {
        await ensureTable();
        const entity = await client.getEntity(profile, table);
        return { value: fromEntity(entity, where), etag: entity.etag };
      } catch (error) {
        if (storageStatus(error).statusCode === 404) return undefined;
        throw storageFailure(error, 'Reading the checkpoint', where);
      }
    },

    async create(profile, table, fields) {
      const where = `checkpoint ${checkedName('profile', profile)}/${checkedName('table', table)}`;
      const value = stamped(fields, where);
      const entity = toEntity(profile, table, value);
      const response = await attempt('Creating the checkpoint', where, () => client.createEntity(entity));
      return { value, etag: requireEtag(response.etag, where) };
    },

    async update(profile, table, fields, etag) {
      const where = `checkpoint ${checkedName('profile', profile)}/${checkedName('table', table)}`;
      const value = stamped(fields, where);
      const entity = toEntity(profile, table, value);
      // Replace, not Merge: a link that is gone (nextLink after the last page) must not survive as a stale property.
      const response = await attempt('Updating the checkpoint', where, () =>
        client.updateEntity(entity, 'Replace', { etag }),
      );
      return { value, etag: requireEtag(response.etag, where) };
    },

    async reset(profile, table, phase, generation) {
      const where = `checkpoint ${checkedName('profile', profile)}/${checkedName('table', table)}`;
      const fields = { phase, rowsCopied: 0, pages: 0, startedAt: new Date().toISOString() };
      const value = stamped(generation === undefined ? fields : { ...fields, generation }, where);
      try {
        await ensureTable();
        const response = await client.upsertEntity(toEntity(profile, table, value), 'Replace');
        return { value, etag: requireEtag(response.etag, where) };
      } catch (error) {
        throw storageFailure(error, 'Resetting the checkpoint', where);
      }
    },

    async deleteByProfile(profile) {
      const where = `checkpoints of ${checkedName('profile', profile)}`;
      try {
        await ensureTable();
        await deletePartition(client, profile);
      } catch (error) {
        throw storageFailure(error, 'Deleting checkpoints', where);
      }
    },

    async listByProfile(profile) {
      const where = `checkpoints of ${checkedName('profile', profile)}`;
      try {
        await ensureTable();
        const found: Array<{ table: string } & Versioned<Checkpoint>> = [];
        for await (const entity of client.listEntities({
          queryOptions: { filter: odata`PartitionKey eq ${profile}` },
        })) {
          const table = entity.rowKey ?? '';
          found.push({ table, value: fromEntity(entity, `checkpoint ${profile}/${table}`), etag: entity.etag });
        }
        return found;
      } catch (error) {
        throw storageFailure(error, 'Listing checkpoints', where);
      }
    },
  };
}

function requireEtag(etag: string | undefined, where: string): string {
  if (etag === undefined)
    throw new ExportError('transient', 'Table storage answered a write without an ETag', { where });
  return etag;
}
