/**
 * The failed-records store, so nothing fails silently: every row that could not be applied, as one JSON blob in
 * a DES-like layout `failurelog/YYYY/MM/DD/HH/<profile>/<table>/<timestamp>-<id>-<changeType>.json`, so it can be
 * listed, inspected, resynced and then resolved. The blob name is the record's stable key.
 */
import pLimit from 'p-limit';
import { z } from 'zod';
import { ExportError } from '../errors';
import type { StorageClients } from '../storage/clients';
import { blobNames, deleteBlobs, hourFolder, hourFolderStart, hourFoldersNewestFirst } from './hourly-folders';
import { jsonText } from './json-text';
import { KEY_NAME_PATTERN, checkedName } from './names';
import { stateContainer } from './state-container';
import { storageFailure, storageStatus } from '../storage/errors';
import { errorClassSchema } from './error-class';

export const FAILED_RECORDS_ROOT = 'failurelog';

const keyName = z
  .string()
  .regex(new RegExp(`^${KEY_NAME_PATTERN}$`), 'letters, digits, _ and - only, 1 to 128 characters');

export const failedRecordSchema = z
  .object({
    profile: keyName,
    table: keyName,
    /** The row's primary key (a GUID). */
    id: keyName,
    changeType: z.enum(['upsert', 'delete']),
    failedAt: z.iso.datetime(),
    reason: z.string(),
    errorClass: errorClassSchema,
    attempt: z.number().int().nonnegative(),
    batchId: z.string().min(1),
    /** The row as it came from Dataverse, for upserts. */
    payload: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((record) => record.changeType === 'delete' || record.payload !== undefined, {
    message: 'an upsert keeps its row as payload',
    path: ['payload'],
  });

export type FailedRecord = z.infer<typeof failedRecordSchema>;

/** What a listing tells without downloading each record (all of it is in the blob name). */
export interface FailedRecordSummary {
  key: string;
  profile: string;
  table: string;
  id: string;
  changeType: FailedRecord['changeType'];
  failedAt: string;
}

export interface FailedRecordPage {
  records: FailedRecordSummary[];
  /** Pass as `after` for the next page; absent on the last page. */
  next?: string;
}

export interface FailedRecordStore {
  /** Stores the records; returns their keys in the same order. The same failure recorded twice is one record. */
  record(records: FailedRecord[]): Promise<string[]>;
  /** Newest first. */
  list(profile: string, options?: { table?: string; pageSize?: number; after?: string }): Promise<FailedRecordPage>;
  download(key: string): Promise<FailedRecord | undefined>;
  /** Removes records (they were resynced); returns how many existed. */
  resolve(keys: string[]): Promise<number>;
  /** Removes every record of a table that failed before `failedBefore` (the start of a successful table resync). */
  resolveTable(profile: string, table: string, failedBefore: string): Promise<number>;
  /** Unresolved records per table of a profile. */
  countByTable(profile: string): Promise<Record<string, number>>;
}

export const DEFAULT_FAILED_RECORDS_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1_000;
const UPLOAD_CONCURRENCY = 16;

/** `20261121T100503123Z`: sortable, and no colons (awkward in lake tools and Windows paths). */
const compactTimestamp = (at: Date) => at.toISOString().replace(/[-:.]/g, '');
const KEY = new RegExp(
  `^${FAILED_RECORDS_ROOT}/\\d{4}/\\d{2}/\\d{2}/\\d{2}/(${KEY_NAME_PATTERN})/(${KEY_NAME_PATTERN})/(\\d{8}T\\d{9}Z)-(${KEY_NAME_PATTERN})-(upsert|delete)\\.json$`,
);
/** A record's key as listings return it (`failurelog/…/<table>/<timestamp>-<id>-<changeType>.json`); nothing else names a record. */
export const failedRecordKeySchema = z.string().regex(KEY, 'use a key exactly as a failed-record listing returned it');
const COMPACT_TIMESTAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/;

export const failedRecordKey = (
  record: Pick<FailedRecord, 'profile' | 'table' | 'id' | 'changeType' | 'failedAt'>,
): string => {
  const failedAt = new Date(record.failedAt);
  return `${hourFolder(FAILED_RECORDS_ROOT, failedAt)}${record.profile}/${record.table}/${compactTimestamp(failedAt)}-${record.id}-${record.changeType}.json`;
};

function parseKey(key: string): FailedRecordSummary | undefined {
  const match = KEY.exec(key);
  if (!match) return undefined;
  const [, profile = '', table = '', stamp = '', id = '', changeType = ''] = match;
  return {
    key,
    profile,
    table,
    id,
    changeType: changeType === 'delete' ? 'delete' : 'upsert',
    failedAt: stamp.replace(COMPACT_TIMESTAMP, '$1-$2-$3T$4:$5:$6.$7Z'),
  };
}

function checkedKey(key: string): FailedRecordSummary {
  const summary = parseKey(key);
  if (!summary) {
    throw new ExportError('config', `"${key.slice(0, 300)}" is not a failed-record key`, {
      where: 'failed-record key',
      fix: 'Use a key exactly as a failed-record listing returned it.',
    });
  }
  return summary;
}

/** Newest first; ties (same millisecond) broken by key so paging is stable. */
function newestFirst(a: FailedRecordSummary, b: FailedRecordSummary): number {
  if (a.failedAt !== b.failedAt) return a.failedAt < b.failedAt ? 1 : -1;
  return a.key < b.key ? 1 : a.key > b.key ? -1 : 0;
}

export function createBlobFailedRecordStore(clients: StorageClients): FailedRecordStore {
  const container = stateContainer(clients);

  /** Records of a profile (and table) hour by hour, newest hour first, each hour sorted newest first. */
  async function* summariesNewestFirst(
    profile: string,
    table: string | undefined,
    notAfter?: FailedRecordSummary,
  ): AsyncGenerator<FailedRecordSummary> {
    const lastHour = notAfter && hourFolder(FAILED_RECORDS_ROOT, new Date(notAfter.failedAt));
    for await (const hour of hourFoldersNewestFirst(container.client, FAILED_RECORDS_ROOT)) {
      if (lastHour !== undefined && hour > lastHour) continue;
      const names = await blobNames(container.client, `${hour}${profile}/${table === undefined ? '' : `${table}/`}`);
      const summaries = names.flatMap((name) => parseKey(name) ?? []).sort(newestFirst);
      yield* notAfter ? summaries.filter((summary) => newestFirst(notAfter, summary) < 0) : summaries;
    }
  }

  return {
    async record(records) {
      const checked = records.map((record) => {
        const parsed = failedRecordSchema.safeParse(record);
        if (!parsed.success) {
          throw new ExportError('data', `A failed record cannot be stored: ${z.prettifyError(parsed.error)}`, {
            where: `failed record ${record.profile}/${record.table}/${record.id}`,
          });
        }
        return parsed.data;
      });
      const limit = pLimit(UPLOAD_CONCURRENCY);
      try {
        await container.ready();
        return await Promise.all(
          checked.map((record) =>
            limit(async () => {
              const key = failedRecordKey(record);
              const body = JSON.stringify(record);
              await container.client
                .getBlockBlobClient(key)
                .upload(body, Buffer.byteLength(body), { blobHTTPHeaders: { blobContentType: 'application/json' } });
              return key;
            }),
          ),
        );
      } catch (error) {
        throw storageFailure(error, 'Storing failed records', 'failed-records store');
      }
    },

    async list(profile, { table, pageSize = DEFAULT_FAILED_RECORDS_PAGE_SIZE, after } = {}) {
      checkedName('profile', profile);
      if (table !== undefined) checkedName('table', table);
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
        throw new ExportError('config', `A page holds 1 to ${MAX_PAGE_SIZE} failed records, not ${pageSize}`, {
          where: 'pageSize',
        });
      }
      const cursor = after === undefined ? undefined : checkedKey(after);
      const records: FailedRecordSummary[] = [];
      try {
        await container.ready();
        // One more than a page tells whether another page follows.
        for await (const summary of summariesNewestFirst(profile, table, cursor)) {
          records.push(summary);
          if (records.length > pageSize) break;
        }
      } catch (error) {
        throw storageFailure(error, 'Listing failed records', `failed records of ${profile}`);
      }
      const page = records.slice(0, pageSize);
      return records.length > pageSize ? { records: page, next: page.at(-1)?.key } : { records: page };
    },

    async download(key) {
      checkedKey(key);
      let text: string;
      try {
        await container.ready();
        text = (await container.client.getBlockBlobClient(key).downloadToBuffer()).toString('utf8');
      } catch (error) {
        if (storageStatus(error).statusCode === 404) return undefined;
        throw storageFailure(error, 'Downloading a failed record', key);
      }
      const parsed = jsonText.pipe(failedRecordSchema).safeParse(text);
      if (!parsed.success)
        throw new ExportError('schema', `The stored failed record cannot be read: ${z.prettifyError(parsed.error)}`, {
          where: key,
        });
      return parsed.data;
    },

    async resolve(keys) {
      keys.forEach(checkedKey);
      try {
        await container.ready();
        return await deleteBlobs(container.client, keys);
      } catch (error) {
        throw storageFailure(error, 'Resolving failed records', 'failed-records store');
      }
    },

    async resolveTable(profile, table, failedBefore) {
      const where = `failed records of ${checkedName('profile', profile)}/${checkedName('table', table)}`;
      const cutoff = new Date(failedBefore);
      if (Number.isNaN(cutoff.getTime()))
        throw new ExportError('config', `"${failedBefore}" is not a time`, { where: 'failedBefore' });
      try {
        await container.ready();
        let resolved = 0;
        for await (const hour of hourFoldersNewestFirst(container.client, FAILED_RECORDS_ROOT)) {
          if ((hourFolderStart(hour)?.getTime() ?? Infinity) >= cutoff.getTime()) continue;
          const names = await blobNames(container.client, `${hour}${profile}/${table}/`);
          const before = names.filter((name) => {
            const summary = parseKey(name);
            return summary !== undefined && new Date(summary.failedAt) < cutoff;
          });
          resolved += await deleteBlobs(container.client, before);
        }
        return resolved;
      } catch (error) {
        throw storageFailure(error, 'Resolving failed records', where);
      }
    },

    async countByTable(profile) {
      const where = `failed records of ${checkedName('profile', profile)}`;
      const counts: Record<string, number> = {};
      try {
        await container.ready();
        for await (const hour of hourFoldersNewestFirst(container.client, FAILED_RECORDS_ROOT)) {
          for (const name of await blobNames(container.client, `${hour}${profile}/`)) {
            const summary = parseKey(name);
            if (summary) counts[summary.table] = (counts[summary.table] ?? 0) + 1;
          }
        }
      } catch (error) {
        throw storageFailure(error, 'Counting failed records', where);
      }
      return counts;
    },
  };
}
