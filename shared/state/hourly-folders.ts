/**
 * The DES-like blob layout `<root>/YYYY/MM/DD/HH/...` (UTC) shared by failed records and unprocessable
 * messages: the date comes first so retention removes whole hours, and walking the folders newest first gives
 * newest-first listings without reading everything.
 */
import type { ContainerClient } from '@azure/storage-blob';
import pLimit from 'p-limit';

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** The hour folder (with a trailing /) that holds something that happened at `at`. */
export const hourFolder = (root: string, at: Date): string =>
  `${root}/${at.getUTCFullYear()}/${pad(at.getUTCMonth() + 1)}/${pad(at.getUTCDate())}/${pad(at.getUTCHours())}/`;

const HOUR_FOLDER = /^[^/]+\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/$/;

/** When the hour a folder holds began; undefined for a folder that does not follow the layout. */
export function hourFolderStart(folder: string): Date | undefined {
  const match = HOUR_FOLDER.exec(folder);
  if (!match) return undefined;
  const [, year, month, day, hour] = match.map(Number) as [number, number, number, number, number];
  return new Date(Date.UTC(year, month - 1, day, hour));
}

async function childFolders(container: ContainerClient, prefix: string): Promise<string[]> {
  const folders: string[] = [];
  for await (const item of container.listBlobsByHierarchy('/', { prefix })) {
    if (item.kind === 'prefix') folders.push(item.name);
  }
  // Fixed-width numeric segments: text order is time order.
  return folders.sort().reverse();
}

/** Every hour folder under `root`, newest first, listed one level at a time as it is consumed. */
export async function* hourFoldersNewestFirst(container: ContainerClient, root: string): AsyncGenerator<string> {
  async function* walk(prefix: string, levelsLeft: number): AsyncGenerator<string> {
    for (const child of await childFolders(container, prefix)) {
      if (levelsLeft === 1) yield child;
      else yield* walk(child, levelsLeft - 1);
    }
  }
  yield* walk(`${root}/`, 4);
}

export async function blobNames(container: ContainerClient, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat({ prefix })) names.push(blob.name);
  return names;
}

const DELETE_CONCURRENCY = 16;

/** Deletes the named blobs; returns how many existed. */
export async function deleteBlobs(container: ContainerClient, names: string[]): Promise<number> {
  const limit = pLimit(DELETE_CONCURRENCY);
  const results = await Promise.all(names.map((name) => limit(() => container.getBlobClient(name).deleteIfExists())));
  return results.filter((result) => result.succeeded).length;
}
