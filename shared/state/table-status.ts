/**
 * What an admin (and the status endpoint) sees per (profile, table): phase, row counts, freshness, lag and
 * failures. The poller, the applier and the initial sync each own some fields and write only those, with Table
 * storage Merge, so none clobbers another's.
 *
 * Counters several appliers bump at once (rows applied, failed records) live in separate counter entities
 * beside the status entity, `<table>~<shard>`, and each increment is a read-modify-write of one randomly
 * chosen shard under its ETag, retried on conflict, so no increment is lost. One counter entity with an ETag
 * loop alone collapses under contention (every round lets one of N writers through; measured 20-25
 * increments/s with 20 writers on Azurite); shards make a conflict rare. A reader sums the shards, which come
 * back in the same range query as the status entity, so reading stays one request and entities stay bounded.
 */
import type { TableClient, TableEntity } from '@azure/data-tables';
import { odata } from '@azure/data-tables';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ExportError, type ErrorClass } from '../errors';
import type { StorageClients } from '../storage/clients';
import { ensureOnce } from '../storage/ensure-once';
import { TABLE_STATUS_TABLE, checkedName } from './names';
import { storageFailure, storageStatus } from '../storage/errors';
import { errorClassSchema } from './error-class';
import { int64, storedInteger } from './table-values';
import { deletePartition } from './partition';

export interface TableStatus {
  table: string;
  phase?: 'initial' | 'delta' | 'resync';
  rowsInDestination?: number;
  /** Rows copied by the initial sync (or the last resync). */
  initialRowsCopied?: number;
  pages?: number;
  lastSuccessfulSyncAt?: string;
  /** The oldest change read from Dataverse and not applied yet; lag = now − this. Absent when caught up. */
  oldestUnappliedChangeAt?: string;
  /**
   * When each poll that queued changes read them, oldest first, from the oldest not applied yet on (the poller keeps
   * it, shared/sync/apply/unapplied-polls.ts): what oldestUnappliedChangeAt moves to once a poll's batch is applied.
   */
  queuedPolls?: string[];
  /** `source` says which part wrote it, so that part alone clears it when it succeeds again (a poll never hides an apply's error). */
  lastError?: { errorClass: ErrorClass; message: string; at: string; source?: ErrorSource };
  /** Dataverse asked (Retry-After) not to be polled for this table before then; the poller skips it until then. */
  throttledUntil?: string;
  /** Rows applied by change batches since the table was activated; counts a redelivered batch again. */
  rowsApplied: number;
  /** Rows ever sent to the failed-records store; what is still unresolved is counted by that store. */
  failedRecords: number;
  updatedAt?: string;
}

/** Which part of the export wrote a table's `lastError`. */
export type ErrorSource = 'poll' | 'apply' | 'copy';
const errorSourceSchema = z.enum(['poll', 'apply', 'copy']);

export interface TableStatusPatch {
  phase?: TableStatus['phase'];
  rowsInDestination?: number;
  initialRowsCopied?: number;
  pages?: number;
  lastSuccessfulSyncAt?: string;
  /** null: caught up. */
  oldestUnappliedChangeAt?: string | null;
  /** Replaces the whole list; [] empties it. */
  queuedPolls?: string[];
  /** Only an ExportError, whose message is safe to show (never a raw driver error that may echo secrets); null clears it. */
  lastError?: ExportError | null;
  /** Who wrote `lastError`; stored with it (left out: unknown). */
  lastErrorSource?: ErrorSource;
  /** null: no longer throttled. */
  throttledUntil?: string | null;
}

export interface CounterIncrements {
  rowsApplied?: number;
  failedRecords?: number;
}

