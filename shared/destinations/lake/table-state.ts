/**
 * A table's state blob (`dataverse-export-state/<table>.json`): the newest delete version per Id, which makes later
 * stale upserts lose, the version floor of its last resync, and (in-place) where its last snapshot came from.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';
import { ExportError } from '../../errors';
import { tableStatePath } from './paths';
import { readText } from './storage';

const tableStateSchema = z.strictObject({
  /** Newest delete version per Id: upserts at or below it are stale. */
  tombstones: z.record(z.string(), z.number()),
  /**
   * The watermark of the table's last full resync, set by its sweep: an id the resync neither copied nor deleted did
   * not exist then, so an upsert at or below it that creates the row is stale (a row deleted while its upsert waited).
   */
  floor: z.number().optional(),
  snapshot: z
    .strictObject({ at: z.iso.datetime(), folder: z.string(), sources: z.record(z.string(), z.string()) })
    .optional(),
});
export type TableState = z.infer<typeof tableStateSchema>;

function parseTableState(text: string, path: string): TableState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = tableStateSchema.safeParse(json);
  if (!parsed.success) {
    throw new ExportError('schema', `${path} is not the export's table state.`, {
      where: path,
      fix: 'Resync the table: delete its folder, its state blob and its entity in model.json, then activate the profile.',
    });
  }
  return parsed.data;
}

/** The table's state and its etag (null, with no tombstones, while the blob does not exist). */
export async function readTableState(
  container: ContainerClient,
  table: string,
): Promise<{ state: TableState; etag: string | null }> {
  const blob = await readText(container, tableStatePath(table));
  return {
    state: blob ? parseTableState(blob.text, tableStatePath(table)) : { tombstones: {} },
    etag: blob?.etag ?? null,
  };
}
