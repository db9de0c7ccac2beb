/**
 * The dialect contract: every SQL destination (PGlite, PostgreSQL server, SQL Server) must give exactly
 * these results. Each test works in its own schema, so one database serves the whole suite.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RowUpsert, WebApiRow } from '../../shared/dataverse/changes';
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { ExportError } from '../../shared/errors';
import type { SqlConnection } from '../../shared/destinations/sql/connection';
import { createSqlDestination, type SqlDestination } from '../../shared/destinations/sql/destination';
import type { SqlDialect } from '../../shared/destinations/sql/dialect';
import {
  LOOKUP_LOGICAL_NAME,
  sampleCounts,
  sampleRelationships,
  sampleRow,
  sampleTable,
  sampleTables,
  toWebApiRow,
} from '../../local/sample-org';

export interface ContractTarget {
  dialect: SqlDialect;
  connect(): Promise<SqlConnection>;
}

const SEED = 7;
const counts = sampleCounts(2_000);
const account = sampleTable('account');
const contact = sampleTable('contact');

export function accountUpsert(index: number, versionNumber: number, patch: WebApiRow = {}): RowUpsert {
  const row = {
    ...toWebApiRow(account, sampleRow('account', index, SEED, counts), { versionNumber, annotations: true }),
    ...patch,
  };
  return { kind: 'upsert', id: String(row.accountid), versionNumber, row };
}

const CONTACT_ID = '6f1c0a4e-5b1d-4c55-9a43-0c1d2e3f4a5b';
const ACCOUNT_ID = '0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d';
const CURRENCY_ID = '11111111-2222-4333-8444-555555555555';
const USER_ID = '99999999-8888-4777-a666-555555555555';
const TEAM_ID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

/** A contact exactly as the Web API returns it with annotations. */
const contactRow: WebApiRow = {
  '@odata.etag': 'W/"5001"',
  contactid: CONTACT_ID,
  firstname: 'Ana',
  lastname: "O'Brien",
  fullname: "Ana O'Brien",
  emailaddress1: 'ana@example.com',
  jobtitle: null,
  birthdate: '1990-05-17',
  _parentcustomerid_value: ACCOUNT_ID,
  [`_parentcustomerid_value${LOOKUP_LOGICAL_NAME}`]: 'account',
  'annualincome@OData.Community.Display.V1.FormattedValue': '€52,000.50',
  annualincome: 52000.5,
  _transactioncurrencyid_value: CURRENCY_ID,
  [`_transactioncurrencyid_value${LOOKUP_LOGICAL_NAME}`]: 'transactioncurrency',
  donotphone: false,
  preferredcontactmethodcode: 2,
  createdon: '2023-04-07T21:59:01Z',
  modifiedon: '2023-04-08T08:00:00Z',
  _createdby_value: USER_ID,
  [`_createdby_value${LOOKUP_LOGICAL_NAME}`]: 'systemuser',
  _modifiedby_value: null,
  _ownerid_value: TEAM_ID,
  [`_ownerid_value${LOOKUP_LOGICAL_NAME}`]: 'team',
  statecode: 0,
  statuscode: 1,
  versionnumber: 5001,
};

