/**
 * The lake read back the way the real readers do (docs/reference/lake-format.md §5):
 * - DataverseToSql: `Microsoft.Athena.TrickleFeedService/*-model.json`, Completed entities only,
 *   `<table>/<partition name>.csv`, latest per Id by versionnumber then SinkModifiedOn, IsDelete dropped;
 * - CDMUtil: root model.json, one `*.csv` glob per entity from the first partition's folder;
 * - incremental readers (ARC/ARAS/FT): only folders older than `Changelog/changelog.info`, each with its own model.json.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { parseCsv } from './lake-checks';

export type LakeRow = Record<string, string | null>;

interface Entity {
  name: string;
  annotations: Array<{ name: string; value: string }>;
  attributes: Array<{ name: string; dataType: string }>;
  partitions: Array<{ name: string; location: string }>;
}

interface Model {
  entities: Entity[];
}

/**
 * One GET, so the text is one version of the blob: `downloadToBuffer` reads the size first and then ranges, and a
 * model.json rewritten in between came back cut short (as a reader of the lake must never see it).
 */
export async function readBlob(container: ContainerClient, path: string): Promise<string | undefined> {
  const blob = container.getBlobClient(path);
  if (!(await blob.exists())) return undefined;
  const body = (await blob.download()).readableStreamBody;
  if (!body) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

async function readModel(container: ContainerClient, path: string): Promise<Model> {
  const text = await readBlob(container, path);
  if (text === undefined) throw new Error(`${path} is missing`);
  return JSON.parse(text) as Model;
}

export function rowsOf(text: string, attributes: Entity['attributes']): LakeRow[] {
  return parseCsv(text).map((record) => {
    const row: LakeRow = {};
    attributes.forEach((attribute, index) => {
      const value = record[index]?.value;
      row[attribute.name] = value === undefined || value === '' ? null : value;
    });
    return row;
  });
}

const sinkTime = (text: string | null | undefined): number => {
  const match = /^(\d+)\/(\d+)\/(\d+) (\d+):(\d+):(\d+) (AM|PM)$/.exec(text ?? '');
  if (!match) return 0;
  const [, month, day, year, hour, minute, second, half] = match.map((part) =>
    /^\d+$/.test(part) ? Number(part) : part,
  );
  return Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    (Number(hour) % 12) + (half === 'PM' ? 12 : 0),
    Number(minute),
    Number(second),
  );
};

/** DV2SQL's dedupe: latest per Id by versionnumber, then SinkModifiedOn; deleted rows dropped. */
export function latestRows(rows: LakeRow[]): Map<string, LakeRow> {
  const latest = new Map<string, LakeRow>();
  for (const row of rows) {
    const id = row.Id?.toLowerCase();
    if (!id) continue;
    const current = latest.get(id);
    const newer =
      !current ||
      Number(row.versionnumber) > Number(current.versionnumber) ||
      (Number(row.versionnumber) === Number(current.versionnumber) &&
        sinkTime(row.SinkModifiedOn) >= sinkTime(current.SinkModifiedOn));
    if (newer) latest.set(id, row);
  }
  for (const [id, row] of latest) if (row.IsDelete === 'True') latest.delete(id);
  return latest;
}

export async function readLikeDataverseToSql(container: ContainerClient): Promise<Map<string, Map<string, LakeRow>>> {
  const tables = new Map<string, Map<string, LakeRow>>();
  for await (const item of container.listBlobsFlat({ prefix: 'Microsoft.Athena.TrickleFeedService/' })) {
    if (!item.name.endsWith('-model.json')) continue;
    for (const entity of (await readModel(container, item.name)).entities) {
      if (entity.annotations.find((annotation) => annotation.name === 'Athena:InitialSyncState')?.value !== 'Completed')
        continue;
      const rows: LakeRow[] = [];
      for (const partition of entity.partitions) {
        rows.push(
          ...rowsOf((await readBlob(container, `${entity.name}/${partition.name}.csv`)) ?? '', entity.attributes),
        );
      }
      tables.set(entity.name, latestRows(rows));
    }
  }
  return tables;
}

/** Container path of an absolute partition location, as the CDM ADLS adapter resolves it. */
export function pathOfLocation(location: string, containerRoot: string): string {
  const normalised = location.replace('.blob.', '.dfs.').replace(':443/', '/');
  if (!normalised.startsWith(`${containerRoot}/`)) throw new Error(`${location} is outside ${containerRoot}`);
  return decodeURIComponent(normalised.slice(containerRoot.length + 1));
}

/** Every row CDMUtil's per-entity view would return (no dedupe: it is a plain OPENROWSET over the glob). */
export async function readLikeCdmUtil(
  container: ContainerClient,
  containerRoot: string,
): Promise<Map<string, { files: string[]; rows: LakeRow[] }>> {
  const tables = new Map<string, { files: string[]; rows: LakeRow[] }>();
  for (const entity of (await readModel(container, 'model.json')).entities) {
    const first = entity.partitions[0];
    if (!first) {
      tables.set(entity.name, { files: [], rows: [] });
      continue;
    }
    const path = pathOfLocation(first.location, containerRoot);
    const folder = path.slice(0, path.lastIndexOf('/') + 1);
    const files: string[] = [];
    const rows: LakeRow[] = [];
    for await (const item of container.listBlobsByHierarchy('/', { prefix: folder })) {
      if (item.kind !== 'blob' || !item.name.endsWith('.csv')) continue;
      files.push(item.name);
      rows.push(...rowsOf((await readBlob(container, item.name)) ?? '', entity.attributes));
    }
    tables.set(entity.name, { files, rows });
  }
  return tables;
}

const FOLDER = /^\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}Z$/;

/** Folders older than changelog.info, oldest first, each read with its own model.json; then the latest per Id. */
export async function readIncrementalFolders(
  container: ContainerClient,
): Promise<{ folders: string[]; tables: Map<string, Map<string, LakeRow>> }> {
  const current = (await readBlob(container, 'Changelog/changelog.info')) ?? '';
  const folders: string[] = [];
  for await (const item of container.listBlobsByHierarchy('/')) {
    const name = item.name.replace(/\/$/, '');
    if (item.kind === 'prefix' && FOLDER.test(name) && name < current) folders.push(name);
  }
  folders.sort();
  const rows = new Map<string, LakeRow[]>();
  for (const folder of folders) {
    for (const entity of (await readModel(container, `${folder}/model.json`)).entities) {
      for (const partition of entity.partitions) {
        const text = (await readBlob(container, `${folder}/${entity.name}/${partition.name}.csv`)) ?? '';
        rows.set(entity.name, [...(rows.get(entity.name) ?? []), ...rowsOf(text, entity.attributes)]);
      }
    }
  }
  return { folders, tables: new Map([...rows].map(([table, tableRows]) => [table, latestRows(tableRows)])) };
}
