/**
 * The convergence check itself (local/verify.ts): the sample org's accounts and contacts read as the product
 * reads them (annotated pages from the emulator) and applied to embedded PostgreSQL compare equal, and each
 * column written wrong afterwards is reported as `table id column: expected X, got Y`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowUpsert } from '../../shared/dataverse/changes';
import { webApiSelect } from '../../shared/dataverse/properties';
import type { SqlConnection } from '../../shared/destinations/sql/connection';
import { createSqlDestination, type SqlDestination } from '../../shared/destinations/sql/destination';
import { createPgliteConnection } from '../../shared/destinations/sql/pglite-connection';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { cell, decimalText } from '../../local/expected-row';
import { compareTable, isEqual, versionsEqual } from '../../local/verify';
import { clientFor, collect, TOKEN } from '../dataverse/helpers';

const TABLES = ['account', 'contact'];
let emulator: Emulator;
let connection: SqlConnection;
let destination: SqlDestination;

beforeAll(async () => {
  emulator = await startEmulator({ seed: 5, accounts: 40, token: TOKEN });
  connection = await createPgliteConnection(undefined);
  destination = createSqlDestination(connection, postgresDialect, {
    schema: 'verify',
    prefix: '',
    writeDeleteLog: false,
    widenOverlongStrings: true,
  });
  const client = clientFor(emulator.baseUrl);
  const tables = await client.readTables(TABLES);
  await destination.ensureTables(tables, []);
  for (const table of tables) {
    for (const page of await collect(client.initialLoad(table, { select: webApiSelect(table), annotations: true }))) {
      const applied = await destination.applyBatch(table, {
        upserts: page.changes.filter((change): change is RowUpsert => change.kind === 'upsert'),
        deletes: [],
      });
      if (applied.failed.length > 0) throw new Error(JSON.stringify(applied.failed));
    }
  }
}, 60_000);

afterAll(async () => {
  await connection?.close();
  await emulator?.close();
});

/** An account with every corrupted column filled (a NULL plus one is still NULL). */
async function fullAccount(): Promise<string> {
  const { rows } = await connection.query(
    `SELECT "Id"::text AS id FROM verify.account WHERE name IS NOT NULL AND revenue IS NOT NULL AND sample_foundedon IS NOT NULL AND ownerid IS NOT NULL ORDER BY "Id" LIMIT 1`,
  );
  const id = rows[0]?.id;
  if (typeof id !== 'string') throw new Error('no account with every column filled');
  return id;
}

/** Compares after `set` on one row, then puts the row back as it was (from a copy taken first). */
async function corrupted(set: string, id: string): Promise<Awaited<ReturnType<typeof compareTable>>> {
  await connection.query('DROP TABLE IF EXISTS public.account_before');
  await connection.query('CREATE TABLE public.account_before AS SELECT * FROM verify.account WHERE "Id" = $1', [id]);
  await connection.query(`UPDATE verify.account SET ${set} WHERE "Id" = $1`, [id]);
  try {
    return await compareTable(emulator, destination, 'account');
  } finally {
    await connection.query('DELETE FROM verify.account WHERE "Id" = $1', [id]);
    await connection.query('INSERT INTO verify.account SELECT * FROM public.account_before');
  }
}

describe('the convergence check compares values', () => {
  it('finds every column of every row equal after a sync the product read and wrote', async () => {
    for (const table of TABLES) {
      const difference = await compareTable(emulator, destination, table);
      expect(difference.wrongValues).toEqual([]);
      expect(isEqual(difference)).toBe(true);
      expect(difference.sourceRows).toBeGreaterThan(30);
    }
  });

  it.each([
    ['a string', `name = 'written wrong'`, 'name', /^expected ".+", got "written wrong"$/],
    ['a lookup type', `owneridtype = NULL`, 'owneridtype', /^expected "systemuser", got NULL$/],
    [
      'a lookup type (DES _entitytype)',
      `ownerid_entitytype = 'team'`,
      'ownerid_entitytype',
      /^expected "systemuser", got "team"$/,
    ],
    ['a money value by a cent', `revenue = revenue + 0.01`, 'revenue', /^expected "\d+\.\d{2}", got "\d+\.\d{2}"$/],
    [
      'a date-time by one second',
      `modifiedon = modifiedon + interval '1 second'`,
      'modifiedon',
      /^expected "[\dT:.-]+Z", got "[\dT:.-]+Z"$/,
    ],
    [
      'a date-only value by a day',
      `sample_foundedon = sample_foundedon + interval '1 day'`,
      'sample_foundedon',
      /^expected "[\dT:.-]+Z", got "[\dT:.-]+Z"$/,
    ],
  ])('reports %s written wrong, and only that', async (_what, set, column, message) => {
    const id = await fullAccount();
    const difference = await corrupted(set, id);
    expect(versionsEqual(difference)).toBe(true);
    expect(difference.wrongValueCount).toBe(1);
    const [line] = difference.wrongValues;
    expect(line?.startsWith(`account ${id} ${column}: `)).toBe(true);
    expect(line?.slice(`account ${id} ${column}: `.length)).toMatch(message);
    expect(isEqual(await compareTable(emulator, destination, 'account'))).toBe(true);
  });

  it('reports a stale row by id, without its values', async () => {
    const id = await fullAccount();
    const stale = await corrupted('versionnumber = versionnumber - 1', id);
    expect(stale.missingOrStale).toEqual([id]);
    expect(stale.wrongValueCount).toBe(0);
  });
});

describe('values in their compared form', () => {
  it('rounds decimals half away from zero on the decimal digits, as numeric(p, s) does', () => {
    expect(decimalText(1.005, 2)).toBe('1.01');
    expect(decimalText('-1.005', 2)).toBe('-1.01');
    expect(decimalText(-0.004, 2)).toBe('0.00');
    expect(decimalText(5e-7, 6)).toBe('0.000001');
    expect(decimalText(1e21, 0)).toBe('1000000000000000000000');
    expect(decimalText('123.4500', 4)).toBe('123.4500');
    expect(decimalText('abc', 2)).toMatch(/^unreadable/);
  });

  it('reads booleans, date-times and empty strings the way each destination holds them', () => {
    expect(cell({ kind: 'bit' }, 'True', 'lake')).toBe(cell({ kind: 'bit' }, true, 'sql'));
    expect(cell({ kind: 'datetime' }, '2024-05-01T10:00:00.0000000+00:00', 'lake')).toBe('2024-05-01T10:00:00.000Z');
    expect(cell({ kind: 'datetime' }, '2024-05-01 10:00:00', 'sql')).toBe('2024-05-01T10:00:00.000Z');
    expect(cell({ kind: 'datetime' }, '2024-05-01', 'sql')).toBe('2024-05-01T00:00:00.000Z');
    expect(cell({ kind: 'string', length: 10 }, '', 'lake')).toBeNull();
    expect(cell({ kind: 'string', length: 10 }, '', 'sql')).toBe('');
    expect(cell({ kind: 'guid' }, 'ABCDEF00-0000-0000-0000-000000000000', 'sql')).toBe(
      'abcdef00-0000-0000-0000-000000000000',
    );
  });
});
