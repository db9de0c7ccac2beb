/**
 * The dialect contract for batches that update rows already in the table. On a PostgreSQL server a batch of full
 * rows replaces them (a DELETE and a COPY; shared/destinations/sql/postgres-replace.ts) and every other batch goes
 * through staging; PGlite and SQL Server upsert. Every path must give exactly these rows and counts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RowUpsert, WebApiRow } from '../../shared/dataverse/changes';
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { createSqlDestination, type SqlDestination } from '../../shared/destinations/sql/destination';
import { sampleTable } from '../../local/sample-org';
import { accountUpsert, type ContractTarget } from './contract';

const account = sampleTable('account');

const without = (upsert: RowUpsert, ...properties: string[]): RowUpsert => {
  const row = { ...upsert.row };
  for (const property of properties) delete row[property];
  return { ...upsert, row };
};

/** Long enough for the statement clock (UTC, milliseconds read back) to move between two batches. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 30));

export function describeUpdateContract(name: string, target: () => ContractTarget | undefined): void {
  describe(`SQL destination update contract: ${name}`, () => {
    let serial = 0;
    const open: Array<{ close(): Promise<void> }> = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((item) => item.close()));
    });

    async function setup(tables: TableMetadata[] = [account]) {
      const { dialect, connect } = target() as ContractTarget;
      const connection = await connect();
      serial += 1;
      const schema = `u${process.pid}x${serial}`;
      const destination: SqlDestination = createSqlDestination(connection, dialect, {
        schema,
        prefix: 'crm',
        writeDeleteLog: true,
        widenOverlongStrings: true,
      });
      open.push(destination);
      await destination.ensureTables(tables, []);
      const q = (identifier: string) => dialect.quote(identifier);
      const apply = (upserts: RowUpsert[], deletes: Array<{ id: string; versionNumber: number }> = []) =>
        destination.applyBatch(account, { upserts, deletes });
      const rowsById = async () => new Map((await destination.readRows('account')).map((row) => [row.Id, row]));
      return { destination, connection, dialect, q, table: `${q(schema)}.${q('crm_account')}`, apply, rowsById };
    }

    it('keeps the SinkCreatedOn of every row an update batch replaces, and moves its SinkModifiedOn', async () => {
      const { connection, q, table, apply, rowsById } = await setup();
      const indexes = Array.from({ length: 40 }, (_, index) => index);
      expect(await apply(indexes.map((index) => accountUpsert(index, 10)))).toMatchObject({ upserted: 40 });
      // A row from before the export (a DES table): no version, no sink times.
      const unversioned = '00000000-0000-4000-8000-0000000000ab';
      await connection.query(`INSERT INTO ${table} (${q('Id')}, ${q('name')}) VALUES ('${unversioned}', 'old')`);
      const before = await rowsById();
      await tick();
      // The first update batch after new ones, then one more: the second finds the path already expecting updates.
      for (const version of [20, 30]) {
        const upserts = indexes.map((index) => accountUpsert(index, version, { name: `v${version} ${index}` }));
        const unversionedUpsert = { ...accountUpsert(99, version, { name: `v${version}` }), id: unversioned };
        expect(await apply([...upserts, unversionedUpsert])).toMatchObject({
          upserted: 41,
          skippedAsStale: 0,
          failed: [],
        });
      }
      const after = await rowsById();
      expect(after.size).toBe(41);
      for (const index of indexes) {
        const id = accountUpsert(index, 1).id;
        const [old, now] = [before.get(id), after.get(id)];
        expect(now).toMatchObject({ name: `v30 ${index}`, versionnumber: 30, SinkCreatedOn: old?.SinkCreatedOn });
        expect(String(now?.SinkModifiedOn) > String(old?.SinkModifiedOn)).toBe(true);
      }
      expect(after.get(unversioned)).toMatchObject({ name: 'v30', versionnumber: 30, SinkCreatedOn: null });
      expect(after.get(unversioned)?.SinkModifiedOn).not.toBeNull();
    });

    it('gives exactly the expected rows for a batch of new, newer, stale, tombstoned and under-the-floor rows', async () => {
      const { destination, connection, q, table, apply, rowsById } = await setup();
      const present = [0, 1, 2, 3].map((index) => accountUpsert(index, 10, { name: `ten ${index}` }));
      const [deletedLater, recreated, deletedLate] = [accountUpsert(5, 10), accountUpsert(6, 10), accountUpsert(7, 10)];
      await apply([...present, deletedLater, recreated, deletedLate]);
      const unversioned = '00000000-0000-4000-8000-0000000000ac';
      await connection.query(`INSERT INTO ${table} (${q('Id')}, ${q('name')}) VALUES ('${unversioned}', 'old')`);
      expect(
        await apply(
          [],
          [deletedLater, recreated, deletedLate].map((upsert) => ({
            id: upsert.id,
            versionNumber: upsert === deletedLate ? 800 : 20,
          })),
        ),
      ).toMatchObject({ deleted: 3 });
      // A resync up to version 500 that saw every row present: the table's version floor is 500 from now on.
      const sweep = destination.resync;
      await sweep.start('account');
      await sweep.markSeen('account', [...present.map((upsert) => upsert.id), unversioned]);
      expect(await sweep.sweep(account, 500)).toBe(0);
      await sweep.finish('account');
      const created = new Map([...(await rowsById())].map(([id, row]) => [id, row.SinkCreatedOn]));
      await tick();

      const upsert = (index: number, version: number, patch: WebApiRow = {}) =>
        accountUpsert(index, version, { name: `${version} ${index}`, ...patch });
      const batch = [
        upsert(10, 600), // new, above the floor: inserted
        upsert(11, 400), // new, at or below the floor and not seen by the resync: stale
        upsert(0, 600), // present, newer: replaced
        upsert(1, 5), // present, older: stale
        upsert(2, 10), // present, same version: stale
        upsert(3, 300), // present, newer but below the floor: replaced (the floor is for rows not there)
        { ...upsert(12, 450), id: unversioned }, // present without a version: replaced
        upsert(5, 15), // tombstoned at 20: stale
        upsert(6, 700), // tombstoned at 20, recreated later: inserted
        upsert(7, 750), // tombstoned at 800, above the floor: stale
      ];
      expect(await apply(batch)).toMatchObject({ upserted: 5, skippedAsStale: 5, deleted: 0, failed: [] });
      const rows = await rowsById();
      const summary = [...rows].map(([id, row]) => [id, row.name, row.versionnumber]).sort();
      expect(summary).toEqual(
        [
          [upsert(10, 1).id, '600 10', 600],
          [upsert(0, 1).id, '600 0', 600],
          [upsert(1, 1).id, 'ten 1', 10],
          [upsert(2, 1).id, 'ten 2', 10],
          [upsert(3, 1).id, '300 3', 300],
          [unversioned, '450 12', 450],
          [upsert(6, 1).id, '700 6', 700],
        ].sort(),
      );
      // Replaced rows keep their creation time; rows inserted get a new one.
      for (const index of [0, 1, 2, 3])
        expect(rows.get(upsert(index, 1).id)?.SinkCreatedOn).toBe(created.get(upsert(index, 1).id));
      expect(rows.get(unversioned)?.SinkCreatedOn).toBeNull();
      expect(String(rows.get(upsert(10, 1).id)?.SinkCreatedOn) > String(created.get(upsert(0, 1).id))).toBe(true);
      // The same batch again changes nothing.
      expect(await apply(batch)).toMatchObject({ upserted: 0, skippedAsStale: 10 });
    });

    it('isolates a bad row and widens for a long value in an update batch, each row replaced once', async () => {
      const { apply, rowsById } = await setup();
      const indexes = Array.from({ length: 200 }, (_, index) => 300 + index);
      await apply(indexes.map((index) => accountUpsert(index, 10)));
      const before = await rowsById();
      const upserts = indexes.map((index) => accountUpsert(index, 20, { name: `twenty ${index}` }));
      const [bad, long] = [accountUpsert(303, 20, { numberofemployees: 'many' }), accountUpsert(490, 20)];
      upserts[3] = bad;
      upserts[190] = { ...long, row: { ...long.row, emailaddress1: 'z'.repeat(150) } };
      const result = await apply(upserts);
      expect(result).toMatchObject({
        upserted: 199,
        skippedAsStale: 0,
        widened: [{ column: 'emailaddress1', from: 'string(100)', to: 'string(256)' }],
      });
      expect(result.failed).toEqual([{ id: bad.id, changeType: 'upsert', reason: expect.any(String) }]);
      const after = await rowsById();
      expect(after.size).toBe(200);
      // The failed row is as it was; every other row is the new version, created when it was first written.
      expect(after.get(bad.id)).toMatchObject({ versionnumber: 10, SinkCreatedOn: before.get(bad.id)?.SinkCreatedOn });
      expect(after.get(long.id)?.emailaddress1).toBe('z'.repeat(150));
      for (const index of indexes.filter((index) => index !== 303)) {
        const id = accountUpsert(index, 1).id;
        expect(after.get(id)).toMatchObject({ versionnumber: 20, SinkCreatedOn: before.get(id)?.SinkCreatedOn });
      }
    });

    it('leaves alone, in an update batch whose rows leave columns out, the values back-filled into those columns', async () => {
      const { destination, apply, rowsById } = await setup();
      const indexes = [20, 21, 22];
      await apply(indexes.map((index) => without(accountUpsert(index, 10), 'telephone1')));
      expect(
        await destination.fillColumns?.(
          account,
          ['telephone1'],
          indexes.map((index) => accountUpsert(index, 10, { telephone1: `filled ${index}` })),
        ),
      ).toBe(3);
      const before = await rowsById();
      // Polled with a $select from before telephone1 was added: the batch's rows do not carry it.
      const result = await apply(
        indexes.map((index) => without(accountUpsert(index, 20, { name: `renamed ${index}` }), 'telephone1')),
      );
      expect(result).toMatchObject({ upserted: 3, skippedAsStale: 0, failed: [] });
      const after = await rowsById();
      for (const index of indexes) {
        const id = accountUpsert(index, 1).id;
        expect(after.get(id)).toMatchObject({
          name: `renamed ${index}`,
          telephone1: `filled ${index}`,
          versionnumber: 20,
          SinkCreatedOn: before.get(id)?.SinkCreatedOn,
        });
      }
    });

    it('leaves alone, in an update batch of full rows, a column the table has and the metadata does not', async () => {
      const { connection, dialect, q, table, apply, rowsById } = await setup();
      const indexes = [30, 31];
      await apply(indexes.map((index) => accountUpsert(index, 10)));
      // Added by hand after this process read the table (its layout is cached), and filled.
      await connection.query(
        `ALTER TABLE ${table} ADD ${q('note')} ${dialect.typeSql({ kind: 'string', length: 40 })}`,
      );
      await connection.query(`UPDATE ${table} SET ${q('note')} = 'kept'`);
      expect(await apply(indexes.map((index) => accountUpsert(index, 20, { name: 'twenty' })))).toMatchObject({
        upserted: 2,
      });
      const rows = [...(await rowsById()).values()];
      expect(rows.map((row) => [row.name, row.note, row.versionnumber])).toEqual([
        ['twenty', 'kept', 20],
        ['twenty', 'kept', 20],
      ]);
    });

    it('keeps the rows of a table whose foreign key points at the updated table (no delete cascades)', async () => {
      const { connection, dialect, q, table, apply } = await setup();
      const parent = accountUpsert(40, 10);
      await apply([parent]);
      const child = table.replace(q('crm_account'), q('child'));
      await connection.query(
        `CREATE TABLE ${child} (${q('ChildId')} ${dialect.typeSql({ kind: 'int' })} PRIMARY KEY, ` +
          `${q('AccountId')} ${dialect.typeSql({ kind: 'guid' })} REFERENCES ${table} (${q('Id')}) ON DELETE CASCADE)`,
      );
      await connection.query(`INSERT INTO ${child} (${q('ChildId')}, ${q('AccountId')}) VALUES (1, '${parent.id}')`);
      expect(await apply([accountUpsert(40, 20, { name: 'twenty' })])).toMatchObject({ upserted: 1, failed: [] });
      const { rows } = await connection.query(`SELECT ${q('ChildId')} FROM ${child}`);
      expect(rows.map((row) => Number(row.ChildId))).toEqual([1]);
      await connection.query(`DROP TABLE ${child}`);
    });
  });
}
