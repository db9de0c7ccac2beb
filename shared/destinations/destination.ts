/**
 * The destination port: what the sync pipeline needs of any destination (SQL tables or the lake), so the
 * initial sync, the change applier and failure resyncs feed both the same way. Capabilities only some
 * destinations have are optional members; callers use them when present.
 */
import type { RowUpsert } from '../dataverse/changes';
import type { ManyToManyRelationship, TableMetadata } from '../dataverse/metadata';
import type { z } from 'zod';
import { ExportError } from '../errors';

export interface DeleteChange {
  id: string;
  /** The watermark of the delta token the delete came from. */
  versionNumber: number;
}

export interface ApplyBatch {
  upserts: RowUpsert[];
  deletes: DeleteChange[];
}

export interface FailedChange {
  id: string;
  changeType: 'upsert' | 'delete';
  reason: string;
}

export interface ColumnWidening {
  column: string;
  from: string;
  to: string;
}

export interface ApplyResult {
  upserted: number;
  deleted: number;
  /** Duplicates, older versions, upserts behind a tombstone, deletes behind a newer row or tombstone. */
  skippedAsStale: number;
  failed: FailedChange[];
  /** Columns widened because a value was longer than the column. */
  widened: ColumnWidening[];
}

export type SchemaAction =
  | { table: string; action: 'createTable' }
  | { table: string; action: 'addColumn'; column: string; type: string }
  | { table: string; action: 'widenColumn'; column: string; from: string; to: string }
  | { table: string; action: 'refreshMetadata'; rows: number };

export interface SchemaFailure {
  /** Logical name of the Dataverse table. */
  table: string;
  error: ExportError;
}

export interface EnsureTablesResult {
  actions: SchemaAction[];
  failures: SchemaFailure[];
}

export interface Destination {
  /** Creates or evolves the profile's tables (and metadata). Idempotent. */
  ensureTables(tables: TableMetadata[], relationships: ManyToManyRelationship[]): Promise<EnsureTablesResult>;
  /** Applies one batch idempotently; data failures come back in `failed`, anything else throws an ExportError. */
  applyBatch(table: TableMetadata, batch: ApplyBatch): Promise<ApplyResult>;
  /** Live rows of a table, where the destination can count them cheaply (SQL); absent otherwise (lake). */
  countRows?(logicalName: string): Promise<number>;
  /** Told once a table's initial sync reached its deltaLink (the lake marks the entity `Completed`). */
  completeInitialSync?(logicalNames: string[], at: Date): Promise<void>;
  /** Periodic work the destination owns (lake snapshots and folder rollover); the maintenance timer calls it. */
  maintain?(now: Date): Promise<MaintenanceReport>;
  /**
   * Writes only `columns` (destination column names a table gained while in delta) of rows that exist at or below
   * the given row's version; never inserts. Both destinations implement it (SQL updates in place; the lake rewrites
   * in-place rows and appends a filled copy of an appended row's newest record at the same version).
   */
  fillColumns?(table: TableMetadata, columns: string[], rows: RowUpsert[]): Promise<number>;
  /**
   * Deletes every row of a table and its tombstones, writing no delete log: the source became another
   * organization (shared/sync/capture/source-environment.ts), whose versions say nothing about these rows. Not
   * implemented by the lake yet.
   */
  forgetRows?(logicalName: string): Promise<number>;
  /** Removing rows a full resync did not see. */
  resync: ResyncSweep;
  close(): Promise<void>;
}

/**
 * A full resync (after an expired change-tracking token, or asked for) copies every row again; rows deleted in
 * Dataverse meanwhile never show up as deletes. The destination remembers which ids the resync copied and, at its
 * end, deletes the others with a tombstone at the resync's watermark.
 */
export interface ResyncSweep {
  /** Forgets what an earlier resync of the table saw. */
  start(logicalName: string): Promise<void>;
  /** Remembers ids the resync copied. */
  markSeen(logicalName: string, ids: readonly string[]): Promise<void>;
  /**
   * Deletes every row the resync did not see; returns how many were deleted. Repeatable: a sweep run again before
   * `finish` (a crash before the table's checkpoint moved on) deletes nothing more.
   */
  sweep(table: TableMetadata, watermark: number): Promise<number>;
  /** Forgets what the resync saw, once the table's checkpoint has left the resync. */
  finish(logicalName: string): Promise<void>;
}

export interface MaintenanceReport {
  /** What changed, in words for the log (empty when nothing was due). */
  done: string[];
}

/** Validates a destination's settings; the first problem becomes a config error naming its field. */
export function parseDestinationConfig<T>(schema: z.ZodType<T>, config: unknown, kind: string): T {
  const parsed = schema.safeParse(config);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ExportError('config', `Invalid ${kind} destination settings: ${issue?.message ?? 'unknown problem'}.`, {
    where: `destination.${issue?.path.join('.') ?? ''}`,
    fix: 'Check the destination section of the export profile.',
  });
}
