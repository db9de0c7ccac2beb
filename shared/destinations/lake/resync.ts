/**
 * The lake's part in a full resync (`ResyncSweep`): rows deleted in Dataverse while a table's change token was
 * expired never arrive as deletes, so the resync remembers which ids it copied and, at its end, the sweep deletes
 * the table's live ids it did not copy. Seen ids are kept as one text blob per page under the product's state
 * folder, named by the page's first id, so a repeated page overwrites its own blob.
 */
import type { ContainerClient } from '@azure/storage-blob';
import pLimit from 'p-limit';
import { parsePartition } from './csv';
import { resyncSeenFolder } from './paths';
import { guarded, readText, writeText } from './storage';

const CONCURRENT_DELETES = 16;

export interface SeenIds {
  /** Forgets what an earlier resync of the table saw. */
  clear(table: string): Promise<void>;
  add(table: string, ids: readonly string[]): Promise<void>;
  read(table: string): Promise<Set<string>>;
}

export function createSeenIds(container: ContainerClient): SeenIds {
  const blobs = async (table: string): Promise<string[]> =>
    guarded(resyncSeenFolder(table), async () => {
      const names: string[] = [];
      for await (const item of container.listBlobsFlat({ prefix: resyncSeenFolder(table) })) names.push(item.name);
      return names;
    });
  return {
    async clear(table) {
      // One blob per page of the last resync: thousands for a large table, so several deletes at a time.
      const limit = pLimit(CONCURRENT_DELETES);
      await Promise.all(
        (await blobs(table)).map((name) =>
          limit(() =>
            guarded(name, () =>
              container
                .getBlobClient(name)
                .deleteIfExists({ deleteSnapshots: 'include' })
                .then(() => undefined),
            ),
          ),
        ),
      );
    },
    async add(table, ids) {
      const [first] = ids;
      if (first === undefined) return;
      await writeText(
        container,
        `${resyncSeenFolder(table)}${first.toLowerCase()}.txt`,
        ids.map((id) => id.toLowerCase()).join('\n'),
      );
    },
    async read(table) {
      const seen = new Set<string>();
      for (const name of await blobs(table)) {
        for (const id of (await readText(container, name))?.text.split('\n') ?? []) if (id) seen.add(id);
      }
      return seen;
    },
  };
}

/** Where a table's records keep the fields the sweep needs. */
export interface RecordFields {
  version: number;
  isDelete: number;
}

/**
 * Folds one CSV file of a table into `newest` (per lower-case Id: its newest version and whether that record is a
 * delete; a delete wins a tie, as its version is the watermark of the token that saw the row go).
 */
export function foldRecords(
  text: string,
  path: string,
  fields: RecordFields,
  newest: Map<string, { version: number; deleted: boolean }>,
): void {
  for (const { record } of parsePartition(text, path)) {
    const id = record[0]?.toLowerCase();
    if (!id) continue;
    const version = Number(record[fields.version]);
    const deleted = record[fields.isDelete] === 'True';
    const current = newest.get(id);
    if (!current || version > current.version || (version === current.version && deleted))
      newest.set(id, { version, deleted });
  }
}
