/**
 * The emulator's data: the sample org's generated rows plus every write made since. Generated rows are
 * never stored: row `index` is regenerated from (seed, table, index) and its id carries the index. Only
 * writes are kept — changed/created rows by id, tombstones for deleted ids — so a million-account org
 * costs a few counters until someone writes to it.
 *
 * Versions are one org-wide monotonic counter, as Dataverse's `versionnumber` is. Every row lives in a
 * "slot" that fixes its position in paging order: generated rows in index order, then created rows in
 * creation order; a deleted-then-recreated row keeps its slot.
 * A little over 350 lines on purpose: one class keeps the slot order and the org-wide version counter true
 * together; the snapshot (store-snapshot.ts) and the state file (state-file.ts) are already outside it.
 */
import { randomUUID } from 'node:crypto';
import type { ColumnMetadata, ManyToManyRelationship, TableMetadata } from '../../shared/dataverse/metadata';
import { column, type ColumnSpec } from '../sample-org/builders';
import {
  DEFAULT_SAMPLE_ACCOUNTS,
  SAMPLE_CURRENCY,
  sampleCounts,
  sampleRow,
  sampleRowId,
  sampleRowIndex,
  sampleTables,
  type SampleCounts,
  type SampleRow,
} from '../sample-org';
import type { StoreSnapshot } from './store-snapshot';

export interface StoredRow {
  id: string;
  version: number;
  row: SampleRow;
}

interface Tombstone {
  version: number;
  slot: number;
}

interface TableState {
  table: TableMetadata;
  generated: number;
  /** Generated row `index` has version `firstVersion + index`. */
  firstVersion: number;
  changed: Map<string, StoredRow>;
  deleted: Map<string, Tombstone>;
  /** Ids of created rows; created row `i` lives in slot `generated + i`. */
  created: string[];
  createdSlots: Map<string, number>;
}

/** The two rows of an N:N association: entity1's id and entity2's, as the relationship orders them. */
export interface AssociatedPair {
  entity1Id: string;
  entity2Id: string;
}

export type DeltaItem = { kind: 'upsert'; stored: StoredRow } | { kind: 'delete'; id: string; version: number };

export interface StoreOptions {
  seed?: number;
  accounts?: number;
  /** Generated contacts; 1.5 per account when absent. */
  contacts?: number;
  /** Milliseconds since the epoch; injectable so tests can age tokens. */
  now?: () => number;
}

/** Real orgs have version numbers in the millions and up; starting there keeps the magnitudes honest. */
const FIRST_VERSION = 1_000_000;

const isoSeconds = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export class WriteConflict extends Error {}

export class OrgStore {
  readonly seed: number;
  readonly counts: SampleCounts;
  readonly now: () => number;
  /** What WhoAmI answers as OrganizationId: new for a fresh state, kept by a restored one (see state-file.ts). */
  organizationId: string = randomUUID();
  private version: number;
  private readonly tables = new Map<string, TableState>();

  constructor(options: StoreOptions = {}) {
    this.seed = options.seed ?? 1;
    this.counts = sampleCounts(options.accounts ?? DEFAULT_SAMPLE_ACCOUNTS, options.contacts);
    this.now = options.now ?? Date.now;
    let version = FIRST_VERSION;
    for (const table of sampleTables) {
      const generated = this.counts[table.logicalName as keyof SampleCounts];
      this.tables.set(table.logicalName, {
        table,
        generated,
        firstVersion: version + 1,
        changed: new Map(),
        deleted: new Map(),
        created: [],
        createdSlots: new Map(),
      });
      version += generated;
    }
    this.version = version;
  }

  snapshot(): StoreSnapshot {
    const tables: StoreSnapshot['tables'] = {};
    for (const [name, state] of this.tables) {
      tables[name] = {
        changed: [...state.changed.values()],
        deleted: [...state.deleted].map(([id, tombstone]) => ({ id, ...tombstone })),
        created: state.created,
      };
    }
    return {
      seed: this.seed,
      accounts: this.counts.account,
      contacts: this.counts.contact,
      organizationId: this.organizationId,
      version: this.version,
      tables,
    };
  }

  /** Rebuilds a store from a snapshot taken with the same seed and scale. */
  static restore(snapshot: StoreSnapshot, now?: () => number): OrgStore {
    const store = new OrgStore({ seed: snapshot.seed, accounts: snapshot.accounts, contacts: snapshot.contacts, now });
    store.version = snapshot.version;
    if (snapshot.organizationId !== undefined) store.organizationId = snapshot.organizationId;
    for (const [name, saved] of Object.entries(snapshot.tables)) {
      const state = store.state(name);
      for (const stored of saved.changed) state.changed.set(stored.id, stored);
      for (const { id, version, slot } of saved.deleted) state.deleted.set(id, { version, slot });
      saved.created.forEach((id, position) => {
        state.created.push(id);
        state.createdSlots.set(id, state.generated + position);
      });
    }
    return store;
  }

