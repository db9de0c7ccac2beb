/**
 * The initial sync's unit of work: copy one page of one table and move its checkpoint on. A crash between
 * the write and the checkpoint repeats the page, which the version-guarded apply makes harmless; a
 * concurrent copy of the same page loses the ETag race and is retried from the fresh checkpoint.
 */
import { webApiSelect } from '../../dataverse/properties';
import { ExportError } from '../../errors';
import type { PageCopied } from './initial-sync-plan';
import { snapshotTable } from '../admin/snapshot';
import { applyCopiedRows } from './apply-copied-rows';
import { completeInitialLoad } from './copy-unit';
import { partitionedStep, type PartitionedCopyServices } from './partitioned-copy';

/**
 * A copied page with what it cost: the initial sync's throughput is made of reading pages from Dataverse
 * and applying them, and these say which of the two a slow sync waits on.
 */
export interface PageCopyReport extends PageCopied {
  /** Rows in this page. */
  pageRows: number;
  readMs: number;
  /** Writing the page to the destination (the apply stage). */
  applyMs: number;
}

export type CopyPageServices = PartitionedCopyServices;

/** A table taken out of an active profile (admin/manage-tables.ts) is not copied further: its copy ends here. */
async function removedFromProfile(services: CopyPageServices, profile: string, table: string): Promise<boolean> {
  const activation = await services.activations.get(profile);
  return activation !== undefined && !activation.value.tables.includes(table);
}

const millisecondsSince = (started: number): number => Math.round(performance.now() - started);

export async function copyPage(
  services: CopyPageServices,
  profileName: string,
  tableName: string,
): Promise<PageCopyReport> {
  const checkpoint = await services.checkpoints.read(profileName, tableName);
  if (!checkpoint) {
    throw new ExportError('config', `No checkpoint for ${profileName}/${tableName}: the profile was not activated`, {
      where: `${profileName}/${tableName}`,
    });
  }
  const current = checkpoint.value;
  if (current.phase === 'delta' || (await removedFromProfile(services, profileName, tableName)))
    return {
      table: tableName,
      rowsCopied: current.rowsCopied,
      pages: current.pages,
      done: true,
      pageRows: 0,
      readMs: 0,
      applyMs: 0,
    };

  // A load begun page by page before partitioned reads were turned on (it has a nextLink) ends page by page.
  if (services.options.readStreams > 1 && current.nextLink === undefined)
    return {
      ...(await partitionedStep(services, profileName, tableName, checkpoint)),
      pageRows: 0,
      readMs: 0,
      applyMs: 0,
    };

  const table = await snapshotTable(services, profileName, tableName);
  const { source, destination } = await services.runtimes.get(profileName);
  const link = current.nextLink ?? source.initialLoadLink(table, webApiSelect(table));
  const started = performance.now();
  let pageRows = 0;
  let applyMs = 0;
  const target = {
    destination,
    table,
    profile: profileName,
    tableName,
    batchId: `initial-${current.pages + 1}`,
    resync: current.phase === 'resync',
  };
  // Rows reach the destination in chunks while the page arrives; the checkpoint below moves only after the last.
  const page = await source.readPageInChunks(
    table,
    link,
    { pageSize: services.options.pageSize, annotations: true },
    async (changes) => {
      const applyStarted = performance.now();
      pageRows += await applyCopiedRows(services, target, changes);
      applyMs += performance.now() - applyStarted;
    },
  );
  const readMs = Math.max(0, millisecondsSince(started) - Math.round(applyMs));
  // One page per activity, so the chain's memory is the checkpoint: a page that links to itself would be copied forever.
  if (page.nextLink !== undefined && page.nextLink === source.http.url(link)) {
    throw new ExportError(
      'schema',
      `Dataverse returned a nextLink for ${tableName} that is the page just read: the pages loop`,
      {
        where: `${tableName} page @odata.nextLink`,
        fix: 'Capture the responses; a proxy or gateway may be rewriting links. Resync the table once it is fixed.',
      },
    );
  }

  const now = services.now().toISOString();
  const rowsCopied = current.rowsCopied + pageRows;
  const pages = current.pages + 1;
  if (page.nextLink) {
    await services.checkpoints.update(
      profileName,
      tableName,
      { ...current, nextLink: page.nextLink, rowsCopied, pages },
      checkpoint.etag,
    );
  } else {
    if (!page.deltaLink)
      throw new ExportError('schema', `The last page of ${tableName} carried no deltaLink`, { where: tableName });
    const end = { deltaLink: page.deltaLink, watermark: page.watermark, rowsCopied, pages, completedAt: now };
    await completeInitialLoad(services, profileName, table, checkpoint, end);
  }
  const done = !page.nextLink;
  await services.status.update(profileName, tableName, {
    phase: done ? 'delta' : current.phase,
    initialRowsCopied: rowsCopied,
    pages,
    lastSuccessfulSyncAt: now,
    // A failure an earlier run of the initial sync recorded (initial-sync-failure.ts) is over once a page copies.
    lastError: null,
    ...(done && destination.countRows ? { rowsInDestination: await destination.countRows(tableName) } : {}),
  });
  return { table: tableName, rowsCopied, pages, done, pageRows, readMs, applyMs: Math.round(applyMs) };
}
