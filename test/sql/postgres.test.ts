import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgConnection } from '../../shared/destinations/sql/pg-connection';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server';
import { sampleTable } from '../../local/sample-org';
import { createSqlDestination } from '../../shared/destinations/sql/destination';
import type { RowUpsert } from '../../shared/dataverse/changes';
import { accountUpsert, describeDestinationContract } from './contract';
import { describeUpdateContract } from './update-contract';

let server: PostgresServer | undefined;
beforeAll(async () => {
  server = await startPostgresServer();
});
afterAll(async () => {
  await server?.stop();
});

const serverTarget = () =>
  server && { dialect: postgresDialect, connect: () => createPgConnection(server?.connectionString ?? '', 4) };
describeDestinationContract('PostgreSQL 15 server', serverTarget);
describeUpdateContract('PostgreSQL 15 server', serverTarget);

describe('a PostgreSQL server that drops the connection', () => {
  it('fails the transaction it was in, without crashing the process, and the pool goes on with a new connection', async () => {
    const connectionString = server?.connectionString ?? '';
    const connection = await createPgConnection(connectionString, 1);
    const admin = new Client({ connectionString });
    await admin.connect();
    try {
      const transaction = connection.transaction(async (tx) => {
        const { rows } = await tx.query('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        // Between two queries, as while a batch is prepared: the client learns of the loss here, with no one listening.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await tx.query('SELECT 1');
      });
      await expect(transaction).rejects.toThrow();
      expect((await connection.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
      await connection.close();
    }
  });

  it('survives connections dropped at any moment, also while a transaction is being checked out', async () => {
    const connectionString = server?.connectionString ?? '';
    const connection = await createPgConnection(connectionString, 4);
    const admin = new Client({ connectionString, application_name: 'dropper' });
    await admin.connect();
    let dropping = true;
    const dropper = (async () => {
      while (dropping) {
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        );
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
      }
    })();
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, async () => {
          let committed = 0;
          for (let attempt = 0; attempt < 60; attempt++) {
            await connection
              .transaction((tx) => tx.query('SELECT 1'))
              .then(
                () => committed++,
                () => undefined,
              );
          }
          return committed;
        }),
      );
      dropping = false;
      await dropper;
      expect(outcomes.reduce((sum, committed) => sum + committed, 0)).toBeGreaterThan(0);
      expect((await connection.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      dropping = false;
      await dropper;
      await admin.end();
      await connection.close();
    }
  });
});

describe('a PostgreSQL table that lost its primary key after activation', () => {
  it('is refused when an applier builds its layout, instead of collecting a second copy of a row', async () => {
    const connection = await createPgConnection(server?.connectionString ?? '', 2);
    const options = { schema: 'lostkey', prefix: '', writeDeleteLog: false, widenOverlongStrings: true };
    try {
      const account = sampleTable('account');
      await createSqlDestination(connection, postgresDialect, options).ensureTables([account], []);
      await connection.query('ALTER TABLE "lostkey"."account" DROP CONSTRAINT "account_pkey"');
      // An applier in another process: its layout is built from the table as it is now.
      const applier = createSqlDestination(connection, postgresDialect, options);
      const upsert = accountUpsert(1, 10);
      await expect(applier.applyBatch(account, { upserts: [upsert], deletes: [] })).rejects.toMatchObject({
        errorClass: 'schema',
        message: expect.stringContaining('lostkey.account has no primary key, not on Id'),
      });
      expect(await applier.countRows('account')).toBe(0);
    } finally {
      await connection.query('DROP SCHEMA IF EXISTS "lostkey" CASCADE');
      await connection.close();
    }
  });
});

describe('a Dataverse table copy on a PostgreSQL server', () => {
  it('leaves room in its pages, so a row updated through staging stays on its page instead of moving to the end of the table', async () => {
    const connection = await createPgConnection(server?.connectionString ?? '', 2);
    const destination = createSqlDestination(connection, postgresDialect, {
      schema: 'inplace',
      prefix: '',
      writeDeleteLog: false,
      widenOverlongStrings: true,
    });
    // The heap block of each row version (the first half of its ctid).
    const blocks = async (): Promise<Map<string, number>> => {
      const { rows } = await connection.query(
        `SELECT "Id"::text AS id, (ctid::text::point)[0]::int AS block FROM "inplace"."account"`,
      );
      return new Map(rows.map((row) => [String(row.id), Number(row.block)]));
    };
    try {
      const account = sampleTable('account');
      await destination.ensureTables([account], []);
      const inserted = Array.from({ length: 60 }, (_, index) => accountUpsert(index, 100 + index));
      expect((await destination.applyBatch(account, { upserts: inserted, deletes: [] })).upserted).toBe(60);
      const before = await blocks();
      // A delta's update of one row in four: with full pages each new version would go to a new page. Its rows
      // leave a column out, so the update goes through staging (a batch of full rows replaces them instead).
      const updated = inserted
        .filter((_, index) => index % 4 === 0)
        .map((upsert) => {
          const { telephone1: _left, ...row } = upsert.row;
          return { ...upsert, row, versionNumber: upsert.versionNumber + 1_000 };
        });
      expect((await destination.applyBatch(account, { upserts: updated, deletes: [] })).upserted).toBe(15);
      const after = await blocks();
      const blockOf = (rows: Map<string, number>, id: string) => rows.get(id.toLowerCase());
      const moved = updated.filter((upsert) => blockOf(after, upsert.id) !== blockOf(before, upsert.id)).length;
      const found = updated.filter((upsert) => blockOf(before, upsert.id) !== undefined).length;
      expect({ found, pages: new Set(before.values()).size > 1, moved }).toEqual({ found: 15, pages: true, moved: 0 });
    } finally {
      await connection.query('DROP SCHEMA IF EXISTS "inplace" CASCADE');
      await destination.close();
    }
  }, 60_000);
});

/** A destination on the throwaway server writing into `schema`, without a prefix or delete log. */
async function serverDestination(schema: string) {
  const connection = await createPgConnection(server?.connectionString ?? '', 2);
  const destination = createSqlDestination(connection, postgresDialect, {
    schema,
    prefix: '',
    writeDeleteLog: false,
    widenOverlongStrings: true,
  });
  return { connection, destination };
}

describe('an update batch on a PostgreSQL server', () => {
  it('replaces only its own rows in a table a DBA partitioned (a location is unique only within one partition)', async () => {
    const { connection, destination } = await serverDestination('partitioned');
    try {
      const account = sampleTable('account');
      await destination.ensureTables([account], []);
      const apply = (upserts: RowUpsert[]) => destination.applyBatch(account, { upserts, deletes: [] });
      const indexes = Array.from({ length: 40 }, (_, index) => index);
      expect(await apply(indexes.map((index) => accountUpsert(index, 10)))).toMatchObject({ upserted: 40 });
      // The same columns and primary key, hash-partitioned on Id: each partition numbers its rows' locations from 1.
      await connection.query(`ALTER TABLE "partitioned"."account" RENAME TO "flat"`);
      await connection.query(
        `CREATE TABLE "partitioned"."account" (LIKE "partitioned"."flat" INCLUDING ALL) PARTITION BY HASH ("Id")`,
      );
      for (const remainder of [0, 1]) {
        await connection.query(
          `CREATE TABLE "partitioned"."account_${remainder}" PARTITION OF "partitioned"."account" FOR VALUES WITH (MODULUS 2, REMAINDER ${remainder})`,
        );
      }
      await connection.query(`INSERT INTO "partitioned"."account" SELECT * FROM "partitioned"."flat"`);
      const updated = indexes.slice(0, 5).map((index) => accountUpsert(index, 20, { name: `v20 ${index}` }));
      expect(await apply(updated)).toMatchObject({ upserted: 5, skippedAsStale: 0, failed: [] });
      const { rows } = await connection.query(`SELECT "name", "versionnumber" FROM "partitioned"."account"`);
      expect(rows).toHaveLength(40);
      expect(rows.filter((row) => Number(row.versionnumber) === 20)).toHaveLength(5);
    } finally {
      await connection.query('DROP SCHEMA IF EXISTS "partitioned" CASCADE');
      await destination.close();
    }
  }, 60_000);

  it('reaches the table as DELETE and INSERT when its rows are full, as UPDATE when they leave columns out', async () => {
    const { connection, destination } = await serverDestination('replaced');
    try {
      const account = sampleTable('account');
      await destination.ensureTables([account], []);
      // What a row trigger (or logical replication) downstream sees of each batch.
      await connection.query(`CREATE TABLE "replaced"."seen" ("n" serial PRIMARY KEY, "op" text, "name" text)`);
      await connection.query(
        `CREATE FUNCTION "replaced"."record"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ` +
          `INSERT INTO "replaced"."seen" ("op", "name") VALUES (TG_OP, CASE WHEN TG_OP = 'DELETE' THEN OLD."name" ELSE NEW."name" END); ` +
          `RETURN NULL; END $$`,
      );
      await connection.query(
        `CREATE TRIGGER "record" AFTER INSERT OR UPDATE OR DELETE ON "replaced"."account" FOR EACH ROW EXECUTE FUNCTION "replaced"."record"()`,
      );
      const seen = async () => {
        const { rows } = await connection.query(`DELETE FROM "replaced"."seen" RETURNING "n", "op", "name"`);
        return rows.sort((a, b) => Number(a.n) - Number(b.n)).map((row) => `${String(row.op)} ${String(row.name)}`);
      };
      const apply = (upserts: RowUpsert[]) => destination.applyBatch(account, { upserts, deletes: [] });
      expect(await apply([accountUpsert(1, 10, { name: 'one' }), accountUpsert(2, 10, { name: 'two' })])).toMatchObject(
        {
          upserted: 2,
        },
      );
      expect(await seen()).toEqual(['INSERT one', 'INSERT two']);
      // Full rows: one newer, one stale, one new.
      const full = [
        accountUpsert(1, 20, { name: 'one again' }),
        accountUpsert(2, 5),
        accountUpsert(3, 20, { name: 'three' }),
      ];
      expect(await apply(full)).toMatchObject({ upserted: 2, skippedAsStale: 1 });
      expect(await seen()).toEqual(['DELETE one', 'INSERT one again', 'INSERT three']);
      const { telephone1: _left, ...partialRow } = accountUpsert(2, 30, { name: 'two again' }).row;
      expect(await apply([{ ...accountUpsert(2, 30), row: partialRow }])).toMatchObject({ upserted: 1 });
      expect(await seen()).toEqual(['UPDATE two again']);
    } finally {
      await connection.query('DROP SCHEMA IF EXISTS "replaced" CASCADE');
      await destination.close();
    }
  }, 60_000);
});
