/**
 * Named JSON documents (export profiles) as blobs `<folder>/<name>.json` in the state container, validated by
 * a zod schema on the way in and out, with ETag concurrency so two admins editing one profile cannot silently
 * overwrite each other. Documents hold secret references, never secrets; bodies are never put in errors or logs.
 */
import { text as streamText } from 'node:stream/consumers';
import pLimit from 'p-limit';
import { z } from 'zod';
import { ExportError } from '../errors';
import type { StorageClients } from '../storage/clients';
import { jsonText } from './json-text';
import { KEY_NAME_PATTERN, checkedName } from './names';
import { stateContainer } from './state-container';
import { WriteConflict, storageFailure, storageStatus } from '../storage/errors';
import type { Versioned } from './versioned';

/** Like HTTP: replace only the version that was read, or create only if the name is free. */
export type PutCondition = { ifMatch: string } | { ifNoneMatch: '*' };

export interface DocumentStore<T> {
  get(name: string): Promise<Versioned<T> | undefined>;
  list(): Promise<Array<{ name: string } & Versioned<T>>>;
  /** Creates or replaces; with a condition that does not hold, a WriteConflict. */
  put(name: string, value: T, condition?: PutCondition): Promise<Versioned<T>>;
  /** Whether it existed; with an ifMatch that does not hold, a WriteConflict. */
  delete(name: string, options?: { ifMatch?: string }): Promise<boolean>;
}

export interface DocumentStoreOptions<T> {
  /** Folder in the state container, e.g. `profiles`. */
  folder: string;
  /** What a document is, for messages: e.g. `export profile`. */
  kind: string;
  schema: z.ZodType<T>;
}

const READ_CONCURRENCY = 8;

export function createBlobDocumentStore<T>(
  clients: StorageClients,
  { folder, kind, schema }: DocumentStoreOptions<T>,
): DocumentStore<T> {
  const container = stateContainer(clients);
  const blobName = (name: string) => `${folder}/${checkedName('document', name)}.json`;
  const stored = jsonText.pipe(schema);
  const documentName = new RegExp(`^(${KEY_NAME_PATTERN})\\.json$`);

  async function get(name: string): Promise<Versioned<T> | undefined> {
    const where = `${kind} ${name}`;
    let text: string;
    let etag: string | undefined;
    try {
      await container.ready();
      const response = await container.client.getBlockBlobClient(blobName(name)).download();
      etag = response.etag;
      text = response.readableStreamBody ? await streamText(response.readableStreamBody) : '';
    } catch (error) {
      if (storageStatus(error).statusCode === 404) return undefined;
      throw storageFailure(error, `Reading the ${kind}`, where);
    }
    const parsed = stored.safeParse(text);
    if (!parsed.success) {
      throw new ExportError('schema', `The stored ${kind} is not valid: ${z.prettifyError(parsed.error)}`, {
        where,
        fix: `Put the ${kind} again with valid content.`,
      });
    }
    if (etag === undefined)
      throw new ExportError('transient', 'Blob storage answered a read without an ETag', { where });
    return { value: parsed.data, etag };
  }

  return {
    get,

    async list() {
      const names: string[] = [];
      try {
        await container.ready();
        for await (const blob of container.client.listBlobsFlat({ prefix: `${folder}/` })) {
          const name = documentName.exec(blob.name.slice(folder.length + 1))?.[1];
          if (name !== undefined) names.push(name);
        }
      } catch (error) {
        throw storageFailure(error, `Listing ${kind}s`, folder);
      }
      const limit = pLimit(READ_CONCURRENCY);
      const documents = await Promise.all(names.map((name) => limit(async () => ({ name, found: await get(name) }))));
      // A document deleted between the listing and the read is simply gone.
      return documents.flatMap(({ name, found }) => (found ? [{ name, ...found }] : []));
    },

    async put(name, value, condition) {
      const where = `${kind} ${name}`;
      const blob = container.client.getBlockBlobClient(blobName(name));
      const parsed = schema.safeParse(value);
      if (!parsed.success)
        throw new ExportError('config', `The ${kind} is not valid: ${z.prettifyError(parsed.error)}`, { where });
      const body = JSON.stringify(parsed.data, null, 2);
      try {
        await container.ready();
        const response = await blob.upload(body, Buffer.byteLength(body), {
          blobHTTPHeaders: { blobContentType: 'application/json' },
          conditions: condition,
        });
        if (response.etag === undefined)
          throw new ExportError('transient', 'Blob storage answered a write without an ETag', { where });
        return { value: parsed.data, etag: response.etag };
      } catch (error) {
        if (condition && [404, 409, 412].includes(storageStatus(error).statusCode ?? 0))
          throw new WriteConflict(`Saving the ${kind}`, where);
        throw storageFailure(error, `Saving the ${kind}`, where);
      }
    },

    async delete(name, { ifMatch } = {}) {
      const where = `${kind} ${name}`;
      const blob = container.client.getBlockBlobClient(blobName(name));
      try {
        await container.ready();
        return (await blob.deleteIfExists({ conditions: ifMatch === undefined ? undefined : { ifMatch } })).succeeded;
      } catch (error) {
        if (storageStatus(error).statusCode === 412) throw new WriteConflict(`Deleting the ${kind}`, where);
        throw storageFailure(error, `Deleting the ${kind}`, where);
      }
    },
  };
}
