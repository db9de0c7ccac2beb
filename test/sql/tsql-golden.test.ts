/**
 * Every T-SQL statement the mssql dialect generates, compared with a reviewed file in test/sql/golden/
 * (`npx vitest -u` rewrites them; review the diff). tsql-scriptdom.test.ts parses every one of those files
 * with Microsoft's T-SQL parser, MERGE and OPENJSON included, so this list and the folder must stay equal.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asFixedColumns } from '../../shared/destinations/sql/dialect';
import { mssqlDialect } from '../../shared/destinations/sql/mssql-dialect';
import { versionFloorTable } from '../../shared/destinations/sql/version-floor';
import { deleteLogTable, metadataTable, resyncSeenTable, tombstoneTable } from '../../shared/schema/metadata-tables';
import { buildTableModel } from '../../shared/schema/table-model';
import { sampleTable } from '../../local/sample-org';

const contact = buildTableModel(sampleTable('contact'), 'crm');
const account = buildTableModel(sampleTable('account'), 'crm');
const target = { schema: 'dbo', name: 'crm_contact' };
const applyTables = {
  target,
  tombstones: { schema: 'dbo', name: 'crm_Tombstone' },
  deleteLog: { schema: 'dbo', name: 'crm_DeleteLog' },
  versionFloor: { schema: 'dbo', name: 'crm_VersionFloor' },
  resyncSeen: { schema: 'dbo', name: 'crm_ResyncSeen' },
};
const stateMetadata = metadataTable('crm', 'StateMetadata');

const statements: Array<{ name: string; sql: string }> = [
  { name: 'create-schema', sql: mssqlDialect.createSchema('dbo') },
  {
    name: 'create-table-account',
    sql: mssqlDialect.createTable('dbo', {
      name: account.tableName,
      columns: asFixedColumns(account.columns),
      primaryKey: ['Id'],
    }),
  },
  { name: 'create-table-tombstone', sql: mssqlDialect.createTable('dbo', tombstoneTable('crm')) },
  { name: 'create-table-deletelog', sql: mssqlDialect.createTable('dbo', deleteLogTable('crm')) },
  {
    name: 'create-table-attributemetadata',
    sql: mssqlDialect.createTable('dbo', metadataTable('crm', 'AttributeMetadata')),
  },
  {
    name: 'add-column',
    sql: mssqlDialect.addColumn(target, {
      name: 'sample_segment',
      type: { kind: 'string', length: 40 },
      nullable: true,
    }),
  },
  {
    name: 'widen-column',
    sql: mssqlDialect.alterColumnType(target, 'emailaddress1', { kind: 'string', length: 'max' }),
  },
  { name: 'list-columns', sql: mssqlDialect.listColumns() },
  { name: 'primary-key-columns', sql: mssqlDialect.primaryKeyColumns() },
  { name: 'compatibility-level', sql: mssqlDialect.compatibilityLevel() },
  { name: 'lock-table', sql: mssqlDialect.lockTable() },
  { name: 'upsert-contact', sql: mssqlDialect.upsert(applyTables, contact.columns) },
  { name: 'apply-deletes-with-log', sql: mssqlDialect.applyDeletes(applyTables) },
  { name: 'apply-deletes-without-log', sql: mssqlDialect.applyDeletes({ ...applyTables, deleteLog: undefined }) },
  { name: 'delete-metadata-rows', sql: mssqlDialect.deleteMetadataRows({ schema: 'dbo', name: stateMetadata.name }) },
  {
    name: 'insert-metadata-rows',
    sql: mssqlDialect.insertRows({ schema: 'dbo', name: stateMetadata.name }, stateMetadata.columns),
  },
  { name: 'select-all', sql: mssqlDialect.selectAll(target) },
  { name: 'count-rows', sql: mssqlDialect.countRows(target) },
  { name: 'create-table-resyncseen', sql: mssqlDialect.createTable('dbo', resyncSeenTable('crm')) },
  { name: 'select-unseen', sql: mssqlDialect.selectUnseen(target, { schema: 'dbo', name: 'crm_ResyncSeen' }) },
  { name: 'forget-seen-present', sql: mssqlDialect.forgetSeenPresent(applyTables.resyncSeen, target) },
  { name: 'create-table-versionfloor', sql: mssqlDialect.createTable('dbo', versionFloorTable('crm')) },
  { name: 'raise-version-floor', sql: mssqlDialect.raiseVersionFloor(applyTables.versionFloor) },
];

describe('T-SQL golden statements', () => {
  it.each(statements)('$name matches test/sql/golden/$name.sql', async ({ name, sql }) => {
    await expect(`${sql}\n`).toMatchFileSnapshot(`./golden/${name}.sql`);
  });

  // A file left behind by a removed statement would still be parsed as if the dialect generated it.
  it('has a golden file for every statement and no other', () => {
    const files = readdirSync(join(__dirname, 'golden')).filter((file) => file.endsWith('.sql'));
    expect(files.sort()).toEqual(statements.map(({ name }) => `${name}.sql`).sort());
  });

  it('quotes every identifier with brackets and doubles a closing bracket', () => {
    expect(mssqlDialect.quote('a]b')).toBe('[a]]b]');
  });
});