export interface TableStatusStore {
  /** Merges the given fields; fields left out keep what other writers put there. */
  update(profile: string, table: string, patch: TableStatusPatch): Promise<void>;
  /** Adds to the counters; safe to call from many workers at once. */
  increment(profile: string, table: string, increments: CounterIncrements): Promise<void>;
  read(profile: string, table: string): Promise<TableStatus | undefined>;
  listByProfile(profile: string): Promise<TableStatus[]>;
  /** Forgets every table's status and counters of a deleted profile. */
  deleteByProfile(profile: string): Promise<void>;
}

/** Long enough for any ExportError message we write; a runaway one must not hit the 32K-character property limit. */
const MAX_ERROR_MESSAGE_CHARS = 2_000;
const MAX_COUNTER_ATTEMPTS = 50;
/** Table storage cannot remove a property in a Merge, so a cleared text field is stored empty. */
const CLEARED = '';
/** Stored as one text property (ISO times hold no comma); 200 of them stay far below its 64 KiB limit. */
export const MAX_QUEUED_POLLS = 200;
const POLL_SEPARATOR = ',';

const count = storedInteger.pipe(z.number().nonnegative());
const text = z.string().transform((value) => (value === CLEARED ? undefined : value));
const storedStatusSchema = z.object({
  phase: z.enum(['initial', 'delta', 'resync']).optional(),
  rowsInDestination: count.optional(),
  initialRowsCopied: count.optional(),
  pages: count.optional(),
  lastSuccessfulSyncAt: text.optional(),
  oldestUnappliedChangeAt: text.optional(),
  queuedPolls: z
    .string()
    .transform((value) => (value === CLEARED ? undefined : value.split(POLL_SEPARATOR)))
    .optional(),
  lastErrorClass: text.optional(),
  lastErrorMessage: text.optional(),
  lastErrorAt: text.optional(),
  lastErrorSource: text.optional(),
  throttledUntil: text.optional(),
});
const storedCountersSchema = z.object({ rowsApplied: count.default(0), failedRecords: count.default(0) });

const COUNTER_SHARDS = 16;
/** Not allowed in table names (see names.ts), so a counter key never equals a table's status key. */
const SHARD_SEPARATOR = '~';
const counterKey = (table: string, shard: number) => `${table}${SHARD_SEPARATOR}${String(shard).padStart(2, '0')}`;

type StoredEntity = Record<string, unknown> & { rowKey?: string; timestamp?: string };

/** Folds status entities and counter shards (as a range or partition query returns them) into one status per table. */
function foldStatuses(entities: StoredEntity[], profile: string): Map<string, TableStatus> {
  const statuses = new Map<string, TableStatus>();
  for (const entity of entities) {
    const rowKey = entity.rowKey ?? '';
    const separator = rowKey.indexOf(SHARD_SEPARATOR);
    const table = separator < 0 ? rowKey : rowKey.slice(0, separator);
    const where = `table status ${profile}/${table}`;
    const status = statuses.get(table) ?? { table, rowsApplied: 0, failedRecords: 0 };
    if (entity.timestamp !== undefined && (status.updatedAt === undefined || entity.timestamp > status.updatedAt))
      status.updatedAt = entity.timestamp;
    if (separator < 0) Object.assign(status, statusFields(entity, where));
    else {
      const counters = parseStored(storedCountersSchema, entity, where);
      status.rowsApplied += counters.rowsApplied;
      status.failedRecords += counters.failedRecords;
    }
    statuses.set(table, status);
  }
  return statuses;
}

function parseStored<T>(schema: z.ZodType<T>, entity: StoredEntity, where: string): T {
  const parsed = schema.safeParse(entity);
  if (!parsed.success)
    throw new ExportError('schema', `The stored table status cannot be read: ${z.prettifyError(parsed.error)}`, {
      where,
    });
  return parsed.data;
}

