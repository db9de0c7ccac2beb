/**
 * The SQL side of a full resync (see ResyncSweep in ../destination.ts): the ids the resync copied are kept in the
 * profile's `ResyncSeen` table; the sweep deletes the others through the ordinary apply, tombstoned at the resync's
 * watermark.
 */
import type { TableMetadata } from '../../dataverse/metadata';
import { prefixed } from '../../schema/identifiers';
import type { ApplyBatch, ApplyResult, ResyncSweep } from '../destination';
import { tableRef, type SqlContext } from './context';

/** Ids per round of the resync sweep: one select and one delete batch each. */
const SWEEP_CHUNK = 1000;

export function createResyncSweep(
  context: SqlContext,
  applyBatch: (table: TableMetadata, batch: ApplyBatch) => Promise<ApplyResult>,
): ResyncSweep {
  const { connection, dialect, resyncSeen } = context;
  const seenRef = tableRef(context, resyncSeen.name);
  const forget = async (logicalName: string): Promise<void> => {
    await connection.query(dialect.deleteMetadataRows(seenRef), [JSON.stringify([logicalName])]);
  };
  const markSeen = async (logicalName: string, ids: readonly string[]): Promise<void> => {
    if (ids.length === 0) return;
    const rows = ids.map((id) => ({ EntityName: logicalName, RecordId: id.toLowerCase() }));
    await connection.query(dialect.insertRows(seenRef, resyncSeen.columns), [JSON.stringify(rows)]);
  };
  return {
    start: forget,
    markSeen,
    async sweep(table, watermark) {
      const targetRef = tableRef(context, prefixed(context.prefix, table.logicalName));
      let deleted = 0;
      for (;;) {
        const { rows } = await connection.query(dialect.selectUnseen(targetRef, seenRef), [
          table.logicalName,
          SWEEP_CHUNK,
        ]);
        const ids = rows.map((row) => String(row.Id).toLowerCase());
        if (ids.length === 0) break;
        const result = await applyBatch(table, {
          upserts: [],
          deletes: ids.map((id) => ({ id, versionNumber: watermark })),
        });
        deleted += result.deleted;
        // Marked seen once judged, so the loop moves on past rows newer than the watermark (changed after the
        // resync began), which survive their delete, and a repeated sweep finds nothing left to judge.
        await markSeen(table.logicalName, ids);
      }
      return deleted;
    },
    finish: forget,
  };
}