const expectedContact = {
  Id: CONTACT_ID,
  contactid: CONTACT_ID,
  firstname: 'Ana',
  lastname: "O'Brien",
  fullname: "Ana O'Brien",
  emailaddress1: 'ana@example.com',
  jobtitle: null,
  birthdate: '1990-05-17T00:00:00.000Z',
  parentcustomerid: ACCOUNT_ID,
  parentcustomerid_entitytype: 'account',
  annualincome: 52000.5,
  transactioncurrencyid: CURRENCY_ID,
  transactioncurrencyid_entitytype: 'transactioncurrency',
  donotphone: false,
  preferredcontactmethodcode: 2,
  createdon: '2023-04-07T21:59:01.000Z',
  modifiedon: '2023-04-08T08:00:00.000Z',
  createdby: USER_ID,
  createdby_entitytype: 'systemuser',
  modifiedby: null,
  modifiedby_entitytype: null,
  ownerid: TEAM_ID,
  ownerid_entitytype: 'team',
  owneridtype: 'team',
  statecode: 0,
  statuscode: 1,
  versionnumber: 5001,
};

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function describeDestinationContract(name: string, target: () => ContractTarget | undefined): void {
  describe(`SQL destination contract: ${name}`, () => {
    let serial = 0;
    const open: Array<{ close(): Promise<void> }> = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((item) => item.close()));
    });

    async function setup(
      options: { writeDeleteLog?: boolean; widenOverlongStrings?: boolean; tables?: TableMetadata[] } = {},
    ) {
      const { dialect, connect } = target() as ContractTarget;
      const connection = await connect();
      serial += 1;
      const schema = `c${process.pid}x${serial}`;
      const prefix = 'crm';
      const destination: SqlDestination = createSqlDestination(connection, dialect, {
        schema,
        prefix,
        writeDeleteLog: options.writeDeleteLog ?? true,
        widenOverlongStrings: options.widenOverlongStrings ?? true,
      });
      open.push(destination);
      const ensured = await destination.ensureTables(options.tables ?? sampleTables, sampleRelationships);
      const q = (identifier: string) => dialect.quote(identifier);
      return {
        destination,
        connection,
        dialect,
        schema,
        prefix,
        ensured,
        q,
        table: (table: string) => `${q(schema)}.${q(`${prefix}_${table}`)}`,
      };
    }

    it('fails a row holding an unpaired UTF-16 surrogate alike on every dialect, and applies the rest', async () => {
      const { destination } = await setup({ tables: [account] });
      const broken = accountUpsert(1, 10, { name: 'half a pair \uD83E here' });
      const fine = accountUpsert(2, 10, { name: 'a whole pair 🦀 here' });
      // Only what a column stores is written: a property no column holds cannot break the row.
      const unstored = accountUpsert(3, 10, { 'name@OData.Community.Display.V1.FormattedValue': 'half \uDC00' });
      const result = await destination.applyBatch(account, { upserts: [broken, fine, unstored], deletes: [] });
      expect(result.failed.map((failure) => failure.id)).toEqual([broken.id]);
      expect(result.failed[0]?.reason).toMatch(/'name'.*unpaired UTF-16 surrogate/);
      expect(result.upserted).toBe(2);
    });

    it('creates DES tables and metadata tables from the metadata, and a second run changes nothing', async () => {
      const { destination, ensured } = await setup();
      expect(ensured.failures).toEqual([]);
      expect(ensured.actions.filter((action) => action.action === 'createTable').map((action) => action.table)).toEqual(
        sampleTables.map((table) => table.logicalName),
      );
      const again = await destination.ensureTables(sampleTables, sampleRelationships);
      expect(again.failures).toEqual([]);
      expect(again.actions.map((action) => action.action)).toEqual(['refreshMetadata']);

      expect(await destination.readTable('crm_StateMetadata')).toContainEqual({
        EntityName: 'account',
        State: 1,
        IsUserLocalizedLabel: false,
        LocalizedLabelLanguageCode: 1031,
        LocalizedLabel: 'Inaktiv',
      });
      expect(await destination.readTable('crm_StatusMetadata')).toContainEqual({
        EntityName: 'contact',
        State: 1,
        Status: 2,
        IsUserLocalizedLabel: false,
        LocalizedLabelLanguageCode: 1033,
        LocalizedLabel: 'Inactive',
      });
      expect(await destination.readTable('crm_GlobalOptionsetMetadata')).toContainEqual({
        OptionSetName: 'sample_industry',
        Option: 5,
        IsUserLocalizedLabel: false,
        LocalizedLabelLanguageCode: 1033,
        LocalizedLabel: 'Retail',
        GlobalOptionSetName: 'sample_industry',
        EntityName: 'account',
      });
      const options = await destination.readTable('crm_OptionsetMetadata');
      expect(options).toContainEqual({
        EntityName: 'account',
        OptionSetName: 'sample_channels',
        Option: 4,
        IsUserLocalizedLabel: false,
        LocalizedLabelLanguageCode: 1033,
        LocalizedLabel: 'Social, web & chat',
      });
      expect(options.filter((row) => row.OptionSetName === 'sample_industry')).toEqual([]);
      const targets = await destination.readTable('crm_TargetMetadata');
      expect(targets).toContainEqual({
        EntityName: 'contact',
        AttributeName: 'parentcustomerid',
        ReferencedEntity: 'contact',
        ReferencedAttribute: 'contactid',
      });
      expect(targets).toContainEqual({
        EntityName: 'systemuserroles',
        AttributeName: 'roleid',
        ReferencedEntity: 'role',
        ReferencedAttribute: 'roleid',
      });
      const attributes = await destination.readTable('crm_AttributeMetadata');
      const revenue = attributes.find((row) => row.EntityName === 'account' && row.AttributeName === 'revenue');
      expect(revenue).toMatchObject({
        AttributeType: 'Money',
        AttributeTypeCode: 8,
        Precision: 2,
        MetadataId: account.columns.find((c) => c.logicalName === 'revenue')?.metadataId,
      });
      expect(
        attributes.some((row) => row.AttributeName === 'entityimage' || row.AttributeName === 'parentaccountidname'),
      ).toBe(false);
      // Metadata rows are replaced, not appended, on a second run.
      expect(attributes.filter((row) => row.EntityName === 'account' && row.AttributeName === 'name')).toHaveLength(1);
    });

    it('writes a Web API row as the exact DES row', async () => {
      const { destination } = await setup();
      const result = await destination.applyBatch(contact, {
        upserts: [{ kind: 'upsert', id: CONTACT_ID, versionNumber: 5001, row: contactRow }],
        deletes: [],
      });
      expect(result).toEqual({ upserted: 1, deleted: 0, skippedAsStale: 0, failed: [], widened: [] });
      const [row, ...rest] = await destination.readRows('contact');
      expect(rest).toEqual([]);
      const { SinkCreatedOn, SinkModifiedOn, ...values } = row ?? {};
      expect(values).toEqual(expectedContact);
      expect(SinkCreatedOn).toMatch(ISO_TIME);
      expect(SinkModifiedOn).toMatch(ISO_TIME);
    });

    it('stores decimals JavaScript writes with an exponent, at the column scale', async () => {
      const { destination } = await setup({ tables: [account] });
      const tiny = accountUpsert(40, 1, { exchangerate: 5e-7 });
      const small = accountUpsert(41, 1, { exchangerate: 1.2345e-6 });
      expect(await destination.applyBatch(account, { upserts: [tiny, small], deletes: [] })).toMatchObject({
        upserted: 2,
        failed: [],
      });
      const rates = new Map((await destination.readRows('account')).map((row) => [row.Id, row.exchangerate]));
      expect([rates.get(tiny.id), rates.get(small.id)]).toEqual([5e-7, 1.2345e-6]);
    });

    it('applies only newer versions: duplicates and out-of-order deliveries are no-ops', async () => {
      const { destination } = await setup();
      const v5 = accountUpsert(1, 5, { name: 'version five' });
      expect(await destination.applyBatch(account, { upserts: [v5, accountUpsert(2, 5)], deletes: [] })).toMatchObject({
        upserted: 2,
        skippedAsStale: 0,
      });
      const older = accountUpsert(1, 3, { name: 'version three' });
      expect(await destination.applyBatch(account, { upserts: [older, v5], deletes: [] })).toMatchObject({
        upserted: 0,
        skippedAsStale: 2,
      });
      const newer = accountUpsert(1, 7, { name: 'version seven' });
      // The same id twice in one batch: the newest wins, the other counts as stale.
      expect(
        await destination.applyBatch(account, { upserts: [newer, accountUpsert(1, 6, { name: 'six' })], deletes: [] }),
      ).toMatchObject({
        upserted: 1,
        skippedAsStale: 1,
      });
      const rows = await destination.readRows('account');
      expect(rows.map((row) => [row.Id, row.name, row.versionnumber]).sort()).toEqual(
        [
          [v5.id, 'version seven', 7],
          [accountUpsert(2, 5).id, accountUpsert(2, 5).row.name, 5],
        ].sort(),
      );
      const first = rows.find((row) => row.Id === v5.id);
      expect(first?.SinkModifiedOn).not.toBeNull();
    });

    it('back-fills a column into rows at or below the version read, never over a newer row, never inserting', async () => {
      const { destination } = await setup();
      const [present, newer, absent] = [
        accountUpsert(20, 5, { name: 'before' }),
        accountUpsert(21, 9, { name: 'nine' }),
        accountUpsert(22, 1),
      ];
      await destination.applyBatch(account, { upserts: [present, newer], deletes: [] });
      const filled = await destination.fillColumns?.(
        account,
        ['name'],
        [accountUpsert(20, 5, { name: 'filled' }), accountUpsert(21, 7, { name: 'older read' }), absent],
      );
      expect(filled).toBe(1);
      const rows = await destination.readRows('account');
      expect(rows.map((row) => [row.Id, row.name, row.versionnumber]).sort()).toEqual(
        [
          [present.id, 'filled', 5],
          [newer.id, 'nine', 9],
        ].sort(),
      );
    });

    it('keeps deletes deleted: a late older upsert cannot resurrect the row, and the DES delete-log check holds', async () => {
      const { destination, connection, dialect, q, table } = await setup();
      const [first, second] = [accountUpsert(10, 100), accountUpsert(11, 100)];
      await destination.applyBatch(account, { upserts: [first, second], deletes: [] });
      expect(
        await destination.applyBatch(account, { upserts: [], deletes: [{ id: first.id, versionNumber: 150 }] }),
      ).toMatchObject({ deleted: 1 });
      const late = await destination.applyBatch(account, { upserts: [accountUpsert(10, 120)], deletes: [] });
      expect(late).toMatchObject({ upserted: 0, skippedAsStale: 1 });
      // A repeated delete is stale; a delete of an id never seen is recorded (the row may still arrive late).
      const unknown = '00000000-0000-4000-8000-000000000001';
      expect(
        await destination.applyBatch(account, {
          upserts: [],
          deletes: [
            { id: first.id, versionNumber: 150 },
            { id: unknown, versionNumber: 150 },
          ],
        }),
      ).toMatchObject({
        deleted: 1,
        skippedAsStale: 1,
      });
      expect(
        await destination.applyBatch(account, { upserts: [{ ...accountUpsert(0, 140), id: unknown }], deletes: [] }),
      ).toMatchObject({ upserted: 0 });
      expect((await destination.readRows('account')).map((row) => row.Id)).toEqual([second.id]);

      const log = await destination.readTable('crm_DeleteLog');
      expect(log.map(({ EntityName, RecordId, VersionNumber }) => ({ EntityName, RecordId, VersionNumber }))).toEqual([
        { EntityName: 'account', RecordId: first.id, VersionNumber: 150 },
        { EntityName: 'account', RecordId: unknown, VersionNumber: 150 },
      ]);
      // The check from the DES documentation: rows whose delete-log entry is newer than the row itself.
      const idAsText = dialect.name === 'mssql' ? `t.${q('Id')}` : `CAST(t.${q('Id')} AS varchar(64))`;
      const { rows } = await connection.query(
        `SELECT t.${q('Id')} FROM ${table('account')} t INNER JOIN ${table('DeleteLog')} d ON ${idAsText} = d.${q('RecordId')} ` +
          `WHERE d.${q('EntityName')} = 'account' AND t.${q('versionnumber')} < d.${q('VersionNumber')}`,
      );
      expect(rows).toEqual([]);
    });

    it('applies concurrent batches of one table one after another, so a delete never loses to an older upsert', async () => {
      const { destination } = await setup({ tables: [account] });
      const indexes = Array.from({ length: 20 }, (_, offset) => 70 + offset);
      await destination.applyBatch(account, {
        upserts: indexes.map((index) => accountUpsert(index, 100)),
        deletes: [],
      });
      const deletes = indexes.map((index) => ({ id: accountUpsert(index, 100).id, versionNumber: 200 }));
      const results = await Promise.all([
        ...Array.from({ length: 4 }, () =>
          destination.applyBatch(account, { upserts: indexes.map((index) => accountUpsert(index, 150)), deletes: [] }),
        ),
        destination.applyBatch(account, { upserts: [], deletes }),
        ...Array.from({ length: 4 }, () =>
          destination.applyBatch(account, { upserts: indexes.map((index) => accountUpsert(index, 150)), deletes: [] }),
        ),
      ]);
      expect(results.reduce((sum, result) => sum + result.deleted, 0)).toBe(20);
      expect(await destination.countRows('account')).toBe(0);
    });

    it('deletes a row without a version (a table that was there before), as older than any delete', async () => {
      const { destination, connection, q, table } = await setup({ tables: [account] });
      const unversioned = '00000000-0000-4000-8000-0000000000aa';
      await connection.query(`INSERT INTO ${table('account')} (${q('Id')}) VALUES ('${unversioned}')`);
      expect(
        await destination.applyBatch(account, { upserts: [], deletes: [{ id: unversioned, versionNumber: 5 }] }),
      ).toMatchObject({ deleted: 1, skippedAsStale: 0 });
      expect(await destination.countRows('account')).toBe(0);
    });

    it('brings a deleted row back when it is recreated with a newer version', async () => {
      const { destination } = await setup();
      const original = accountUpsert(20, 100, { name: 'original' });
      await destination.applyBatch(account, { upserts: [original], deletes: [] });
      await destination.applyBatch(account, { upserts: [], deletes: [{ id: original.id, versionNumber: 200 }] });
      expect(await destination.countRows('account')).toBe(0);
      const recreated = accountUpsert(20, 201, { name: 'recreated' });
      expect(await destination.applyBatch(account, { upserts: [recreated], deletes: [] })).toMatchObject({
        upserted: 1,
      });
      // A delete older than the recreated row does not remove it.
      expect(
        await destination.applyBatch(account, { upserts: [], deletes: [{ id: original.id, versionNumber: 200 }] }),
      ).toMatchObject({
        deleted: 0,
        skippedAsStale: 1,
      });
      const rows = await destination.readRows('account');
      expect(rows.map((row) => [row.Id, row.name, row.versionnumber])).toEqual([[original.id, 'recreated', 201]]);
      // Delete and recreate in one batch: the newest change wins.
      const both = await destination.applyBatch(account, {
        upserts: [accountUpsert(20, 300, { name: 'again' })],
        deletes: [{ id: original.id, versionNumber: 250 }],
      });
      expect(both).toMatchObject({ upserted: 1, deleted: 0, skippedAsStale: 1 });
      expect((await destination.readRows('account'))[0]?.name).toBe('again');
    });

    it('applies new, existing and mixed batches exactly once, however each batch is written', async () => {
      // PostgreSQL copies a batch it expects to be all new straight into the table, and looks the ids up again
      // when one is there after all: new, then existing ids late in a batch of new ones, new, then existing.
      const { destination } = await setup({ tables: [account] });
      const range = (from: number, to: number, version: number) =>
        Array.from({ length: to - from }, (_, offset) => accountUpsert(from + offset, version));
      const apply = (upserts: RowUpsert[]) => destination.applyBatch(account, { upserts, deletes: [] });
      expect(await apply(range(0, 300, 10))).toMatchObject({ upserted: 300, skippedAsStale: 0, failed: [] });
      expect(await apply([...range(300, 600, 10), ...range(250, 300, 20)])).toMatchObject({
        upserted: 350,
        skippedAsStale: 0,
        failed: [],
      });
      expect(await apply(range(600, 700, 10))).toMatchObject({ upserted: 100, skippedAsStale: 0, failed: [] });
      expect(await apply([...range(0, 100, 5), ...range(100, 200, 30)])).toMatchObject({
        upserted: 100,
        skippedAsStale: 100,
        failed: [],
      });
      expect(await apply([...range(700, 750, 10), ...range(0, 1, 5)])).toMatchObject({
        upserted: 50,
        skippedAsStale: 1,
        failed: [],
      });
      const versions = new Map((await destination.readRows('account')).map((row) => [row.Id, row.versionnumber]));
      const expected = (index: number) => (index >= 100 && index < 200 ? 30 : index >= 250 && index < 300 ? 20 : 10);
      expect(versions.size).toBe(750);
      for (let index = 0; index < 750; index++) expect(versions.get(accountUpsert(index, 1).id)).toBe(expected(index));
    });

    it('sweeps away, at the end of a full resync, the rows the resync did not see, and keeps them deleted', async () => {
      const { destination } = await setup();
      const [kept, vanished, alsoKept] = [accountUpsert(30, 100), accountUpsert(31, 100), accountUpsert(32, 100)];
      await destination.applyBatch(account, { upserts: [kept, vanished, alsoKept], deletes: [] });
      const sweep = destination.resync;
      await sweep.start('account');
      // The resync copies the rows Dataverse still has; one was deleted while the token was expired.
      await destination.applyBatch(account, { upserts: [kept, alsoKept], deletes: [] });
      await sweep.markSeen('account', [kept.id, alsoKept.id]);
      await sweep.markSeen('account', [kept.id]);
      expect(await sweep.sweep(account, 500)).toBe(1);
      expect((await destination.readRows('account')).map((row) => row.Id).sort()).toEqual(
        [kept.id, alsoKept.id].sort(),
      );
      expect((await destination.readTable('crm_DeleteLog')).map((row) => [row.RecordId, row.VersionNumber])).toEqual([
        [vanished.id, 500],
      ]);
      // Swept again, as after a crash before the table's checkpoint moved on: nothing more goes.
      expect(await sweep.sweep(account, 500)).toBe(0);
      expect((await destination.readRows('account')).map((row) => row.Id).sort()).toEqual(
        [kept.id, alsoKept.id].sort(),
      );
      // Its tombstone holds: a late copy from before the gap cannot bring it back; a recreate after it can.
      expect(await destination.applyBatch(account, { upserts: [accountUpsert(31, 400)], deletes: [] })).toMatchObject({
        upserted: 0,
        skippedAsStale: 1,
      });
      expect(await destination.applyBatch(account, { upserts: [accountUpsert(31, 600)], deletes: [] })).toMatchObject({
        upserted: 1,
      });
      // Once the table has left the resync, what it saw is forgotten, so the next resync starts clean.
      await sweep.finish('account');
      expect(await sweep.sweep(account, 700)).toBe(3);
    });

    it('keeps out, after a resync sweep, a late upsert at or below its watermark of a row the resync never saw (version floor)', async () => {
      const { destination } = await setup();
      const [kept, goneBeforeToken] = [accountUpsert(33, 100), accountUpsert(34, 400)];
      const sweep = destination.resync;
      await sweep.start('account');
      await destination.applyBatch(account, { upserts: [kept], deletes: [] });
      await sweep.markSeen('account', [kept.id]);
      await sweep.sweep(account, 500);
      // Created and deleted before the resync's token at 500; its upsert waited in the queue until now.
      expect(await destination.applyBatch(account, { upserts: [goneBeforeToken], deletes: [] })).toMatchObject({
        upserted: 0,
        skippedAsStale: 1,
      });
      expect((await destination.readRows('account')).map((row) => row.Id)).toEqual([kept.id]);
      // Also in a batch of rows present (an update below the floor applies) and new rows above it.
      const mixed = await destination.applyBatch(account, {
        upserts: [goneBeforeToken, accountUpsert(33, 200, { name: 'updated below the floor' }), accountUpsert(35, 501)],
        deletes: [],
      });
      expect(mixed).toMatchObject({ upserted: 2, skippedAsStale: 1, failed: [] });
      expect((await destination.readRows('account')).map((row) => [row.Id, row.versionnumber]).sort()).toEqual(
        [
          [kept.id, 200],
          [accountUpsert(35, 501).id, 501],
        ].sort(),
      );
      // Kept after the resync ends, and through a second sweep at an older watermark (the floor never goes down).
      await sweep.finish('account');
      await sweep.sweep(account, 450);
      expect(await destination.applyBatch(account, { upserts: [goneBeforeToken], deletes: [] })).toMatchObject({
        upserted: 0,
      });
      // A new resync starts without it: until its sweep, the sweep itself removes what a late upsert brings back.
      await sweep.start('account');
      expect(await destination.applyBatch(account, { upserts: [goneBeforeToken], deletes: [] })).toMatchObject({
        upserted: 1,
      });
    });

    it('lets through the floor, after the resync, a row the resync saw but could not copy (a failed record re-read)', async () => {
      const { destination } = await setup({ tables: [account] });
      const [kept, broken] = [accountUpsert(36, 100), accountUpsert(37, 300, { name: 'half a pair \uD83E' })];
      const sweep = destination.resync;
      await sweep.start('account');
      const copied = await destination.applyBatch(account, { upserts: [kept, broken], deletes: [] });
      expect(copied.failed.map((failure) => failure.id)).toEqual([broken.id]);
      await sweep.markSeen('account', [kept.id, broken.id]);
      await sweep.sweep(account, 500);
      await sweep.finish('account');
      // Read again from Dataverse, unchanged since the resync (so at or below its watermark), and now valid.
      const reread = accountUpsert(37, 300, { name: 'whole again' });
      expect(await destination.applyBatch(account, { upserts: [reread], deletes: [] })).toMatchObject({
        upserted: 1,
        skippedAsStale: 0,
      });
      expect((await destination.readRows('account')).map((row) => row.Id).sort()).toEqual([kept.id, broken.id].sort());
    });

    it('widens a column when a value is longer than it, losing nothing', async () => {
      const { destination } = await setup();
      const long = `${'x'.repeat(4000)}y`;
      const result = await destination.applyBatch(account, {
        upserts: [accountUpsert(30, 10, { emailaddress1: long }), accountUpsert(31, 10)],
        deletes: [],
      });
      expect(result).toMatchObject({
        upserted: 2,
        failed: [],
        widened: [{ column: 'emailaddress1', from: 'string(100)', to: 'string(max)' }],
      });
      const row = (await destination.readRows('account')).find(
        (candidate) => candidate.Id === accountUpsert(30, 10).id,
      );
      expect(row?.emailaddress1).toBe(long);
      // A later ensureTables keeps the wider column instead of narrowing it back.
      const again = await destination.ensureTables([account], []);
      expect(again.actions.filter((action) => action.action !== 'refreshMetadata')).toEqual([]);
    });

    it('fails the over-long row, not the batch, when widening is switched off', async () => {
      const { destination } = await setup({ widenOverlongStrings: false, tables: [account] });
      const bad = accountUpsert(32, 10, { telephone1: '1'.repeat(51) });
      const result = await destination.applyBatch(account, { upserts: [bad, accountUpsert(33, 10)], deletes: [] });
      expect(result).toMatchObject({ upserted: 1, widened: [] });
      expect(result.failed).toEqual([{ id: bad.id, changeType: 'upsert', reason: expect.any(String) }]);
    });

    it('adds a new column mid-stream without touching existing rows', async () => {
      const { destination } = await setup({ tables: [account] });
      await destination.applyBatch(account, { upserts: [accountUpsert(40, 10)], deletes: [] });
      const extended: TableMetadata = {
        ...account,
        columns: [
          ...account.columns,
          {
            ...account.columns[1]!,
            logicalName: 'sample_segment',
            schemaName: 'Sample_Segment',
            metadataId: '12345678-1234-4234-8234-123456789012',
            maxLength: 40,
            columnNumber: 99,
            isPrimaryName: false,
          },
        ],
      };
      const ensured = await destination.ensureTables([extended], []);
      expect(ensured.actions).toContainEqual({
        table: 'account',
        action: 'addColumn',
        column: 'sample_segment',
        type: 'string(40)',
      });
      await destination.applyBatch(extended, {
        upserts: [accountUpsert(41, 11, { sample_segment: 'Enterprise' })],
        deletes: [],
      });
      const rows = await destination.readRows('account');
      expect(rows.map((row) => [row.Id, row.sample_segment]).sort()).toEqual(
        [
          [accountUpsert(40, 10).id, null],
          [accountUpsert(41, 11).id, 'Enterprise'],
        ].sort(),
      );
      const widened = await destination.ensureTables(
        [
          {
            ...extended,
            columns: extended.columns.map((c) => (c.logicalName === 'sample_segment' ? { ...c, maxLength: 80 } : c)),
          },
        ],
        [],
      );
      expect(widened.actions).toContainEqual({
        table: 'account',
        action: 'widenColumn',
        column: 'sample_segment',
        from: 'string(40)',
        to: 'string(80)',
      });
      // A column that leaves the metadata stays in the table, with its data.
      const removed = await destination.ensureTables([account], []);
      expect(removed.actions.filter((action) => action.action !== 'refreshMetadata')).toEqual([]);
      expect((await destination.readRows('account')).map((row) => row.sample_segment).sort()).toEqual([
        'Enterprise',
        null,
      ]);
    });

    it('leaves alone the columns whose property a row does not carry, and clears those it carries as null', async () => {
      const { destination } = await setup({ tables: [account] });
      const without = (upsert: RowUpsert, ...properties: string[]): RowUpsert => {
        const row = { ...upsert.row };
        for (const property of properties) delete row[property];
        return { ...upsert, row };
      };
      const parent = {
        _parentaccountid_value: ACCOUNT_ID,
        [`_parentaccountid_value${LOOKUP_LOGICAL_NAME}`]: 'account',
      };
      const [first, second] = [accountUpsert(95, 10, parent), accountUpsert(96, 10)];
      await destination.applyBatch(account, { upserts: [first, second], deletes: [] });
      // Polled with a $select from before `telephone1` and the parent account were added (back-filled since).
      const oldSelect = (index: number, version: number, patch: WebApiRow = {}) =>
        without(accountUpsert(index, version, patch), 'telephone1', '_parentaccountid_value');
      const newRow = oldSelect(97, 20);
      const result = await destination.applyBatch(account, {
        upserts: [
          oldSelect(95, 20, { name: 'renamed', emailaddress1: null }),
          accountUpsert(96, 20, { telephone1: null }),
          newRow,
        ],
        deletes: [],
      });
      expect(result).toMatchObject({ upserted: 3, skippedAsStale: 0, failed: [] });
      const rows = new Map((await destination.readRows('account')).map((row) => [row.Id, row]));
      expect(rows.get(first.id)).toMatchObject({
        name: 'renamed',
        emailaddress1: null,
        telephone1: first.row.telephone1,
        parentaccountid: ACCOUNT_ID,
        parentaccountid_entitytype: 'account',
        versionnumber: 20,
      });
      expect(rows.get(second.id)).toMatchObject({ telephone1: null, versionnumber: 20 });
      expect(rows.get(newRow.id)).toMatchObject({ telephone1: null, parentaccountid: null, versionnumber: 20 });
      // Still version-guarded: an older row of that shape changes nothing.
      expect(await destination.applyBatch(account, { upserts: [oldSelect(95, 15)], deletes: [] })).toMatchObject({
        upserted: 0,
        skippedAsStale: 1,
      });
    });

    it('lets an applier in another process follow drift applied by activation, without narrowing anything', async () => {
      const {
        destination: activation,
        schema,
        prefix,
        dialect,
        connect,
      } = { ...(await setup({ tables: [account] })), ...(target() as ContractTarget) };
      const applier = createSqlDestination(await connect(), dialect, {
        schema,
        prefix,
        writeDeleteLog: true,
        widenOverlongStrings: true,
      });
      open.push(applier);
      await applier.applyBatch(account, { upserts: [accountUpsert(90, 1)], deletes: [] });
      const extended: TableMetadata = {
        ...account,
        columns: [
          ...account.columns,
          {
            ...account.columns[1]!,
            logicalName: 'sample_tier',
            schemaName: 'Sample_Tier',
            maxLength: 10,
            columnNumber: 99,
            isPrimaryName: false,
          },
        ],
      };
      await activation.ensureTables([extended], []);
      // Activation's process widens a column; the applier still believes it is 100 characters wide.
      await activation.applyBatch(extended, {
        upserts: [accountUpsert(91, 1, { emailaddress1: 'a'.repeat(5000) })],
        deletes: [],
      });
      const result = await applier.applyBatch(extended, {
        upserts: [accountUpsert(92, 1, { sample_tier: 'Gold', emailaddress1: 'b'.repeat(300) })],
        deletes: [],
      });
      expect(result).toMatchObject({ upserted: 1, widened: [] });
      const rows = await applier.readRows('account');
      expect(rows.find((row) => row.Id === accountUpsert(92, 1).id)).toMatchObject({
        sample_tier: 'Gold',
        emailaddress1: 'b'.repeat(300),
      });
      expect(rows.find((row) => row.Id === accountUpsert(91, 1).id)?.emailaddress1).toBe('a'.repeat(5000));
    });

    it('reports a type change it cannot widen as a failure of that table only', async () => {
      const { destination } = await setup({ tables: [account, contact] });
      const changed: TableMetadata = {
        ...contact,
        columns: contact.columns.map((column) =>
          column.logicalName === 'jobtitle' ? { ...column, attributeType: 'Integer', maxLength: undefined } : column,
        ),
      };
      const result = await destination.ensureTables([account, changed], []);
      expect(result.failures).toHaveLength(1);
      expect(result.failures[0]?.table).toBe('contact');
      expect(result.failures[0]?.error.errorClass).toBe('schema');
      expect(result.failures[0]?.error.message).toContain('jobtitle: string(100) → int');
      expect(await destination.applyBatch(account, { upserts: [accountUpsert(50, 1)], deletes: [] })).toMatchObject({
        upserted: 1,
      });
    });

    it('isolates a bad row among 1,000: 999 committed, 1 returned with its reason', async () => {
      const { destination } = await setup({ tables: [account] });
      const upserts = Array.from({ length: 1000 }, (_, index) => accountUpsert(index, 1000 + index));
      const bad = accountUpsert(617, 1617, { numberofemployees: 'many' });
      upserts[617] = bad;
      const result = await destination.applyBatch(account, { upserts, deletes: [] });
      expect(result.upserted).toBe(999);
      expect(result.failed).toHaveLength(1);
      expect(result.failed[0]).toMatchObject({ id: bad.id, changeType: 'upsert' });
      expect(result.failed[0]?.reason).toMatch(/many|conver|integer/i);
      expect(await destination.countRows('account')).toBe(999);
    });

    it('widens and isolates in one batch: a bad row early and an over-long value late are both handled, each row counted once', async () => {
      const { destination } = await setup({ tables: [account] });
      const upserts = Array.from({ length: 1000 }, (_, index) => accountUpsert(500 + index, 1000 + index));
      const bad = accountUpsert(503, 1003, { numberofemployees: 'many' });
      const long = accountUpsert(1490, 1990, { emailaddress1: 'z'.repeat(150) });
      upserts[3] = bad;
      upserts[990] = long;
      const result = await destination.applyBatch(account, { upserts, deletes: [] });
      expect(result).toMatchObject({
        upserted: 999,
        skippedAsStale: 0,
        widened: [{ column: 'emailaddress1', from: 'string(100)', to: 'string(256)' }],
      });
      expect(result.failed).toEqual([{ id: bad.id, changeType: 'upsert', reason: expect.any(String) }]);
      expect(await destination.countRows('account')).toBe(999);
      expect((await destination.readRows('account')).find((row) => row.Id === long.id)?.emailaddress1).toBe(
        'z'.repeat(150),
      );
    });

    it('refuses, for that table only, an existing table whose primary key is not on Id', async () => {
      const { destination, connection, dialect, q, table } = await setup({ tables: [] });
      await connection.query(
        `CREATE TABLE ${table('account')} (${q('Id')} ${dialect.typeSql({ kind: 'guid' })}, ${q('name')} ${dialect.typeSql({ kind: 'string', length: 160 })})`,
      );
      const result = await destination.ensureTables([account, contact], []);
      expect(result.failures.map((failure) => [failure.table, failure.error.errorClass])).toEqual([
        ['account', 'schema'],
      ]);
      expect(result.failures[0]?.error.message).toMatch(/crm_account has no primary key, not on Id/);
      expect(result.failures[0]?.error.fix).toMatch(/primary key/);
      expect(
        await destination.applyBatch(contact, {
          upserts: [{ kind: 'upsert', id: CONTACT_ID, versionNumber: 1, row: contactRow }],
          deletes: [],
        }),
      ).toMatchObject({ upserted: 1 });
    });

    it('reports a table dropped behind its back as a schema error, not a data failure', async () => {
      const { destination, connection, table } = await setup({ tables: [account] });
      await destination.applyBatch(account, { upserts: [accountUpsert(80, 1)], deletes: [] });
      await connection.query(`DROP TABLE ${table('account')}`);
      await expect(
        destination.applyBatch(account, { upserts: [accountUpsert(81, 2)], deletes: [] }),
      ).rejects.toMatchObject({
        errorClass: 'schema',
        where: expect.stringContaining('crm_account'),
      });
    });

    it('keeps values with SQL in them as plain text', async () => {
      const { destination } = await setup({ tables: [account] });
      const hostile = `'); DROP TABLE crm_account; --" ]] $1 @p1`;
      await destination.applyBatch(account, { upserts: [accountUpsert(60, 1, { name: hostile })], deletes: [] });
      expect((await destination.readRows('account'))[0]?.name).toBe(hostile);
    });

    it('keeps COPY escapes and multi-byte text verbatim, across many chunks of a batch', async () => {
      const { destination } = await setup({ tables: [account] });
      const tricky = `tab\tnew\nline\r\\N back\\slash é 中文 😀`;
      // Three bytes of UTF-8 per character: the lines of this batch fill many COPY chunks.
      const upserts = Array.from({ length: 300 }, (_, index) =>
        accountUpsert(600 + index, 1, { name: `${tricky} ${index}`, description: `${'中'.repeat(1000)}${index}😀` }),
      );
      expect(await destination.applyBatch(account, { upserts, deletes: [] })).toMatchObject({
        upserted: 300,
        failed: [],
      });
      const rows = new Map((await destination.readRows('account')).map((row) => [row.Id, row]));
      for (const [index, upsert] of upserts.entries()) {
        expect(rows.get(upsert.id)).toMatchObject({
          name: `${tricky} ${index}`,
          description: `${'中'.repeat(1000)}${index}😀`,
        });
      }
    });

    it('rejects SQL injection in every identifier with a clear error, executing nothing for it', async () => {
      const { destination, dialect, connect } = { ...(await setup({ tables: [] })), ...(target() as ContractTarget) };
      const connection = await connect();
      open.push(connection);
      expect(() =>
        createSqlDestination(connection, dialect, {
          schema: 'dbo; DROP TABLE x',
          prefix: 'crm',
          writeDeleteLog: false,
          widenOverlongStrings: true,
        }),
      ).toThrow(/Schema name .* letters and digits/);
      expect(() =>
        createSqlDestination(connection, dialect, {
          schema: 'dbo',
          prefix: "crm'--",
          writeDeleteLog: false,
          widenOverlongStrings: true,
        }),
      ).toThrow(/Table prefix .* letters and digits/);

      const badTable: TableMetadata = { ...account, logicalName: 'account]; DROP TABLE x; --' };
      const badColumn: TableMetadata = {
        ...contact,
        columns: [
          ...contact.columns,
          { ...contact.columns[1]!, logicalName: 'name"); DROP TABLE x; --', columnNumber: 98 },
        ],
      };
      const result = await destination.ensureTables([badTable, badColumn, role()], []);
      expect(result.failures.map((failure) => [failure.table, failure.error.errorClass])).toEqual([
        [badTable.logicalName, 'schema'],
        ['contact', 'schema'],
      ]);
      expect(result.failures[1]?.error.message).toMatch(/not a valid logical name/);
      await expect(destination.readRows('contact')).rejects.toThrow(/does not exist/);
      expect(await destination.countRows('role')).toBe(0);
      await expect(destination.applyBatch(badTable, { upserts: [], deletes: [] })).rejects.toThrow(
        /not a valid logical name/,
      );
      await expect(destination.readTable('crm_role; DROP TABLE x')).rejects.toBeInstanceOf(ExportError);
    });
  });
}

const role = (): TableMetadata => sampleTable('role');