function statusFields(entity: StoredEntity, where: string): Partial<TableStatus> {
  const { lastErrorClass, lastErrorMessage, lastErrorAt, lastErrorSource, ...fields } = parseStored(
    storedStatusSchema,
    entity,
    where,
  );
  const errorClass = errorClassSchema.safeParse(lastErrorClass);
  const source = errorSourceSchema.safeParse(lastErrorSource);
  if (!errorClass.success || lastErrorMessage === undefined || lastErrorAt === undefined) return fields;
  const lastError = { errorClass: errorClass.data, message: lastErrorMessage, at: lastErrorAt };
  return { ...fields, lastError: source.success ? { ...lastError, source: source.data } : lastError };
}

/** The fields a status update may set; exported so the in-memory store of the unit tests checks them alike. */
export const tableStatusPatchSchema = z.object({
  phase: z.enum(['initial', 'delta', 'resync']).optional(),
  rowsInDestination: z.number().int().nonnegative().optional(),
  initialRowsCopied: z.number().int().nonnegative().optional(),
  pages: z.number().int().nonnegative().optional(),
  lastSuccessfulSyncAt: z.iso.datetime().optional(),
  oldestUnappliedChangeAt: z.iso.datetime().nullable().optional(),
  queuedPolls: z.array(z.iso.datetime()).max(MAX_QUEUED_POLLS).optional(),
  lastError: z.instanceof(ExportError).nullable().optional(),
  lastErrorSource: errorSourceSchema.optional(),
  throttledUntil: z.iso.datetime().nullable().optional(),
});

function patchProperties(patch: TableStatusPatch, where: string): Record<string, unknown> {
  const parsed = tableStatusPatchSchema.safeParse(patch);
  if (!parsed.success)
    throw new ExportError('data', `The table status update is not valid: ${z.prettifyError(parsed.error)}`, { where });
  const {
    lastError,
    lastErrorSource,
    oldestUnappliedChangeAt,
    queuedPolls,
    throttledUntil,
    rowsInDestination,
    initialRowsCopied,
    pages,
    ...plain
  } = parsed.data;
  const properties: Record<string, unknown> = { ...plain };
  if (rowsInDestination !== undefined) properties.rowsInDestination = int64(rowsInDestination);
  if (initialRowsCopied !== undefined) properties.initialRowsCopied = int64(initialRowsCopied);
  if (pages !== undefined) properties.pages = int64(pages);
  if (oldestUnappliedChangeAt !== undefined) properties.oldestUnappliedChangeAt = oldestUnappliedChangeAt ?? CLEARED;
  if (queuedPolls !== undefined) properties.queuedPolls = queuedPolls.join(POLL_SEPARATOR);
  if (throttledUntil !== undefined) properties.throttledUntil = throttledUntil ?? CLEARED;
  if (lastError === null)
    Object.assign(properties, {
      lastErrorClass: CLEARED,
      lastErrorMessage: CLEARED,
      lastErrorAt: CLEARED,
      lastErrorSource: CLEARED,
    });
  if (lastError) {
    Object.assign(properties, {
      lastErrorClass: lastError.errorClass,
      lastErrorMessage: lastError.message.slice(0, MAX_ERROR_MESSAGE_CHARS),
      lastErrorAt: new Date().toISOString(),
      lastErrorSource: lastErrorSource ?? CLEARED,
    });
  }
  return Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined));
}

