/**
 * In-memory state ports (document store, checkpoints, poll leases, table status, failed records, unprocessable
 * messages) for unit tests of the sync operations. Each keeps the contract of its Azure Storage adapter in
 * shared/state/ (named in one line above it), checked against the same zod schemas; none is kinder than Azure.
 */
import { z } from 'zod';
import { ExportError } from '../../shared/errors';
import { checkpointSchema, type Checkpoint, type CheckpointStore } from '../../shared/state/checkpoints';
import type { DocumentStore } from '../../shared/state/document-store';
import {
  failedRecordKey,
  failedRecordSchema,
  type FailedRecord,
  type FailedRecordStore,
} from '../../shared/state/failed-records';
import type { PollLeases } from '../../shared/state/poll-leases';
import { MAX_LEASE_SECONDS, MIN_LEASE_SECONDS } from '../../shared/storage/blob-lease';
import { WriteConflict } from '../../shared/storage/errors';
import {
  tableStatusPatchSchema,
  type TableStatus,
  type TableStatusPatch,
  type TableStatusStore,
} from '../../shared/state/table-status';
import {
  MAX_RAW_BODY_CHARS,
  unprocessableMessageKey,
  type StoredUnprocessableMessage,
  type UnprocessableMessageStore,
} from '../../shared/state/unprocessable-messages';
import type { Versioned } from '../../shared/state/versioned';

export type Clock = () => Date;

let etagCounter = 0;
const nextEtag = (): string => `W/"${++etagCounter}"`;
/** Values come back as copies, as they would from storage: a caller mutating one changes nothing stored. */
const copy = <T>(value: T): T => structuredClone(value);

/** Copies createBlobDocumentStore: schema-checked put, ETag conditions (If-Match / If-None-Match: *) → WriteConflict. */
export function inMemoryDocumentStore<T>(kind: string, schema: z.ZodType<T>): DocumentStore<T> {
  const documents = new Map<string, Versioned<T>>();
  return {
    get: (name) => Promise.resolve(copy(documents.get(name))),
    list: () => Promise.resolve([...documents].map(([name, stored]) => ({ name, ...copy(stored) }))),
    put(name, value, condition) {
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        const problem = `The ${kind} is not valid: ${z.prettifyError(parsed.error)}`;
        return Promise.reject(new ExportError('config', problem, { where: name }));
      }
      const current = documents.get(name);
      const holds =
        condition === undefined ||
        ('ifMatch' in condition ? current?.etag === condition.ifMatch : current === undefined);
      if (!holds) return Promise.reject(new WriteConflict(`Saving the ${kind}`, `${kind} ${name}`));
      const stored = { value: parsed.data, etag: nextEtag() };
      documents.set(name, stored);
      return Promise.resolve(copy(stored));
    },
    delete(name, { ifMatch } = {}) {
      const current = documents.get(name);
      if (ifMatch !== undefined && current !== undefined && current.etag !== ifMatch)
        return Promise.reject(new WriteConflict(`Deleting the ${kind}`, `${kind} ${name}`));
      return Promise.resolve(documents.delete(name));
    },
  };
}

/** Copies createTableCheckpointStore: create only if absent, update only at the ETag read (else WriteConflict), reset unconditional. */
export function inMemoryCheckpointStore(now: Clock): CheckpointStore {
  const checkpoints = new Map<string, Versioned<Checkpoint>>();
  const key = (profile: string, table: string) => `${profile}/${table}`;
  const stamped = (fields: Omit<Checkpoint, 'updatedAt'>, where: string): Checkpoint => {
    const parsed = checkpointSchema.safeParse({ ...fields, updatedAt: now().toISOString() });
    if (!parsed.success)
      throw new ExportError('data', `The checkpoint is not valid: ${z.prettifyError(parsed.error)}`, { where });
    return parsed.data;
  };
  const store: CheckpointStore = {
    read: (profile: string, table: string) => Promise.resolve(copy(checkpoints.get(key(profile, table)))),
    async create(profile: string, table: string, fields: Omit<Checkpoint, 'updatedAt'>) {
      const where = `checkpoint ${key(profile, table)}`;
      const value = stamped(fields, where);
      if (checkpoints.has(key(profile, table))) throw new WriteConflict('Creating the checkpoint', where);
      return save(profile, table, value);
    },
    async update(profile: string, table: string, fields: Omit<Checkpoint, 'updatedAt'>, etag: string) {
      const where = `checkpoint ${key(profile, table)}`;
      const value = stamped(fields, where);
      if (checkpoints.get(key(profile, table))?.etag !== etag)
        throw new WriteConflict('Updating the checkpoint', where);
      return save(profile, table, value);
    },
    async reset(profile: string, table: string, phase: 'initial' | 'resync', generation?: string) {
      const fields = {
        phase,
        rowsCopied: 0,
        pages: 0,
        startedAt: now().toISOString(),
        ...(generation === undefined ? {} : { generation }),
      };
      return save(profile, table, stamped(fields, `checkpoint ${key(profile, table)}`));
    },
    listByProfile: (profile: string) =>
      Promise.resolve(
        [...checkpoints]
          .filter(([name]) => name.startsWith(`${profile}/`))
          .map(([name, stored]) => ({ table: name.slice(profile.length + 1), ...copy(stored) })),
      ),
    deleteByProfile: (profile) => {
      for (const name of [...checkpoints.keys()]) if (name.startsWith(`${profile}/`)) checkpoints.delete(name);
      return Promise.resolve();
    },
  };
  function save(profile: string, table: string, value: Checkpoint): Versioned<Checkpoint> {
    const stored = { value, etag: nextEtag() };
    checkpoints.set(key(profile, table), stored);
    return copy(stored);
  }
  return store;
}

