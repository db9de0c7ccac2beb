/**
 * The per-table version floor: the watermark of the table's last resync sweep (resync-sweep.ts raises it). Every
 * id that existed at that watermark was copied by the resync, so it is in the table, tombstoned, or, when its copy
 * failed, still listed in the profile's `ResyncSeen` table. An upsert at or below the floor of an id none of them
 * knows is a change that waited in the queue across the resync, of a row deleted before the resync's token: the
 * dialects' upserts skip it as stale instead of bringing the row back. Rows present stay under their own version
 * guard.
 */
import type { FixedTable } from '../../schema/metadata-tables';
import { prefixed } from '../../schema/identifiers';

/** One row per table that has had a resync sweep: `<prefix>_VersionFloor`. */
export const versionFloorTable = (prefix: string): FixedTable => ({
  name: prefixed(prefix, 'VersionFloor'),
  columns: [
    { name: 'EntityName', type: { kind: 'string', length: 128 }, nullable: false },
    { name: 'VersionNumber', type: { kind: 'bigint' }, nullable: false },
  ],
  primaryKey: ['EntityName'],
});
