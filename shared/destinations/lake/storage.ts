/**
 * Blob operations of the lake with Azure errors turned into ExportErrors. Writes use the Blob API, which
 * also serves HNS (ADLS Gen2) accounts and Azurite, which has no dfs endpoint.
 */
import type { AppendBlobClient, BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import { ExportError } from '../../errors';
import { isMissingItem, storageErrorClass, storageStatus } from '../../storage/errors';

/** Bytes of one Append Block on every service version Azurite and Azure accept. */
export const MAX_APPEND_BYTES = 4 * 1024 * 1024;

export function storageError(error: unknown, where: string): ExportError {
  if (error instanceof ExportError) return error;
  const { statusCode: status, code } = storageStatus(error);
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  const errorClass = storageErrorClass(error);
  if (errorClass === 'config') {
    return new ExportError('config', `The lake storage refused access (${status}) at ${where}.`, {
      cause: error,
      where,
      fix: 'Grant the app "Storage Blob Data Contributor" on the lake account, or check the connection string.',
    });
  }
  if (status === 404 && code === 'ContainerNotFound') {
    return new ExportError('config', `The lake container does not exist (${where}).`, {
      cause: error,
      where,
      fix: 'Activate the profile, which creates the container.',
    });
  }
  if (status === 412 || status === 409) {
    return new ExportError('transient', `Another writer changed ${where} at the same time; retry the batch.`, {
      cause: error,
      where,
    });
  }
  if (errorClass === 'throttled') {
    return new ExportError('throttled', `The lake storage is busy (${status}) at ${where}.`, {
      cause: error,
      where,
      retryAfterMs: 5_000,
    });
  }
  return new ExportError('transient', `Lake storage failed at ${where}: ${message}`, { cause: error, where });
}

export async function guarded<T>(where: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw storageError(error, where);
  }
}

/** Listings and downloads spell the same ETag with and without quotes. */
export const sameEtag = (a: string | null | undefined, b: string | null | undefined): boolean =>
  a !== null && a !== undefined && b !== null && b !== undefined && a.replace(/"/g, '') === b.replace(/"/g, '');

/** The blob's ETag, or null when it does not exist. */
export async function etagOf(container: ContainerClient, path: string): Promise<string | null> {
  return guarded(path, async () => {
    try {
      return (await container.getBlobClient(path).getProperties()).etag ?? null;
    } catch (error) {
      if (isMissingItem(error)) return null;
      throw error;
    }
  });
}

export interface TextBlob {
  text: string;
  etag: string;
}

export async function readText(container: ContainerClient, path: string): Promise<TextBlob | undefined> {
  return guarded(path, async () => {
    try {
      const response = await container.getBlobClient(path).download();
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody ?? [])
        chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
      return { text: Buffer.concat(chunks).toString('utf8'), etag: response.etag ?? '' };
    } catch (error) {
      if (isMissingItem(error)) return undefined;
      throw error;
    }
  });
}

/**
 * Writes a whole blob in one Put Blob, so readers see the old or the new content, never a mix. `etag`:
 * only if unchanged since read; `null`: only if it does not exist yet.
 */
export async function writeText(
  container: ContainerClient,
  path: string,
  text: string,
  etag?: string | null,
): Promise<string> {
  const blob: BlockBlobClient = container.getBlockBlobClient(path);
  const body = Buffer.from(text, 'utf8');
  const conditions = etag === undefined ? undefined : etag === null ? { ifNoneMatch: '*' } : { ifMatch: etag };
  const response = await guarded(path, () =>
    blob.upload(body, body.length, { conditions, blobHTTPHeaders: { blobContentType: contentType(path) } }),
  );
  return response.etag ?? '';
}

const contentType = (path: string): string =>
  path.endsWith('.json') ? 'application/json' : path.endsWith('.csv') ? 'text/csv' : 'text/plain';

/** Most blocks an append blob takes; the next records go to an overflow file (`<partition>_001.csv`). */
export const MAX_APPEND_BLOCKS = 50_000;

/**
 * Appends the blocks in order and returns the blob's committed block count. Each Append Block call is atomic
 * and holds whole records, so a reader of the live file (or DV2SQL copying its byte tail) never sees part of
 * one. `create`: make the blob if missing.
 */
export async function appendToBlob(
  container: ContainerClient,
  path: string,
  blocks: Buffer[],
  create: boolean,
): Promise<number> {
  const blob: AppendBlobClient = container.getAppendBlobClient(path);
  return guarded(path, async () => {
    if (create) await blob.createIfNotExists({ blobHTTPHeaders: { blobContentType: 'text/csv' } });
    let committed = 0;
    for (const block of blocks)
      committed = (await blob.appendBlock(block, block.length)).blobCommittedBlockCount ?? committed + 1;
    return committed;
  });
}

/** Blocks already committed to an append blob; 0 when it does not exist. */
export async function committedBlocks(container: ContainerClient, path: string): Promise<number> {
  return guarded(path, async () => {
    try {
      return (await container.getBlobClient(path).getProperties()).blobCommittedBlockCount ?? 0;
    } catch (error) {
      if (isMissingItem(error)) return 0;
      throw error;
    }
  });
}

/** Paths of the CSV files directly in a folder (not in its subfolders). */
export async function listCsv(
  container: ContainerClient,
  folder: string,
): Promise<Array<{ path: string; etag: string }>> {
  return guarded(folder, async () => {
    const found: Array<{ path: string; etag: string }> = [];
    for await (const item of container.listBlobsByHierarchy('/', { prefix: `${folder}/` })) {
      if (item.kind === 'blob' && item.name.endsWith('.csv'))
        found.push({ path: item.name, etag: item.properties.etag ?? '' });
    }
    return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  });
}
