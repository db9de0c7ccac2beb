/**
 * A seeded random workload of creates, updates, deletes and delete-then-recreate, and of N:N associate,
 * disassociate and re-associate (users and roles through `systemuserroles`), sent through the Dataverse
 * Web API the way a real client (or a person in the app) changes data. Used by `npm start
 * --changes-per-second`, the scripted `--once` run and the chaos tests; the seed makes a run replayable.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ExportError } from '../../shared/errors';
import { sampleRow, sampleRowId, seededRandom, type SampleCounts } from '../sample-org';

export type OperationKind = 'create' | 'update' | 'delete' | 'recreate';

export interface RowOperation {
  kind: OperationKind;
  table: WorkloadTable;
  id: string;
}

/** An association is a row of the intersect table whose id Dataverse assigns: the pair names it. */
export interface UserRoleOperation {
  kind: 'associate' | 'disassociate';
  table: 'systemuserroles';
  systemuserid: string;
  roleid: string;
}

export type Operation = RowOperation | UserRoleOperation;

export const isRowOperation = (operation: Operation): operation is RowOperation =>
  operation.table !== 'systemuserroles';

export type WorkloadTable = 'account' | 'contact';

/** `systemuserid|roleid`, how the workload names one user–role association. */
export const userRoleKey = (systemuserid: string, roleid: string): string => `${systemuserid}|${roleid}`;

/** Transient answers (429, 5xx) are retried as a client would, this many times, before the step fails. */
const MAX_ATTEMPTS = 20;

const entitySets: Record<WorkloadTable, string> = { account: 'accounts', contact: 'contacts' };

export interface WorkloadOptions {
  /** Web API base URL, `http://127.0.0.1:<port>/api/data/v9.2/`. */
  baseUrl: string;
  token: string;
  seed: number;
  /** The sample org's seed and row counts, so the generated rows can be targeted without reading them first. */
  sampleSeed: number;
  rows: Partial<Record<WorkloadTable, number>>;
  /**
   * The sample org's row counts: when given, the workload also associates and disassociates its generated
   * users and roles (the `systemuserroles` N:N), as often as it changes one of the `rows` tables.
   */
  userRoles?: SampleCounts;
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
  /** The user–role associations the workload believes exist, as `userRoleKey`s (for checks). */
  userRoles(): ReadonlySet<string>;
}

export function createWorkload(options: WorkloadOptions): Workload {
  const next = seededRandom(`workload:${options.seed}`);
  const mix = { ...defaultMix, ...options.mix };
  const tables = Object.keys(options.rows) as WorkloadTable[];
  const alive = Object.fromEntries(
    tables.map((table) => [
      table,
      Array.from({ length: options.rows[table] ?? 0 }, (_, index) => sampleRowId(options.sampleSeed, table, index)),
    ]),
  ) as Record<WorkloadTable, string[]>;
  const deleted = Object.fromEntries(tables.map((table) => [table, [] as string[]])) as Record<WorkloadTable, string[]>;
  let steps = 0;

  const request = async (method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) => {
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(new URL(path, options.baseUrl), {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          'content-type': 'application/json',
          'OData-Version': '4.0',
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      // A delete of a row that is already gone (an earlier run deleted it) leaves the org as asked.
      if (response.ok || (method === 'DELETE' && response.status === 404)) {
        await response.body?.cancel();
        return;
      }
      const transient = response.status === 429 || response.status >= 500;
      if (!transient || attempt === MAX_ATTEMPTS) {
        throw new ExportError(
          transient ? 'transient' : 'data',
          `${method} ${path} answered ${response.status}: ${await response.text()}`,
        );
      }
      await response.body?.cancel();
      // Throttled and failed writes change nothing, so they are sent again: after Retry-After when given.
      const retryAfterSeconds = Number(response.headers.get('retry-after') ?? Number.NaN);
      await sleep(Number.isFinite(retryAfterSeconds) ? retryAfterSeconds * 1000 : Math.min(50 * attempt, 1000));
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

  const userRoles = options.userRoles ? generatedUserRoles(options.sampleSeed, options.userRoles) : undefined;
  const disassociated: string[] = [];

  // Not guarded by `inFlight`: user-role steps are only used one at a time (the chaos run), never overlapping.
  const changeUserRole = async (counts: SampleCounts, associated: Set<string>): Promise<Operation> => {
    // Disassociate, re-associate a pair removed earlier, or associate a new pair, as a person assigning roles would.
    const roll = next();
    let key: string | undefined;
    let kind: 'associate' | 'disassociate' = 'associate';
    if (roll < 0.45 && associated.size > 0) {
      kind = 'disassociate';
      key = [...associated][Math.floor(next() * associated.size)];
    } else if (roll < 0.7 && disassociated.length > 0) {
      key = takeAt(disassociated, Math.floor(next() * disassociated.length));
    } else {
      const candidate = userRoleKey(
        sampleRowId(options.sampleSeed, 'systemuser', Math.floor(next() * counts.systemuser)),
        sampleRowId(options.sampleSeed, 'role', Math.floor(next() * counts.role)),
      );
      if (associated.has(candidate)) kind = 'disassociate';
      key = candidate;
    }
    const [systemuserid, roleid] = (key as string).split('|') as [string, string];
    if (kind === 'associate') {
      await request('POST', `systemusers(${systemuserid})/systemuserroles_association/$ref`, {
        '@odata.id': `${options.baseUrl}roles(${roleid})`,
      });
      associated.add(key as string);
      const index = disassociated.indexOf(key as string);
      if (index >= 0) disassociated.splice(index, 1);
    } else {
      await request('DELETE', `systemusers(${systemuserid})/systemuserroles_association(${roleid})/$ref`);
      associated.delete(key as string);
      disassociated.push(key as string);
    }
    return { kind, table: 'systemuserroles', systemuserid, roleid };
  };

  return {
    async step() {
      steps += 1;
      if (options.userRoles && userRoles && (tables.length === 0 || next() < 1 / (tables.length + 1)))
        return changeUserRole(options.userRoles, userRoles);
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
    userRoles: () => new Set(userRoles),
  };
}

/** The associations the sample org is generated with. */
function generatedUserRoles(seed: number, counts: SampleCounts): Set<string> {
  return new Set(
    Array.from({ length: counts.systemuserroles }, (_, index) => {
      const row = sampleRow('systemuserroles', index, seed, counts);
      // Both are Uniqueidentifier columns (local/sample-org/schema.ts), so the sample row holds them as strings.
      return userRoleKey(row.systemuserid as string, row.roleid as string);
    }),
  );
}

/** A GUID from the workload's own random stream, so a replayed seed creates the same ids. */
function randomUUIDFrom(next: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