  /** The highest version handed out so far: a change-tracking token issued now covers everything up to it. */
  get currentVersion(): number {
    return this.version;
  }

  metadata(): TableMetadata[] {
    return [...this.tables.values()].map((state) => state.table);
  }

  tableBySet(entitySetName: string): TableMetadata | undefined {
    return this.metadata().find((table) => table.entitySetName === entitySetName);
  }

  private state(logicalName: string): TableState {
    const state = this.tables.get(logicalName);
    if (!state) throw new Error(`The emulator has no table '${logicalName}'`);
    return state;
  }

  private generatedIndex(state: TableState, id: string): number | undefined {
    const index = sampleRowIndex(this.seed, state.table.logicalName, id);
    return index !== undefined && index < state.generated ? index : undefined;
  }

  private slotOf(state: TableState, id: string): number | undefined {
    return this.generatedIndex(state, id) ?? state.createdSlots.get(id) ?? state.deleted.get(id)?.slot;
  }

  /** A generated row; with `keysOnly` only its key, whose value is its id (sampleRowId), without making the rest. */
  private generatedRow(state: TableState, index: number, keysOnly = false): StoredRow {
    const id = sampleRowId(this.seed, state.table.logicalName, index);
    return {
      id,
      version: state.firstVersion + index,
      row: keysOnly
        ? { [state.table.primaryIdAttribute]: id }
        : sampleRow(state.table.logicalName, index, this.seed, this.counts),
    };
  }

  get(logicalName: string, id: string): StoredRow | undefined {
    const state = this.state(logicalName);
    const key = id.toLowerCase();
    if (state.deleted.has(key)) return undefined;
    const changed = state.changed.get(key);
    if (changed) return changed;
    const index = this.generatedIndex(state, key);
    return index === undefined ? undefined : this.generatedRow(state, index);
  }

  private rowInSlot(state: TableState, slot: number, keysOnly = false): StoredRow | undefined {
    const id =
      slot < state.generated
        ? sampleRowId(this.seed, state.table.logicalName, slot)
        : state.created[slot - state.generated];
    if (id === undefined || state.deleted.has(id)) return undefined;
    return state.changed.get(id) ?? (slot < state.generated ? this.generatedRow(state, slot, keysOnly) : undefined);
  }

  /** How many live rows the table has: every slot but the tombstoned ones. */
  count(logicalName: string): number {
    const state = this.state(logicalName);
    return state.generated + state.created.length - state.deleted.size;
  }

  /**
   * Up to `limit` live rows after `afterSlot` in paging order, and whether more follow. `keysOnly`: a read of the
   * primary key alone (the partitioned load's key pass), whose generated rows need not be made.
   */
  page(
    logicalName: string,
    afterSlot: number,
    limit: number,
    keysOnly = false,
  ): { rows: Array<StoredRow & { slot: number }>; more: boolean } {
    const state = this.state(logicalName);
    const end = state.generated + state.created.length;
    const rows: Array<StoredRow & { slot: number }> = [];
    for (let slot = afterSlot + 1; slot < end; slot++) {
      const stored = this.rowInSlot(state, slot, keysOnly);
      if (!stored) continue;
      if (rows.length === limit) return { rows, more: true };
      rows.push({ ...stored, slot });
    }
    return { rows, more: false };
  }

  /**
   * Changes after version `after` up to `upTo`: the latest state of changed rows in version order, then
   * deletes in version order — as Dataverse orders a delta. `cursor` is the last version already returned.
   */
  changes(
    logicalName: string,
    after: number,
    upTo: number,
    cursor: number,
    limit: number,
  ): { items: DeltaItem[]; more: boolean } {
    const state = this.state(logicalName);
    const from = Math.max(after, cursor);
    const items: DeltaItem[] = [];
    const take = (item: DeltaItem): boolean => {
      if (items.length === limit) return false;
      items.push(item);
      return true;
    };
    // Generated rows only count as changes for tokens older than the org itself.
    const firstIndex = Math.max(0, from - state.firstVersion + 1);
    const lastIndex = Math.min(state.generated - 1, upTo - state.firstVersion);
    for (let index = firstIndex; index <= lastIndex; index++) {
      const id = sampleRowId(this.seed, logicalName, index);
      if (state.changed.has(id) || state.deleted.has(id)) continue;
      if (!take({ kind: 'upsert', stored: this.generatedRow(state, index) })) return { items, more: true };
    }
    const inWindow = (version: number): boolean => version > from && version <= upTo;
    const upserts = [...state.changed.values()]
      .filter((stored) => inWindow(stored.version))
      .sort((a, b) => a.version - b.version);
    for (const stored of upserts) if (!take({ kind: 'upsert', stored })) return { items, more: true };
    const deletes = [...state.deleted.entries()]
      .filter(([, tombstone]) => inWindow(tombstone.version))
      .sort(([, a], [, b]) => a.version - b.version);
    for (const [id, tombstone] of deletes)
      if (!take({ kind: 'delete', id, version: tombstone.version })) return { items, more: true };
    return { items, more: false };
  }