export function createTableStatusStore(clients: StorageClients): TableStatusStore {
  const client: TableClient = clients.table(TABLE_STATUS_TABLE);
  const ensureTable = ensureOnce(() => client.createTable());
  const whereOf = (profile: string, table: string) =>
    `table status ${checkedName('profile', profile)}/${checkedName('table', table)}`;

  async function query(filter: string): Promise<StoredEntity[]> {
    const entities: StoredEntity[] = [];
    for await (const entity of client.listEntities({ queryOptions: { filter } })) entities.push(entity);
    return entities;
  }

  /** One read-modify-write of one counter shard; false when another writer got there first. */
  async function tryIncrement(
    profile: string,
    rowKey: string,
    increments: Required<CounterIncrements>,
  ): Promise<boolean> {
    let current: StoredEntity & { etag: string };
    try {
      current = await client.getEntity(profile, rowKey);
    } catch (error) {
      if (storageStatus(error).statusCode !== 404) throw error;
      const created: TableEntity<Record<string, unknown>> = {
        partitionKey: profile,
        rowKey,
        rowsApplied: int64(increments.rowsApplied),
        failedRecords: int64(increments.failedRecords),
      };
      return client.createEntity(created).then(
        () => true,
        (createError: unknown) => {
          if (storageStatus(createError).statusCode === 409) return false;
          throw createError;
        },
      );
    }
    const counters = parseStored(storedCountersSchema, current, `table status ${profile}/${rowKey}`);
    const updated: TableEntity<Record<string, unknown>> = {
      partitionKey: profile,
      rowKey,
      rowsApplied: int64(counters.rowsApplied + increments.rowsApplied),
      failedRecords: int64(counters.failedRecords + increments.failedRecords),
    };
    return client.updateEntity(updated, 'Replace', { etag: current.etag }).then(
      () => true,
      (updateError: unknown) => {
        if ([404, 412].includes(storageStatus(updateError).statusCode ?? 0)) return false;
        throw updateError;
      },
    );
  }

  return {
    async update(profile, table, patch) {
      const where = whereOf(profile, table);
      const properties = patchProperties(patch, where);
      try {
        await ensureTable();
        await client.upsertEntity({ partitionKey: profile, rowKey: table, ...properties }, 'Merge');
      } catch (error) {
        throw storageFailure(error, 'Updating the table status', where);
      }
    },

    async increment(profile, table, { rowsApplied = 0, failedRecords = 0 }) {
      const where = whereOf(profile, table);
      if (![rowsApplied, failedRecords].every((value) => Number.isSafeInteger(value) && value >= 0)) {
        throw new ExportError(
          'data',
          `Counters only grow, by whole numbers: got rowsApplied ${rowsApplied}, failedRecords ${failedRecords}`,
          { where },
        );
      }
      if (rowsApplied === 0 && failedRecords === 0) return;
      try {
        await ensureTable();
        for (let attempt = 1; attempt <= MAX_COUNTER_ATTEMPTS; attempt += 1) {
          const shard = Math.floor(Math.random() * COUNTER_SHARDS);
          if (await tryIncrement(profile, counterKey(table, shard), { rowsApplied, failedRecords })) return;
          // A short random pause spreads contenders out; the next attempt most likely picks another shard anyway.
          await sleep(Math.random() * Math.min(50, 2 * 2 ** attempt));
        }
      } catch (error) {
        throw storageFailure(error, 'Incrementing the table status counters', where);
      }
      throw new ExportError('transient', `The counters stayed contended for ${MAX_COUNTER_ATTEMPTS} attempts`, {
        where,
      });
    },

    async read(profile, table) {
      const where = whereOf(profile, table);
      try {
        await ensureTable();
        // The status entity and its shards share the key prefix; the range also catches longer table names, which fold away.
        const entities = await query(
          odata`PartitionKey eq ${profile} and RowKey ge ${table} and RowKey lt ${`${table}${SHARD_SEPARATOR}${SHARD_SEPARATOR}`}`,
        );
        return foldStatuses(entities, profile).get(table);
      } catch (error) {
        throw storageFailure(error, 'Reading the table status', where);
      }
    },

    async deleteByProfile(profile) {
      const where = `table status of ${checkedName('profile', profile)}`;
      try {
        await ensureTable();
        await deletePartition(client, profile);
      } catch (error) {
        throw storageFailure(error, 'Deleting table statuses', where);
      }
    },

    async listByProfile(profile) {
      const where = `table status of ${checkedName('profile', profile)}`;
      try {
        await ensureTable();
        const statuses = foldStatuses(await query(odata`PartitionKey eq ${profile}`), profile);
        return [...statuses.values()].sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
      } catch (error) {
        throw storageFailure(error, 'Listing table statuses', where);
      }
    },
  };
}
