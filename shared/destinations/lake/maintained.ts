/**
 * A lake destination behind the destination port, with its timed work (`writeSnapshots`, `rollover`) as the
 * port's `maintain`. Maintenance must not overlap a batch being applied (a rollover could finish a folder
 * while a batch still appends into it; a snapshot could copy a partition mid-rewrite), so applies share a
 * readers–writer lock that maintenance takes exclusively. The lock is per process: see docs/notes/lake-pipeline.md
 * for what that leaves open across instances.
 */
import { Semaphore } from 'async-mutex';
import type { Destination } from '../destination';
import type { LakeDestination } from './destination';

/** Batches of one profile applied at once in this process; maintenance waits for all of them to finish. */
const CONCURRENT_APPLIES = 64;
/** Deletes per batch of a resync's sweep. */
const SWEEP_CHUNK = 1000;

export function withMaintenance(lake: LakeDestination): Destination {
  // Weighted: an apply takes one unit, maintenance all of them. Queued maintenance holds back later applies, so it is not starved.
  const lock = new Semaphore(CONCURRENT_APPLIES);
  const applyBatch: Destination['applyBatch'] = (table, batch) =>
    lock.runExclusive(() => lake.applyBatch(table, batch), 1);
  return {
    ensureTables: (tables, relationships) => lake.ensureTables(tables, relationships),
    applyBatch,
    completeInitialSync: (logicalNames, at) => lake.completeInitialSync(logicalNames, at),
    resync: {
      start: (logicalName) => lake.resync.start(logicalName),
      finish: (logicalName) => lake.resync.finish(logicalName),
      markSeen: (logicalName, ids) => lake.resync.markSeen(logicalName, ids),
      // Reading takes no lock (it can take minutes for a large table); each chunk of deletes is an apply like any other.
      sweep: async (table, watermark) => {
        const unseen = await lake.resync.unseenIds(table, watermark);
        let deleted = 0;
        for (let offset = 0; offset < unseen.length; offset += SWEEP_CHUNK) {
          const deletes = unseen.slice(offset, offset + SWEEP_CHUNK).map((id) => ({ id, versionNumber: watermark }));
          deleted += (await applyBatch(table, { upserts: [], deletes })).deleted;
        }
        return deleted;
      },
    },
    maintain: (now) =>
      lock.runExclusive(async () => {
        const snapshots = await lake.writeSnapshots(now);
        const rollover = await lake.rollover(now);
        return {
          done: [
            ...snapshots.written.map(
              (snapshot) => `snapshot of ${snapshot.table} in ${snapshot.table}/Snapshot/${snapshot.folder}`,
            ),
            ...(rollover.finished ? [`finished folder ${rollover.finished}, now writing ${rollover.current}`] : []),
          ],
        };
      }, CONCURRENT_APPLIES),
    close: () => lake.close(),
  };
}
