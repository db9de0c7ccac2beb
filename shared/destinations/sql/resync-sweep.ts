/**
 * The SQL side of a full resync (see ResyncSweep in ../destination.ts): the ids the resync copied are kept in the
 * profile's `ResyncSeen` table; the sweep raises the table's version floor to the resync's watermark
 * (version-floor.ts) and deletes the others through the ordinary apply, tombstoned at that watermark. Once the
 * resync is over, the seen ids whose copy failed stay listed until the next resync starts: their rows may still
 * arrive (a failed record re-read), and the floor lets through only ids it knows.
 */
import type { TableMetadata } from '../../dataverse/metadata';
import { prefixed } from '../../schema/identifiers';
import type { ApplyBatch, ApplyResult, ResyncSweep } from '../destination';
import { tableRef, type SqlContext } from './context';

/** Ids per round of the resync sweep: one select and one delete batch each. */
const SWEEP_CHUNK = 1000;

/**
 * Raises the floor under the table's apply lock: a batch either committed before (the sweep then judges its rows)
 * or applies after, against the floor.
 */
async function raiseVersionFloor(context: SqlContext, logicalName: string, watermark: number): Promise<void> {
  const { connection, dialect, schema } = context;
  await connection.transaction(async (session) => {
    await session.query(dialect.lockTable(), [`${schema}.${prefixed(context.prefix, logicalName)}`]);
    await session.query(dialect.raiseVersionFloor(tableRef(context, context.versionFloor.name)), [
      logicalName,
      watermark,
    ]);
  });
}

/** Removes the version floor of a table: its resync starts over, or it was created again, empty. */
export async function dropVersionFloor(context: SqlContext, logicalName: string): Promise<void> {
  const { connection, dialect } = context;
  await connection.query(dialect.deleteMetadataRows(tableRef(context, context.versionFloor.name)), [
    JSON.stringify([logicalName]),
  ]);
}

export function createResyncSweep(
  context: SqlContext,
  applyBatch: (table: TableMetadata, batch: ApplyBatch) => Promise<ApplyResult>,
): ResyncSweep {
  const { connection, dialect, resyncSeen } = context;
  const seenRef = tableRef(context, resyncSeen.name);
  const markSeen = async (logicalName: string, ids: readonly string[]): Promise<void> => {
    if (ids.length === 0) return;
    const rows = ids.map((id) => ({ EntityName: logicalName, RecordId: id.toLowerCase() }));
    await connection.query(dialect.insertRows(seenRef, resyncSeen.columns), [JSON.stringify(rows)]);
  };
  return {
    async start(logicalName) {
      await connection.query(dialect.deleteMetadataRows(seenRef), [JSON.stringify([logicalName])]);
      // Until this resync's sweep, the sweep itself removes what a late upsert brings back.
      await dropVersionFloor(context, logicalName);
    },
    markSeen,
    async sweep(table, watermark) {
      await raiseVersionFloor(context, table.logicalName, watermark);
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
    async finish(logicalName) {
      const targetRef = tableRef(context, prefixed(context.prefix, logicalName));
      await connection.query(dialect.forgetSeenPresent(seenRef, targetRef), [logicalName]);
    },
  };
}