/** Copies createBlobPollLeases: 15–60 s leases, one holder until released or expired (by `now`), a lost lease fails renew. */
export function inMemoryPollLeases(now: Clock): PollLeases & { heldNow: number; mostHeldAtOnce: number } {
  const held = new Map<string, { leaseId: string; until: number }>();
  let leaseIds = 0;
  const leases = {
    heldNow: 0,
    mostHeldAtOnce: 0,
    deleteByProfile(profile: string) {
      for (const key of [...held.keys()]) if (key.startsWith(`${profile}/`)) held.delete(key);
      count();
      return Promise.resolve();
    },
    tryAcquire(profile: string, table: string, durationSeconds: number) {
      const where = `poll lease ${profile}/${table}`;
      if (
        !Number.isInteger(durationSeconds) ||
        durationSeconds < MIN_LEASE_SECONDS ||
        durationSeconds > MAX_LEASE_SECONDS
      )
        return Promise.reject(
          new ExportError('config', `A poll lease lasts 15 to 60 s, not ${durationSeconds}`, { where }),
        );
      const key = `${profile}/${table}`;
      const current = held.get(key);
      if (current && current.until > now().getTime()) return Promise.resolve(undefined);
      const leaseId = `lease-${++leaseIds}`;
      const ms = durationSeconds * 1000;
      held.set(key, { leaseId, until: now().getTime() + ms });
      count();
      return Promise.resolve({
        profile,
        table,
        leaseId,
        renew() {
          const mine = held.get(key);
          if (mine?.leaseId !== leaseId || mine.until <= now().getTime())
            return Promise.reject(new ExportError('transient', 'The poll lease was lost', { where }));
          mine.until = now().getTime() + ms;
          return Promise.resolve();
        },
        release() {
          if (held.get(key)?.leaseId === leaseId) held.delete(key);
          count();
          return Promise.resolve();
        },
      });
    },
  };
  function count(): void {
    leases.heldNow = [...held.values()].filter((lease) => lease.until > now().getTime()).length;
    leases.mostHeldAtOnce = Math.max(leases.mostHeldAtOnce, leases.heldNow);
  }
  return leases;
}

