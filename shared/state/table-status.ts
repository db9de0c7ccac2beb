/**
 * What an admin (and the status endpoint) sees per (profile, table): phase, row counts, freshness, lag and
 * failures. The poller, the applier and the initial sync each own some fields and write only those, with Table
 * storage Merge, so none clobbers another's. Counters several appliers bump at once (rows applied, failed
 * records) are read-modify-write under the entity's ETag and retried on conflict, so no increment is lost.
 *
 * Why an ETag loop and not one entity per increment: the count stays one property, read in one query per
 * profile, and nothing grows without bound. Merges of other fields move the ETag too and cost a counter writer
 * a retry, which is cheap at the rates here (a few batches per table per second).
 */
import type { TableClient, TableEntity } from '@azure/data-tables';
import { odata } from '@azure/data-tables';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ExportError, type ErrorClass } from '../errors';
import type { StorageClients } from '../storage/clients';
import { ensureOnce } from './ensure-once';
import { TABLE_STATUS_TABLE, checkedName } from './names';
import { storageFailure, storageStatus } from './storage-errors';
import { int64, storedInteger } from './table-values';

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
  lastError?: { errorClass: ErrorClass; message: string; at: string };
  /** Rows applied by change batches since the table was activated; counts a redelivered batch again. */
  rowsApplied: number;
  /** Rows ever sent to the failed-records store; what is still unresolved is counted by that store. */
  failedRecords: number;
  updatedAt?: string;
}

export interface TableStatusPatch {
  phase?: TableStatus['phase'];
  rowsInDestination?: number;
  initialRowsCopied?: number;
  pages?: number;
  lastSuccessfulSyncAt?: string;
  /** null: caught up. */
  oldestUnappliedChangeAt?: string | null;
  /** Only an ExportError, whose message is safe to show (never a raw driver error that may echo secrets); null clears it. */
  lastError?: ExportError | null;
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
}

/** Long enough for any ExportError message we write; a runaway one must not hit the 32K-character property limit. */
const MAX_ERROR_MESSAGE_CHARS = 2_000;
const MAX_COUNTER_ATTEMPTS = 50;
/** Table storage cannot remove a property in a Merge, so a cleared text field is stored empty. */
const CLEARED = '';

const count = storedInteger.pipe(z.number().nonnegative());
const text = z.string().transform((value) => (value === CLEARED ? undefined : value));
const storedStatusSchema = z.object({
  rowKey: z.string(),
  phase: z.enum(['initial', 'delta', 'resync']).optional(),
  rowsInDestination: count.optional(),
  initialRowsCopied: count.optional(),
  pages: count.optional(),
  lastSuccessfulSyncAt: text.optional(),
  oldestUnappliedChangeAt: text.optional(),
  lastErrorClass: text.optional(),
  lastErrorMessage: text.optional(),
  lastErrorAt: text.optional(),
  rowsApplied: count.default(0),
  failedRecords: count.default(0),
  timestamp: z.string().optional(),
});
const errorClassSchema = z.enum(['transient', 'throttled', 'schema', 'data', 'config', 'expired-token'] satisfies ErrorClass[]);

function fromEntity(entity: Record<string, unknown>, where: string): TableStatus {
  const parsed = storedStatusSchema.safeParse(entity);
  if (!parsed.success) throw new ExportError('schema', `The stored table status cannot be read: ${z.prettifyError(parsed.error)}`, { where });
  const { rowKey, lastErrorClass, lastErrorMessage, lastErrorAt, timestamp, ...fields } = parsed.data;
  const errorClass = errorClassSchema.safeParse(lastErrorClass);
  const status: TableStatus = { table: rowKey, ...fields, updatedAt: timestamp };
  if (errorClass.success && lastErrorMessage !== undefined && lastErrorAt !== undefined) {
    status.lastError = { errorClass: errorClass.data, message: lastErrorMessage, at: lastErrorAt };
  }
  return status;
}

function patchProperties(patch: TableStatusPatch): Record<string, unknown> {
  const { lastError, oldestUnappliedChangeAt, rowsInDestination, initialRowsCopied, pages, ...plain } = patch;
  const properties: Record<string, unknown> = { ...plain };
  if (rowsInDestination !== undefined) properties.rowsInDestination = int64(rowsInDestination);
  if (initialRowsCopied !== undefined) properties.initialRowsCopied = int64(initialRowsCopied);
  if (pages !== undefined) properties.pages = int64(pages);
  if (oldestUnappliedChangeAt !== undefined) properties.oldestUnappliedChangeAt = oldestUnappliedChangeAt ?? CLEARED;
  if (lastError === null) Object.assign(properties, { lastErrorClass: CLEARED, lastErrorMessage: CLEARED, lastErrorAt: CLEARED });
  if (lastError) {
    Object.assign(properties, {
      lastErrorClass: lastError.errorClass,
      lastErrorMessage: lastError.message.slice(0, MAX_ERROR_MESSAGE_CHARS),
      lastErrorAt: new Date().toISOString(),
    });
  }
  return Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined));
}