  private defaults(table: TableMetadata, id: string): SampleRow {
    const row: SampleRow = {};
    const stamp = isoSeconds(this.now());
    for (const column of table.columns) row[column.logicalName] = null;
    row[table.primaryIdAttribute] = id;
    const defaults: SampleRow = {
      createdon: stamp,
      modifiedon: stamp,
      statecode: 0,
      statuscode: 1,
      transactioncurrencyid: SAMPLE_CURRENCY,
      exchangerate: 1,
      owneridtype: 'systemuser',
    };
    for (const [name, value] of Object.entries(defaults)) if (name in row) row[name] = value;
    return row;
  }

  /**
   * Test control (test-control.ts): the table gains an attribute, as when a maker adds a column in Dataverse.
   * Existing rows hold no value for it (null) and keep their version. Kept in memory only: the state file holds rows.
   */
  addColumn(logicalName: string, spec: ColumnSpec): ColumnMetadata {
    const state = this.state(logicalName);
    if (state.table.columns.some((existing) => existing.logicalName === spec.name))
      throw new WriteConflict(`An attribute ${spec.name} already exists on ${logicalName}`);
    const last = Math.max(...state.table.columns.map((existing) => existing.columnNumber));
    const added = column(logicalName, spec, last + 1);
    // A copy: the sample tables are shared by every store in the process.
    state.table = { ...state.table, columns: [...state.table.columns, added] };
    return added;
  }

  /** Creates a row; `id` may be given (Dataverse accepts client-set GUIDs), also to recreate a deleted one. */
  create(logicalName: string, values: SampleRow, id?: string): StoredRow {
    const state = this.state(logicalName);
    const key = (id ?? randomUUID()).toLowerCase();
    if (this.get(logicalName, key)) throw new WriteConflict(`A record with matching key values already exists: ${key}`);
    if (this.slotOf(state, key) === undefined) {
      state.createdSlots.set(key, state.generated + state.created.length);
      state.created.push(key);
    }
    state.deleted.delete(key);
    const stored: StoredRow = {
      id: key,
      version: ++this.version,
      row: { ...this.defaults(state.table, key), ...values },
    };
    state.changed.set(key, stored);
    return stored;
  }

  /** Updates a live row; undefined when there is none. */
  update(logicalName: string, id: string, values: SampleRow): StoredRow | undefined {
    const current = this.get(logicalName, id);
    if (!current) return undefined;
    const row = { ...current.row, ...values };
    if ('modifiedon' in row) row.modifiedon = isoSeconds(this.now());
    const stored: StoredRow = { id: current.id, version: ++this.version, row };
    this.state(logicalName).changed.set(current.id, stored);
    return stored;
  }

  /** Associates two rows through an N:N relationship: a new intersect row; false when they already are. */
  associate(relationship: ManyToManyRelationship, pair: AssociatedPair): boolean {
    if (this.intersectRowId(relationship, pair) !== undefined) return false;
    this.create(relationship.intersectEntityName, {
      [relationship.entity1IntersectAttribute]: pair.entity1Id,
      [relationship.entity2IntersectAttribute]: pair.entity2Id,
    });
    return true;
  }

  /** Removes the intersect row of two associated rows; false when they are not associated. */
  disassociate(relationship: ManyToManyRelationship, pair: AssociatedPair): boolean {
    const id = this.intersectRowId(relationship, pair);
    return id !== undefined && this.delete(relationship.intersectEntityName, id);
  }

  private intersectRowId(relationship: ManyToManyRelationship, pair: AssociatedPair): string | undefined {
    for (let after = -1; ;) {
      const { rows, more } = this.page(relationship.intersectEntityName, after, 5000);
      const found = rows.find(
        ({ row }) =>
          row[relationship.entity1IntersectAttribute] === pair.entity1Id &&
          row[relationship.entity2IntersectAttribute] === pair.entity2Id,
      );
      if (found) return found.id;
      if (!more) return undefined;
      after = rows.at(-1)?.slot ?? after;
    }
  }

  /** Deletes a live row, leaving a tombstone for deltas; false when there is none. */
  delete(logicalName: string, id: string): boolean {
    const state = this.state(logicalName);
    const current = this.get(logicalName, id);
    if (!current) return false;
    const slot = this.slotOf(state, current.id) ?? 0;
    state.changed.delete(current.id);
    state.deleted.set(current.id, { version: ++this.version, slot });
    return true;
  }
}
