/**
 * An activity and its parties through the real mapping into PGlite: the Regarding lookup becomes
 * `regardingobjectid` + `regardingobjectid_entitytype` (from the lookuplogicalname annotation), PartyList
 * columns get no column, and the parties land as activityparty rows, as DES had them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowUpsert } from '../../shared/dataverse/changes';
import type { TableMetadata } from '../../shared/dataverse/metadata';
import type { SqlConnection } from '../../shared/destinations/sql/connection';
import { createSqlDestination } from '../../shared/destinations/sql/destination';
import { createPgliteConnection } from '../../shared/destinations/sql/pglite-connection';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
import { sampleCounts, sampleRow, sampleRowId, sampleTable, toWebApiRow } from '../../local/sample-org';

const SEED = 11;
const counts = sampleCounts(40);
const email = sampleTable('email');
const activityparty = sampleTable('activityparty');

function upsert(table: TableMetadata, index: number): RowUpsert {
  const versionNumber = 9_000 + index;
  const row = toWebApiRow(table, sampleRow(table.logicalName, index, SEED, counts), {
    versionNumber,
    annotations: true,
  });
  return { kind: 'upsert', id: String(row[table.primaryIdAttribute]), versionNumber, row };
}

let database: SqlConnection | undefined;
beforeAll(async () => {
  database = await createPgliteConnection(undefined);
});
afterAll(async () => {
  await database?.close();
});

describe('an email and its activity parties in PGlite', () => {
  it('writes Regarding as id + table, no PartyList column, and each party as an activityparty row', async () => {
    const connection = database as SqlConnection;
    const destination = createSqlDestination({ ...connection, close: async () => undefined }, postgresDialect, {
      schema: 'activities',
      prefix: 'crm',
      writeDeleteLog: false,
      widenOverlongStrings: false,
    });
    const ensured = await destination.ensureTables([email, activityparty], []);
    expect(ensured.failures).toEqual([]);

    const emails = [0, 1, 2, 3].map((index) => upsert(email, index));
    expect((await destination.applyBatch(email, { upserts: emails, deletes: [] })).failed).toEqual([]);
    const parties = [0, 1, 2].map((index) => upsert(activityparty, index));
    expect((await destination.applyBatch(activityparty, { upserts: parties, deletes: [] })).failed).toEqual([]);

    const written = await destination.readTable('crm_email');
    const regarding = written
      .sort((a, b) => Number(a.versionnumber) - Number(b.versionnumber))
      .map((row) => [row.regardingobjectid, row.regardingobjectid_entitytype]);
    expect(regarding).toEqual([
      [sampleRowId(SEED, 'account', 0), 'account'],
      [sampleRowId(SEED, 'contact', 1), 'contact'],
      [sampleRowId(SEED, 'opportunity', 2), 'opportunity'],
      [null, null],
    ]);
    for (const list of ['from', 'to', 'cc']) expect(Object.keys(written[0] ?? {})).not.toContain(list);

    const partyRows = (await destination.readTable('crm_activityparty')).sort(
      (a, b) => Number(a.participationtypemask) - Number(b.participationtypemask),
    );
    expect(
      partyRows.map((row) => ({
        activityid: row.activityid,
        activityid_entitytype: row.activityid_entitytype,
        partyid: row.partyid,
        partyid_entitytype: row.partyid_entitytype,
        participationtypemask: row.participationtypemask,
        addressused: row.addressused,
      })),
    ).toEqual([
      {
        activityid: sampleRowId(SEED, 'email', 0),
        activityid_entitytype: 'activitypointer',
        partyid: sampleRowId(SEED, 'systemuser', 0),
        partyid_entitytype: 'systemuser',
        participationtypemask: 1,
        addressused: null,
      },
      {
        activityid: sampleRowId(SEED, 'email', 0),
        activityid_entitytype: 'activitypointer',
        partyid: sampleRowId(SEED, 'contact', 0),
        partyid_entitytype: 'contact',
        participationtypemask: 2,
        addressused: 'user0@example.com',
      },
      {
        activityid: sampleRowId(SEED, 'email', 0),
        activityid_entitytype: 'activitypointer',
        partyid: sampleRowId(SEED, 'account', 0),
        partyid_entitytype: 'account',
        participationtypemask: 3,
        addressused: null,
      },
    ]);
  });
});
