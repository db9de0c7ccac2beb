/**
 * A seeded random workload of creates, updates, deletes and delete-then-recreate, sent through the
 * Dataverse Web API the way a real client (or a person in the app) changes data. Used by `npm start
 * --changes-per-second`, the scripted `--once` run and the chaos tests; the seed makes a run replayable.
 */
import { ExportError } from '../../shared/errors';
import { sampleRowId, seededRandom } from '../sample-org';

export type OperationKind = 'create' | 'update' | 'delete' | 'recreate';

export interface Operation {
  kind: OperationKind;
  table: WorkloadTable;
  id: string;
}

export type WorkloadTable = 'account' | 'contact';

const entitySets: Record<WorkloadTable, string> = { account: 'accounts', contact: 'contacts' };

export interface WorkloadOptions {
  /** Web API base URL, `http://127.0.0.1:<port>/api/data/v9.2/`. */
  baseUrl: string;
  token: string;
  seed: number;
  /** The sample org's seed and row counts, so the generated rows can be targeted without reading them first. */
  sampleSeed: number;
  rows: Partial<Record<WorkloadTable, number>>;
  /** Relative weights of the operations. */
  mix?: Partial<Record<OperationKind, number>>;
}

const defaultMix: Record<OperationKind, number> = { create: 2, update: 6, delete: 1, recreate: 1 };

function valuesFor(table: WorkloadTable, next: () => number, step: number): Record<string, unknown> {
  if (table === 'account') {
    return {
      name: `Workload account ${step} ${Math.floor(next() * 1e6)}`,
      telephone1: `+1-555-${String(Math.floor(next() * 10_000)).padStart(4, '0')}`,
      numberofemployees: Math.floor(next() * 50_000),
      revenue: Math.round(next() * 1e9) / 100,
      creditonhold: next() < 0.5,
      description: next() < 0.3 ? null : `Changed at step ${step}, "quoted", with comma\nand a new line`,
    };
  }
  return {
    firstname: `First${step}`,
    lastname: `Last ${Math.floor(next() * 1e6)}`,
    jobtitle: next() < 0.5 ? 'Engineer' : 'Manager, Sales',
    emailaddress1: `workload${step}@example.com`,
  };
}

export interface Workload {
  /**
   * Performs one operation and says what it did. Calls may overlap (the delta-latency benchmark keeps many
   * in flight): a row with an operation in flight is not picked for another, so the org never sees an
   * update race its row's delete.
   */
  step(): Promise<Operation>;
  /** Ids of rows the workload believes exist, per table (for checks). */
  alive(table: WorkloadTable): ReadonlySet<string>;
}

export function createWorkload(options: WorkloadOptions): Workload {
  const next = seededRandom(`workload:${options.seed}`);
  const mix = { ...defaultMix, ...options.mix };
  const tables = Object.keys(options.rows) as WorkloadTable[];
  const alive = Object.fromEntries(
    tables.map((table) => [table, Array.from({ length: options.rows[table] ?? 0 }, (_, index) => sampleRowId(options.sampleSeed, table, index))]),
  ) as Record<WorkloadTable, string[]>;
  const deleted = Object.fromEntries(tables.map((table) => [table, [] as string[]])) as Record<WorkloadTable, string[]>;
  let steps = 0;

  const request = async (method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) => {
    const response = await fetch(new URL(path, options.baseUrl), {
      method,
      headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json', 'OData-Version': '4.0' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // A delete of a row that is already gone (an earlier run deleted it) leaves the org as asked.
    if (method === 'DELETE' && response.status === 404) return;
    if (!response.ok) {
      throw new ExportError(response.status === 429 || response.status >= 500 ? 'transient' : 'data', `${method} ${path} answered ${response.status}: ${await response.text()}`);
    }
  };

  const inFlight = new Set<string>();
  /** A random position in `list` whose row has no operation in flight; a few tries, then none. */
  const idleIndex = (list: string[]): number | undefined => {
    for (let attempt = 0; attempt < 8 && list.length > 0; attempt++) {
      const index = Math.floor(next() * list.length);
      if (!inFlight.has(list[index] as string)) return index;
    }
    return undefined;
  };

  const takeAt = (list: string[], index: number): string => {
    const [taken] = list.splice(index, 1, list[list.length - 1] as string);
    list.pop();
    return taken as string;
  };

  const choose = (): OperationKind => {
    const total = Object.values(mix).reduce((sum, weight) => sum + weight, 0);
    let roll = next() * total;
    for (const [kind, weight] of Object.entries(mix) as Array<[OperationKind, number]>) {
      roll -= weight;
      if (roll < 0) return kind;
    }
    return 'update';
  };

  return {
    async step() {
      steps += 1;
      const table = tables[Math.floor(next() * tables.length)] as WorkloadTable;
      const set = entitySets[table];
      let kind = choose();
      if (kind === 'recreate' && deleted[table].length === 0) kind = 'delete';
      const target = kind === 'update' || kind === 'delete' ? idleIndex(alive[table]) : undefined;
      if ((kind === 'update' || kind === 'delete') && target === undefined) kind = 'create';
      const values = valuesFor(table, next, steps);
      const perform = async (id: string, write: () => Promise<void>): Promise<Operation> => {
        inFlight.add(id);
        try {
          await write();
        } finally {
          inFlight.delete(id);
        }
        return { kind, table, id };
      };
      switch (kind) {
        case 'create': {
          const id = randomUUIDFrom(next);
          return perform(id, async () => {
            await request('POST', set, { [`${table}id`]: id, ...values });
            alive[table].push(id);
          });
        }
        case 'update': {
          const id = alive[table][target as number] as string;
          return perform(id, () => request('PATCH', `${set}(${id})`, values));
        }
        case 'delete': {
          const id = takeAt(alive[table], target as number);
          return perform(id, async () => {
            await request('DELETE', `${set}(${id})`);
            deleted[table].push(id);
          });
        }
        case 'recreate': {
          // Dataverse lets a client create a row with the id of a deleted one: the DES failure mode to beat.
          const id = takeAt(deleted[table], Math.floor(next() * deleted[table].length));
          return perform(id, async () => {
            await request('POST', set, { [`${table}id`]: id, ...values });
            alive[table].push(id);
          });
        }
      }
    },
    alive: (table) => new Set(alive[table]),
  };
}

/** A GUID from the workload's own random stream, so a replayed seed creates the same ids. */
function randomUUIDFrom(next: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

