/**
 * Names in the container (docs/reference/lake-format.md §1): partition file names from `createdon`, incremental folder
 * names, snapshot folders, and the absolute `https://<account>.dfs.core.windows.net/<container>/…`
 * locations model.json needs.
 */
import type { SqlValue } from '../../schema/row-values';
import type { PartitionGranularity } from './model-json';
import { isPlainWebApiTime } from './web-api-time';

/** Synapse Link's name for the single partition of a table without `createdon` (DV2SQL reads `1` as "not partitioned"). */
export const UNPARTITIONED = '1';
/** F&O rows without a date go to 1900 (docs/reference/lake-format.md §1a). */
const UNDATED_YEAR = 1900;

const pad = (value: number): string => String(value).padStart(2, '0');

export function partitionName(createdOn: SqlValue | undefined, granularity: PartitionGranularity | 'none'): string {
  if (granularity === 'none') return UNPARTITIONED;
  // Most createdon values are read as written: take year and month from the text rather than parsing a Date per row.
  if (typeof createdOn === 'string' && isPlainWebApiTime(createdOn)) {
    const year = String(Number(createdOn.slice(0, 4)));
    return granularity === 'Year' ? year : `${year}-${createdOn.slice(5, 7)}`;
  }
  const time = typeof createdOn === 'string' ? new Date(createdOn) : undefined;
  const valid = time !== undefined && !Number.isNaN(time.getTime());
  const year = valid ? time.getUTCFullYear() : UNDATED_YEAR;
  if (granularity === 'Year') return String(year);
  return `${year}-${pad(valid ? time.getUTCMonth() + 1 : 1)}`;
}

/** `yyyy-MM-ddTHH.mm.ssZ`: the form the incremental readers parse (docs/reference/lake-format.md §1b), also used for snapshot folders. */
export function timeFolderName(time: Date): string {
  return `${time.toISOString().slice(0, 19).replace(/:/g, '.')}Z`;
}

const TIME_FOLDER = /^(\d{4}-\d{2}-\d{2})T(\d{2})\.(\d{2})\.(\d{2})Z$/;

export function parseTimeFolderName(name: string): Date | undefined {
  const match = TIME_FOLDER.exec(name);
  return match ? new Date(`${match[1]}T${match[2]}:${match[3]}:${match[4]}Z`) : undefined;
}

/**
 * The dfs root of the container. Azure URLs map `.blob.` → `.dfs.` (any cloud suffix); a path-style URL
 * (Azurite, `http://127.0.0.1:10000/devstoreaccount1/…`) maps to the account's public dfs name, which is
 * what the CDM ADLS adapter resolves back to this container.
 */
export function dfsRoot(containerUrl: string, accountName: string, containerName: string): string {
  const host = new URL(containerUrl).hostname;
  const azureHost = /^[a-z0-9]+\.blob\.(.+)$/.exec(host);
  return `https://${azureHost ? `${accountName}.dfs.${azureHost[1]}` : `${accountName}.dfs.core.windows.net`}/${containerName}`;
}

export const livePartitionPath = (table: string, partition: string): string => `${table}/${partition}.csv`;
export const snapshotPartitionPath = (table: string, stamp: string, partition: string): string =>
  `${table}/Snapshot/${stamp}/${partition}.csv`;
export const tableModelPath = (table: string): string => `Microsoft.Athena.TrickleFeedService/${table}-model.json`;
export const ROOT_MODEL = 'model.json';
export const CHANGELOG = 'Changelog/changelog.info';
export const OPTIONSET_FOLDER = 'OptionsetMetadata';
/** Bookkeeping of this product (tombstones, snapshot state); no reader looks for CSV or model.json here. */
export const tableStatePath = (table: string): string => `dataverse-export-state/${table}.json`;
/** The blob whose lease makes one instance at a time the writer of an in-place table (`table-lock.ts`). */
export const tableLockPath = (table: string): string => `dataverse-export-state/locks/${table}`;
/** The ids a running full resync of a table has copied, one blob per page (`resync.ts`). */
export const resyncSeenFolder = (table: string): string => `dataverse-export-state/resync/${table}/`;

/** The partition name of a CSV path (`…/<name>.csv`). */
export const partitionOfPath = (path: string): string => path.slice(path.lastIndexOf('/') + 1, -'.csv'.length);
