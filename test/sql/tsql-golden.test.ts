/**
 * Every T-SQL statement the mssql dialect generates, compared with a reviewed file in test/sql/golden/
 * (`npx vitest -u` rewrites them; review the diff) and parsed by node-sql-parser in TransactSQL mode
 * where its grammar reaches. It has no MERGE, no `OPENJSON(...) WITH (...)` schema clause, no table
 * variables and no COUNT_BIG, so the apply, insert-from-JSON and count statements are checked by the
 * golden text and the live suite (`npm run test:mssql`) only; nor `TOP (@p) <qualified column>` (it reads the
 * qualifier as an alias of the TOP expression), which the resync sweep's select uses.
 */
import { Parser } from 'node-sql-parser';
import { describe, expect, it } from 'vitest';
import { asFixedColumns } from '../../shared/destinations/sql/dialect';
import { mssqlDialect } from '../../shared/destinations/sql/mssql-dialect';
import { deleteLogTable, metadataTable, resyncSeenTable, tombstoneTable } from '../../shared/schema/metadata-tables';
import { buildTableModel } from '../../shared/schema/table-model';
import { sampleTable } from '../../local/sample-org';

const contact = buildTableModel(sampleTable('contact'), 'crm');
const account = buildTableModel(sampleTable('account'), 'crm');
const target = { schema: 'dbo', name: 'crm_contact' };
const applyTables = { target, tombstones: { schema: 'dbo', name: 'crm_Tombstone' }, deleteLog: { schema: 'dbo', name: 'crm_DeleteLog' } };
const stateMetadata = metadataTable('crm', 'StateMetadata');

const statements: Array<{ name: string; sql: string; parses: boolean }> = [
  { name: 'create-schema', sql: mssqlDialect.createSchema('dbo'), parses: true },
  { name: 'create-table-account', sql: mssqlDialect.createTable('dbo', { name: account.tableName, columns: asFixedColumns(account.columns), primaryKey: ['Id'] }), parses: true },
  { name: 'create-table-tombstone', sql: mssqlDialect.createTable('dbo', tombstoneTable('crm')), parses: true },
  { name: 'create-table-deletelog', sql: mssqlDialect.createTable('dbo', deleteLogTable('crm')), parses: true },
  { name: 'create-table-attributemetadata', sql: mssqlDialect.createTable('dbo', metadataTable('crm', 'AttributeMetadata')), parses: true },
  { name: 'add-column', sql: mssqlDialect.addColumn(target, { name: 'sample_segment', type: { kind: 'string', length: 40 }, nullable: true }), parses: true },
  { name: 'widen-column', sql: mssqlDialect.alterColumnType(target, 'emailaddress1', { kind: 'string', length: 'max' }), parses: true },
  { name: 'list-columns', sql: mssqlDialect.listColumns(), parses: true },
  { name: 'primary-key-columns', sql: mssqlDialect.primaryKeyColumns(), parses: true },
  { name: 'lock-table', sql: mssqlDialect.lockTable(), parses: false },
  { name: 'upsert-contact', sql: mssqlDialect.upsert(applyTables, contact.columns), parses: false },
  { name: 'apply-deletes-with-log', sql: mssqlDialect.applyDeletes(applyTables), parses: false },
  { name: 'apply-deletes-without-log', sql: mssqlDialect.applyDeletes({ target, tombstones: applyTables.tombstones }), parses: false },
  { name: 'delete-metadata-rows', sql: mssqlDialect.deleteMetadataRows({ schema: 'dbo', name: stateMetadata.name }), parses: true },
  { name: 'insert-metadata-rows', sql: mssqlDialect.insertRows({ schema: 'dbo', name: stateMetadata.name }, stateMetadata.columns), parses: false },
  { name: 'select-all', sql: mssqlDialect.selectAll(target), parses: true },
  { name: 'count-rows', sql: mssqlDialect.countRows(target), parses: false },
  { name: 'create-table-resyncseen', sql: mssqlDialect.createTable('dbo', resyncSeenTable('crm')), parses: true },
  { name: 'select-unseen', sql: mssqlDialect.selectUnseen(target, { schema: 'dbo', name: 'crm_ResyncSeen' }), parses: false },
];

const parser = new Parser();
const parse = (sql: string) => parser.astify(sql, { database: 'TransactSQL' });

describe('T-SQL golden statements', () => {
  it.each(statements)('$name matches test/sql/golden/$name.sql', async ({ name, sql }) => {
    await expect(`${sql}\n`).toMatchFileSnapshot(`./golden/${name}.sql`);
  });

  it.each(statements.filter((statement) => statement.parses))('$name parses as T-SQL', ({ sql }) => {
    expect(parse(sql)).toBeTruthy();
  });

  // Pins the parser's limits: when a new node-sql-parser version learns one of these, move it to the parsed list.
  it.each(statements.filter((statement) => !statement.parses))('$name is beyond node-sql-parser (documented)', ({ sql }) => {
    expect(() => parse(sql)).toThrow();
  });

  it('quotes every identifier with brackets and doubles a closing bracket', () => {
    expect(mssqlDialect.quote('a]b')).toBe('[a]]b]');
  });
});