export function createTableStatusStore(clients: StorageClients): TableStatusStore {
  const client: TableClient = clients.table(TABLE_STATUS_TABLE);
  const ensureTable = ensureOnce(() => client.createTable());
  const whereOf = (profile: string, table: string) => `table status ${checkedName('profile', profile)}/${checkedName('table', table)}`;

  /** One read-modify-write of the counters; false when another writer got there first. */
  async function tryIncrement(profile: string, table: string, increments: Required<CounterIncrements>): Promise<boolean> {
    let current: Record<string, unknown> & { etag: string };
    try {
      current = await client.getEntity(profile, table);
    } catch (error) {
      if (storageStatus(error).statusCode !== 404) throw error;
      const entity: TableEntity<Record<string, unknown>> = {
        partitionKey: profile,
        rowKey: table,
        rowsApplied: int64(increments.rowsApplied),
        failedRecords: int64(increments.failedRecords),
      };
      return client.createEntity(entity).then(() => true, (createError: unknown) => {
        if (storageStatus(createError).statusCode === 409) return false;
        throw createError;
      });
    }
    const counters = storedStatusSchema.pick({ rowsApplied: true, failedRecords: true }).parse(current);
    const entity: TableEntity<Record<string, unknown>> = {
      partitionKey: profile,
      rowKey: table,
      rowsApplied: int64(counters.rowsApplied + increments.rowsApplied),
      failedRecords: int64(counters.failedRecords + increments.failedRecords),
    };
    return client.updateEntity(entity, 'Merge', { etag: current.etag }).then(() => true, (updateError: unknown) => {
      if ([404, 412].includes(storageStatus(updateError).statusCode ?? 0)) return false;
      throw updateError;
    });
  }

  return {
    async update(profile, table, patch) {
      const where = whereOf(profile, table);
      try {
        await ensureTable();
        await client.upsertEntity({ partitionKey: profile, rowKey: table, ...patchProperties(patch) }, 'Merge');
      } catch (error) {
        throw storageFailure(error, 'Updating the table status', where);
      }
    },

    async increment(profile, table, { rowsApplied = 0, failedRecords = 0 }) {
      const where = whereOf(profile, table);
      if (![rowsApplied, failedRecords].every((value) => Number.isSafeInteger(value) && value >= 0)) {
        throw new ExportError('data', `Counters only grow, by whole numbers: got rowsApplied ${rowsApplied}, failedRecords ${failedRecords}`, { where });
      }
      if (rowsApplied === 0 && failedRecords === 0) return;
      try {
        await ensureTable();
        for (let attempt = 1; attempt <= MAX_COUNTER_ATTEMPTS; attempt += 1) {
          if (await tryIncrement(profile, table, { rowsApplied, failedRecords })) return;
          // Random back-off spreads the contenders out so each round lets at least one through.
          await sleep(Math.random() * Math.min(200, 5 * 2 ** Math.min(attempt, 6)));
        }
      } catch (error) {
        throw storageFailure(error, 'Incrementing the table status counters', where);
      }
      throw new ExportError('transient', `The counters stayed contended for ${MAX_COUNTER_ATTEMPTS} attempts`, { where });
    },

    async read(profile, table) {
      const where = whereOf(profile, table);
      try {
        await ensureTable();
        return fromEntity(await client.getEntity(profile, table), where);
      } catch (error) {
        if (storageStatus(error).statusCode === 404) return undefined;
        throw storageFailure(error, 'Reading the table status', where);
      }
    },

    async listByProfile(profile) {
      const where = `table status of ${checkedName('profile', profile)}`;
      try {
        await ensureTable();
        const statuses: TableStatus[] = [];
        for await (const entity of client.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${profile}` } })) {
          statuses.push(fromEntity(entity, `table status ${profile}/${entity.rowKey ?? ''}`));
        }
        return statuses;
      } catch (error) {
        throw storageFailure(error, 'Listing table statuses', where);
      }
    },
  };
}
