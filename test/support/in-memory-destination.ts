/**
 * A destination in memory that records every call. Used where in-memory PGlite is too slow to start for a unit
 * test (measured 45 s on a loaded 2-core machine). It copies the SQL destination contract (test/sql/contract.ts):
 * only a newer version applies, a delete wins a tie and leaves a tombstone, duplicates and older versions are
 * counted stale, a non-GUID id or a text with an unpaired UTF-16 surrogate fails that row alone
 * (shared/destinations/sql/destination.ts applyBatch), and a table it was never given is a schema error.
 */
import type { ManyToManyRelationship, TableMetadata } from '../../shared/dataverse/metadata';
import type {
  ApplyBatch,
  ApplyResult,
  Destination,
  EnsureTablesResult,
  FailedChange,
} from '../../shared/destinations/destination';
import { ExportError } from '../../shared/errors';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface StoredRow {
  version: number;
  /** Absent for a tombstone. */
  row?: Record<string, unknown>;
}

type Change =
  | { kind: 'upsert'; id: string; version: number; row: Record<string, unknown> }
  | { kind: 'delete'; id: string; version: number };

export interface RecordingDestination extends Destination {
  /** lower-case id → newest version (or tombstone), per logical table name. */
  tables: Map<string, Map<string, StoredRow>>;
  applied: Array<{ table: string; batch: ApplyBatch }>;
  resyncStarted: string[];
  /** Live rows of a table: id → version. */
  versions(table: string): Map<string, number>;
}

function brokenColumn(row: Record<string, unknown>): string | undefined {
  return Object.entries(row).find(([, value]) => typeof value === 'string' && UNPAIRED_SURROGATE.test(value))?.[0];
}

/** Newest version per id; on a tie the delete wins. Returns the winners and how many were superseded. */
function latestChanges(batch: ApplyBatch, failed: FailedChange[]): { changes: Change[]; superseded: number } {
  const latest = new Map<string, Change>();
  let superseded = 0;
  const consider = (change: Change) => {
    if (!GUID.test(change.id)) {
      failed.push({ id: change.id, changeType: change.kind, reason: `Id '${change.id}' is not a GUID.` });
      return;
    }
    const key = change.id.toLowerCase();
    const current = latest.get(key);
    if (current) superseded += 1;
    const wins =
      !current || change.version > current.version || (change.version === current.version && change.kind === 'delete');
    if (wins) latest.set(key, { ...change, id: key });
  };
  for (const upsert of batch.upserts) {
    const broken = brokenColumn(upsert.row);
    if (broken !== undefined) {
      const reason = `Column '${broken}' holds an unpaired UTF-16 surrogate, which no SQL text column can store.`;
      failed.push({ id: upsert.id, changeType: 'upsert', reason });
      continue;
    }
    consider({ kind: 'upsert', id: upsert.id, version: upsert.versionNumber, row: upsert.row });
  }
  for (const remove of batch.deletes) consider({ kind: 'delete', id: remove.id, version: remove.versionNumber });
  return { changes: [...latest.values()], superseded };
}

export function recordingDestination(): RecordingDestination {
  const tables = new Map<string, Map<string, StoredRow>>();
  const destination: RecordingDestination = {
    tables,
    applied: [],
    resyncStarted: [],
    versions(table) {
      const rows = tables.get(table) ?? new Map<string, StoredRow>();
      return new Map([...rows].flatMap(([id, stored]) => (stored.row ? [[id, stored.version] as const] : [])));
    },
    ensureTables(given: TableMetadata[], _relationships: ManyToManyRelationship[]): Promise<EnsureTablesResult> {
      for (const table of given) if (!tables.has(table.logicalName)) tables.set(table.logicalName, new Map());
      return Promise.resolve({ actions: [], failures: [] });
    },
    applyBatch(table, batch): Promise<ApplyResult> {
      destination.applied.push({ table: table.logicalName, batch: structuredClone(batch) });
      const rows = tables.get(table.logicalName);
      if (!rows) {
        const where = table.logicalName;
        return Promise.reject(new ExportError('schema', `Table ${where} does not exist in the destination`, { where }));
      }
      const failed: FailedChange[] = [];
      const { changes, superseded } = latestChanges(batch, failed);
      const result: ApplyResult = { upserted: 0, deleted: 0, skippedAsStale: superseded, failed, widened: [] };
      for (const change of changes) {
        const stored = rows.get(change.id);
        const newer =
          !stored ||
          change.version > stored.version ||
          (change.version === stored.version && change.kind === 'delete' && stored.row !== undefined);
        if (!newer || (change.kind === 'delete' && !stored?.row)) {
          if (change.kind === 'delete' && newer) rows.set(change.id, { version: change.version });
          result.skippedAsStale += 1;
          continue;
        }
        if (change.kind === 'upsert') {
          rows.set(change.id, { version: change.version, row: structuredClone(change.row) });
          result.upserted += 1;
        } else {
          rows.set(change.id, { version: change.version });
          result.deleted += 1;
        }
      }
      return Promise.resolve(result);
    },
    countRows: (logicalName) => Promise.resolve(destination.versions(logicalName).size),
    resync: {
      start(logicalName) {
        destination.resyncStarted.push(logicalName);
        return Promise.resolve();
      },
      // The applier and the poller never sweep; a test that needs a resync's sweep uses a real destination.
      markSeen: () => Promise.reject(new Error('the recording destination does not sweep resyncs')),
      sweep: () => Promise.reject(new Error('the recording destination does not sweep resyncs')),
      finish: () => Promise.reject(new Error('the recording destination does not sweep resyncs')),
    },
    close: () => Promise.resolve(),
  };
  return destination;
}
