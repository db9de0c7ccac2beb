/**
 * The lake's part in a full resync (`ResyncSweep`): rows deleted in Dataverse while a table's change token was
 * expired never arrive as deletes, so the resync remembers which ids it copied and, at its end, the sweep deletes
 * the table's live ids it did not copy. Seen ids are kept as one text blob per page under the product's state
 * folder, named by the page's first id, so a repeated page overwrites its own blob.
 */
import type { ContainerClient } from '@azure/storage-blob';
import pLimit from 'p-limit';
import type { TableMetadata } from '../../dataverse/metadata';
import { IS_DELETE } from './columns';
import { parsePartition } from './csv';
import { timeFolders } from './folders';
import { inPlaceTable } from './in-place-table';
import { resyncSeenFolder } from './paths';
import type { LakeState, Layout } from './state';
import { guarded, listCsv, readText, writeText } from './storage';

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
function foldRecords(
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

/** A table's live ids with their versions as readers see them: the in-place partitions, or the newest record per Id across its files. */
async function liveIds(
  state: Pick<LakeState, 'container' | 'containerName' | 'target' | 'inPlaceTables'>,
  table: TableMetadata,
  layout: Layout,
): Promise<Array<[string, number]>> {
  if (layout.inPlace) {
    const live = await inPlaceTable(state, table.logicalName, layout);
    return [...live.partitions.values()].flatMap((partition) =>
      [...partition.rows].map(([id, row]): [string, number] => [id, row.version]),
    );
  }
  const folders =
    state.target.mode === 'incremental'
      ? (await timeFolders(state)).map((folder) => `${folder}/${table.logicalName}`)
      : [table.logicalName];
  const fields = {
    version: layout.versionIndex,
    isDelete: layout.columns.findIndex((column) => column.name === IS_DELETE),
  };
  const newest = new Map<string, { version: number; deleted: boolean }>();
  for (const folder of folders) {
    for (const file of await listCsv(state.container, folder))
      foldRecords((await readText(state.container, file.path))?.text ?? '', file.path, fields, newest);
  }
  return [...newest].filter(([, record]) => !record.deleted).map(([id, record]) => [id, record.version]);
}

/**
 * The live ids the resync did not copy, at or below `watermark` (a newer row was written by a change after the
 * resync began). Reads every record of the table once, holding one entry per id in memory; writes nothing.
 */
export async function unseenIds(
  state: Pick<LakeState, 'container' | 'containerName' | 'target' | 'inPlaceTables'>,
  seenIds: SeenIds,
  table: TableMetadata,
  layout: Layout,
  watermark: number,
): Promise<string[]> {
  const seen = await seenIds.read(table.logicalName);
  return (await liveIds(state, table, layout))
    .filter(([id, version]) => version <= watermark && !seen.has(id))
    .map(([id]) => id);
}