/** Copies createTableStatusStore: checked Merge of the given fields (null clears), whole counters added, errors cut to 2,000 characters. */
export function inMemoryTableStatus(now: Clock): TableStatusStore {
  const statuses = new Map<string, TableStatus>();
  const key = (profile: string, table: string) => `${profile}/${table}`;
  const current = (profile: string, table: string): TableStatus =>
    statuses.get(key(profile, table)) ?? { table, rowsApplied: 0, failedRecords: 0 };
  return {
    update(profile, table, patch: TableStatusPatch) {
      const parsed = tableStatusPatchSchema.safeParse(patch);
      if (!parsed.success) {
        const problem = `The table status update is not valid: ${z.prettifyError(parsed.error)}`;
        return Promise.reject(new ExportError('data', problem, { where: key(profile, table) }));
      }
      const { lastError, lastErrorSource, oldestUnappliedChangeAt, queuedPolls, throttledUntil, ...plain } =
        parsed.data;
      const next: TableStatus = { ...current(profile, table), ...plain, updatedAt: now().toISOString() };
      if (oldestUnappliedChangeAt !== undefined) next.oldestUnappliedChangeAt = oldestUnappliedChangeAt ?? undefined;
      if (queuedPolls !== undefined) next.queuedPolls = queuedPolls.length > 0 ? [...queuedPolls] : undefined;
      if (throttledUntil !== undefined) next.throttledUntil = throttledUntil ?? undefined;
      if (lastError === null) delete next.lastError;
      if (lastError) {
        const message = lastError.message.slice(0, 2_000);
        const at = now().toISOString();
        next.lastError = {
          errorClass: lastError.errorClass,
          message,
          at,
          ...(lastErrorSource ? { source: lastErrorSource } : {}),
        };
      }
      statuses.set(key(profile, table), next);
      return Promise.resolve();
    },
    increment(profile, table, { rowsApplied = 0, failedRecords = 0 }) {
      if (![rowsApplied, failedRecords].every((value) => Number.isSafeInteger(value) && value >= 0))
        return Promise.reject(
          new ExportError('data', 'Counters only grow, by whole numbers', { where: key(profile, table) }),
        );
      if (rowsApplied === 0 && failedRecords === 0) return Promise.resolve();
      const status = current(profile, table);
      statuses.set(key(profile, table), {
        ...status,
        rowsApplied: status.rowsApplied + rowsApplied,
        failedRecords: status.failedRecords + failedRecords,
      });
      return Promise.resolve();
    },
    read: (profile, table) => Promise.resolve(copy(statuses.get(key(profile, table)))),
    listByProfile: (profile) =>
      Promise.resolve(
        [...statuses].filter(([name]) => name.startsWith(`${profile}/`)).map(([, status]) => copy(status)),
      ),
    deleteByProfile: (profile) => {
      for (const name of [...statuses.keys()]) if (name.startsWith(`${profile}/`)) statuses.delete(name);
      return Promise.resolve();
    },
  };
}

/** Copies createBlobFailedRecordStore: schema-checked records keyed by failedRecordKey (the same failure twice is one). */
export function inMemoryFailedRecords(): FailedRecordStore & { all(): FailedRecord[] } {
  const records = new Map<string, FailedRecord>();
  const newestFirst = () => [...records].sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0));
  return {
    all: () => [...records.values()].map(copy),
    record(given) {
      const keys = given.map((record) => {
        const parsed = failedRecordSchema.safeParse(record);
        if (!parsed.success)
          throw new ExportError('data', `A failed record is not valid: ${z.prettifyError(parsed.error)}`);
        const key = failedRecordKey(parsed.data);
        records.set(key, parsed.data);
        return key;
      });
      return Promise.resolve(keys);
    },
    list(profile, { table, pageSize = 100, after } = {}) {
      const matching = newestFirst().filter(
        ([key, record]) =>
          record.profile === profile &&
          (table === undefined || record.table === table) &&
          (after === undefined || key < after),
      );
      const page = matching.slice(0, pageSize).map(([key, { profile: p, table: t, id, changeType, failedAt }]) => ({
        key,
        profile: p,
        table: t,
        id,
        changeType,
        failedAt,
      }));
      const last = page.at(-1);
      return Promise.resolve(
        matching.length > pageSize && last ? { records: page, next: last.key } : { records: page },
      );
    },
    download: (key) => Promise.resolve(copy(records.get(key))),
    resolve: (keys) => Promise.resolve(keys.filter((key) => records.delete(key)).length),
    resolveTable(profile, table, failedBefore) {
      const gone = [...records].filter(
        ([, r]) => r.profile === profile && r.table === table && r.failedAt < failedBefore,
      );
      for (const [key] of gone) records.delete(key);
      return Promise.resolve(gone.length);
    },
    countByTable(profile) {
      const counts: Record<string, number> = {};
      for (const record of records.values())
        if (record.profile === profile) counts[record.table] = (counts[record.table] ?? 0) + 1;
      return Promise.resolve(counts);
    },
  };
}

/** Copies createBlobUnprocessableMessageStore: keyed by hour and message id, bodies cut at MAX_RAW_BODY_CHARS. */
export function inMemoryUnprocessableMessages(): UnprocessableMessageStore & {
  stored: Map<string, StoredUnprocessableMessage>;
} {
  const stored = new Map<string, StoredUnprocessableMessage>();
  return {
    stored,
    record(message) {
      const key = unprocessableMessageKey(message);
      stored.set(key, {
        ...message,
        rawBody: message.rawBody.slice(0, MAX_RAW_BODY_CHARS),
        rawBodyChars: message.rawBody.length,
        truncated: message.rawBody.length > MAX_RAW_BODY_CHARS,
      });
      return Promise.resolve(key);
    },
  };
}
