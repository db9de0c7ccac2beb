/** An in-place table as last read (partition rows, tombstones), cached per table and read again only where an etag moved. */
import { parsePartition } from './csv';
import { partitionOfPath, tableStatePath } from './paths';
import type { InPlaceTable, LakeState, Layout, LivePartition, LiveRow } from './state';
import { etagOf, listCsv, readText, sameEtag } from './storage';
import { readTableState } from './table-state';

async function loadPartition(
  state: Pick<LakeState, 'container'>,
  path: string,
  layout: Layout,
): Promise<LivePartition> {
  const blob = await readText(state.container, path);
  const rows = new Map<string, LiveRow>();
  if (!blob) return { etag: null, rows };
  const parsed = parsePartition(blob.text, path);
  for (const { record, raw } of parsed) {
    const id = record[0] ?? '';
    rows.set(id, {
      version: Number(record[layout.versionIndex] ?? 0),
      sinkCreatedOn: record[1] || null,
      raw: raw.endsWith('\n') ? raw : `${raw}\n`,
    });
  }
  return { etag: blob.etag, rows };
}

export async function inPlaceTable(
  state: Pick<LakeState, 'container' | 'inPlaceTables'>,
  name: string,
  layout: Layout,
): Promise<InPlaceTable> {
  let cached = state.inPlaceTables.get(name);
  // Another writer's tombstones or rows show as a different etag; only what changed is read again.
  if (cached && !sameEtag(cached.stateEtag, await etagOf(state.container, tableStatePath(name)))) cached = undefined;
  if (!cached) {
    const { state: tableState, etag } = await readTableState(state.container, name);
    cached = { partitions: new Map(), state: tableState, stateEtag: etag };
    state.inPlaceTables.set(name, cached);
  }
  for (const file of await listCsv(state.container, name)) {
    const partition = partitionOfPath(file.path);
    if (!sameEtag(cached.partitions.get(partition)?.etag, file.etag))
      cached.partitions.set(partition, await loadPartition(state, file.path, layout));
  }
  return cached;
}
