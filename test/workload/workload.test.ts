import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEmulator, type Emulator, type SourceWrite } from '../../local/emulator/server';
import { sampleCounts } from '../../local/sample-org';
import { sourceVersions } from '../../local/verify';
import { createWorkload, isRowOperation, userRoleKey, type Operation } from '../../local/workload/workload';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: 7, accounts: 40 });
});
afterAll(async () => emulator.close());

const rows = { account: 40, contact: 60 };

describe('workload', () => {
  it('changes the org through the Web API, and the org agrees with what it says it did', async () => {
    const workload = createWorkload({ baseUrl: emulator.baseUrl, token: 'any', seed: 11, sampleSeed: 7, rows });
    const done: Operation[] = [];
    for (let i = 0; i < 300; i++) done.push(await workload.step());
    const kinds = new Set(done.map((operation) => operation.kind));
    expect(kinds).toEqual(new Set(['create', 'update', 'delete', 'recreate']));
    for (const table of ['account', 'contact'] as const) {
      for (const id of workload.alive(table)) expect(emulator.store.get(table, id), `${table} ${id}`).toBeDefined();
    }
    const lastDeletes = done
      .filter(isRowOperation)
      .filter((operation) => operation.kind === 'delete' && !workload.alive(operation.table).has(operation.id));
    expect(lastDeletes.length).toBeGreaterThan(0);
    for (const operation of lastDeletes) expect(emulator.store.get(operation.table, operation.id)).toBeUndefined();
  });

  it('keeps the org consistent with many steps in flight at once, and the emulator reports every write as it commits', async () => {
    const writes: SourceWrite[] = [];
    const observed = await startEmulator({ port: 0, seed: 7, accounts: 40, onWrite: (write) => writes.push(write) });
    try {
      const workload = createWorkload({ baseUrl: observed.baseUrl, token: 'any', seed: 5, sampleSeed: 7, rows });
      const done: Operation[] = [];
      for (let round = 0; round < 20; round++)
        done.push(...(await Promise.all(Array.from({ length: 16 }, () => workload.step()))));
      expect(writes).toHaveLength(done.length);
      expect(writes.map((write) => write.version)).toEqual(
        [...writes.map((write) => write.version)].sort((a, b) => a - b),
      );
      for (const table of ['account', 'contact'] as const) {
        for (const id of workload.alive(table)) {
          const lastWrite = writes.findLast((write) => write.table === table && write.id === id);
          expect(lastWrite?.kind ?? 'upsert').toBe('upsert');
          if (lastWrite) expect(observed.store.get(table, id)?.version).toBe(lastWrite.version);
        }
      }
      const deletedNow = writes.filter(
        (write) => write.kind === 'delete' && !workload.alive(write.table as 'account' | 'contact').has(write.id),
      );
      expect(deletedNow.length).toBeGreaterThan(0);
      for (const write of deletedNow) expect(observed.store.get(write.table, write.id)).toBeUndefined();
    } finally {
      await observed.close();
    }
  });

  it('associates and disassociates users and roles, and retries what Dataverse throttles or fails', async () => {
    // Its own org: the rows the other tests deleted would be missing here.
    const emulator = await startEmulator({
      port: 0,
      seed: 7,
      accounts: 40,
      faults: { throttleRate: 0.2, retryAfterSeconds: 0, unavailableRate: 0.2 },
    });
    onTestFinished(() => emulator.close());
    const workload = createWorkload({
      baseUrl: emulator.baseUrl,
      token: 'any',
      seed: 12,
      sampleSeed: 7,
      rows,
      userRoles: sampleCounts(40),
    });
    const done: Operation[] = [];
    for (let i = 0; i < 150; i++) done.push(await workload.step());
    emulator.faults.set({ throttleRate: 0, unavailableRate: 0 });
    expect(new Set(done.map((operation) => operation.kind))).toEqual(
      new Set(['create', 'update', 'delete', 'recreate', 'associate', 'disassociate']),
    );
    expect(emulator.stats.throttled + emulator.stats.unavailable).toBeGreaterThan(0);
    const inSource = new Set(
      [...sourceVersions(emulator, 'systemuserroles').keys()].map((id) => {
        const row = emulator.store.get('systemuserroles', id)?.row;
        return userRoleKey(row?.systemuserid as string, row?.roleid as string);
      }),
    );
    expect(inSource).toEqual(workload.userRoles());
    for (const table of ['account', 'contact'] as const) {
      for (const id of workload.alive(table)) expect(emulator.store.get(table, id), `${table} ${id}`).toBeDefined();
    }
  });

  it('replays the same operations for the same seed', async () => {
    const first = createWorkload({ baseUrl: emulator.baseUrl, token: 'any', seed: 99, sampleSeed: 7, rows });
    const kindsAndTables = async () => {
      const list: string[] = [];
      for (let i = 0; i < 20; i++) {
        const operation = await first.step();
        list.push(`${operation.kind}:${operation.table}`);
      }
      return list;
    };
    const a = await kindsAndTables();
    const other = await startEmulator({ port: 0, seed: 7, accounts: 40 });
    try {
      const second = createWorkload({ baseUrl: other.baseUrl, token: 'any', seed: 99, sampleSeed: 7, rows });
      const b: string[] = [];
      for (let i = 0; i < 20; i++) {
        const operation = await second.step();
        b.push(`${operation.kind}:${operation.table}`);
      }
      expect(b).toEqual(a);
    } finally {
      await other.close();
    }
  });
});
