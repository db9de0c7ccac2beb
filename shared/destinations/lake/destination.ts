/**
 * The lake destination of one export profile: Synapse-Link-compatible CSV + model.json in one container,
 * behind the same destination port as the SQL destination. Three modes:
 * - `appendOnly`: every change is a new record in `<table>/<partition>.csv` (append blobs, whole records per
 *   block); deletes are records with `IsDelete=True`; readers keep the latest per `Id` by `versionnumber`.
 * - `inPlace`: partition files hold the latest state (version-guarded, tombstones in a state blob); read-only
 *   snapshots under `<table>/Snapshot/<time>/` are written by `writeSnapshots`, and only then does the root
 *   `model.json` point at them.
 * - `incremental`: append-only records in `<folder>/<table>/<partition>.csv`; `rollover` finishes a folder
 *   (its `model.json` last) and names the next one in `Changelog/changelog.info`.
 * The port's `maintain` runs the timed work (`writeSnapshots`, `rollover`). It must not overlap a batch being
 * applied (a rollover could finish a folder while a batch still appends into it; a snapshot could copy a
 * partition mid-rewrite), so applies share a readers–writer lock that maintenance takes exclusively. The lock is
 * per process: see docs/notes/lake-pipeline.md for what that leaves open across instances.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { Semaphore } from 'async-mutex';
import type { TableMetadata } from '../../dataverse/metadata';
import type { Destination, ResyncSweep } from '../destination';
import { appendRecords } from './append';
import { guardAppendBatch } from './append-guard';
import { completeInitialSync, ensureTables } from './ensure-tables';
import { fillColumns } from './fill-columns';
import { applyInPlace } from './in-place';
import { layoutFor } from './layout';
import { refreshTableModels } from './manifest';
import { createSeenIds, unseenIds } from './resync';
import { createLakeState, serial, type LakeDependencies, type LakeMode, type LakeTarget } from './state';
import { withTableLock } from './table-lock';
import { setVersionFloor } from './version-floor';
import { maintenanceReport, rollover, writeSnapshots, type RolloverResult, type SnapshotResult } from './timed-work';

export type { LakeDependencies, LakeMode, LakeTarget } from './state';
export type { RolloverResult, SnapshotResult } from './timed-work';

/** Batches of one profile applied at once in this process; maintenance waits for all of them to finish. */
const CONCURRENT_APPLIES = 64;
/** Deletes per batch of a resync's sweep. */
const SWEEP_CHUNK = 1000;

export interface LakeDestination extends Required<Omit<Destination, 'countRows' | 'forgetRows'>> {
  readonly mode: LakeMode;
  /**
   * In-place mode: snapshots every table changed since its last snapshot once the interval has passed. Other modes:
   * nothing. Takes no lock: `maintain` is the form that waits for batches being applied.
   */
  writeSnapshots(now: Date): Promise<SnapshotResult>;
  /**
   * Incremental mode: once the current folder is older than the interval and holds data, finishes it and starts
   * the next. Must not run while `applyBatch` runs for the same profile (`maintain` sees to that). Other modes: nothing.
   */
  rollover(now: Date): Promise<RolloverResult>;
  resync: LakeResync;
}

export interface LakeResync extends ResyncSweep {
  /**
   * The live ids the resync did not copy, at or below `watermark` (a newer row was written by a change after the
   * resync began). Reads every record of the table once, holding one entry per id in memory; writes nothing.
   */
  unseenIds(table: TableMetadata, watermark: number): Promise<string[]>;
}

export function createLakeDestination(
  container: ContainerClient,
  target: LakeTarget,
  dependencies: LakeDependencies = {},
): LakeDestination {
  const state = createLakeState(container, target, dependencies);
  const seenIds = createSeenIds(container);
  // Weighted: an apply takes one unit, maintenance all of them. Queued maintenance holds back later applies, so it is not starved.
  const lock = new Semaphore(CONCURRENT_APPLIES);

  const applyBatch: Destination['applyBatch'] = (table, batch) =>
    lock.runExclusive(
      () =>
        serial(state, `table:${table.logicalName}`, async () => {
          const layout = await layoutFor(state, table);
          if (layout.inPlace)
            return withTableLock(container, table.logicalName, (tableLock) =>
              applyInPlace(state, table, layout, batch, tableLock),
            );
          // Deciding and appending is one step across instances (append-guard.ts); model.json after, unlocked.
          const { result, newFiles } = await withTableLock(container, table.logicalName, async (tableLock) => {
            const guarded = await guardAppendBatch(state, table.logicalName, batch, tableLock);
            const appended = await appendRecords(state, table, layout, guarded.batch);
            return { ...appended, result: { ...appended.result, skippedAsStale: guarded.stale } };
          });
          if (newFiles) await refreshTableModels(state, table.logicalName, layout);
          return result;
        }),
      1,
    );

  const fill: Destination['fillColumns'] = (table, columns, rows) =>
    lock.runExclusive(
      () =>
        serial(state, `table:${table.logicalName}`, async () => {
          const layout = await layoutFor(state, table);
          return withTableLock(container, table.logicalName, (tableLock) =>
            fillColumns(state, table, layout, columns, rows, tableLock),
          );
        }),
      1,
    );

  const unseen = async (table: TableMetadata, watermark: number): Promise<string[]> =>
    unseenIds(state, seenIds, table, await layoutFor(state, table), watermark);

  return {
    mode: target.mode,
    ensureTables: (tables, relationships) => ensureTables(state, tables, relationships),
    applyBatch,
    fillColumns: fill,
    completeInitialSync: (logicalNames, at) => completeInitialSync(state, logicalNames, at),
    writeSnapshots: (now) => writeSnapshots(state, now),
    rollover: (now) => rollover(state, now),
    maintain: (now) =>
      lock.runExclusive(
        async () => maintenanceReport(await writeSnapshots(state, now), await rollover(state, now)),
        CONCURRENT_APPLIES,
      ),
    resync: {
      async start(logicalName) {
        await seenIds.clear(logicalName);
        await setVersionFloor(state, logicalName, undefined);
      },
      finish: (logicalName) => seenIds.clear(logicalName),
      markSeen: (logicalName, ids) => seenIds.add(logicalName, ids),
      unseenIds: unseen,
      // Reading takes no lock (it can take minutes for a large table); each chunk of deletes is an apply like any other.
      async sweep(table, watermark) {
        const ids = await unseen(table, watermark);
        let deleted = 0;
        for (let offset = 0; offset < ids.length; offset += SWEEP_CHUNK) {
          const deletes = ids.slice(offset, offset + SWEEP_CHUNK).map((id) => ({ id, versionNumber: watermark }));
          deleted += (await applyBatch(table, { upserts: [], deletes })).deleted;
        }
        await setVersionFloor(state, table.logicalName, watermark);
        return deleted;
      },
    },
    async close() {
      state.layouts.clear();
      state.inPlaceTables.clear();
      state.tableStates.clear();
      state.appendTargets.clear();
    },
  };
}
