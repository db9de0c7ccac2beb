import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ColumnMetadata, TableMetadata } from '../../shared/dataverse/metadata';
import { ExportError } from '../../shared/errors';
import { validateDataverseName, validatePrefix, validateSchemaName } from '../../shared/schema/identifiers';
import { destinationValues } from '../../shared/schema/row-values';
import {
  MAX_ROW_BYTES,
  buildTableModel,
  fitRowSize,
  rowBytes,
  type DestinationColumn,
} from '../../shared/schema/table-model';
import { LOOKUP_LOGICAL_NAME, sampleTable } from '../../local/sample-org';

const account = sampleTable('account');
const typeOf = (columns: DestinationColumn[], name: string) => columns.find((column) => column.name === name)?.type;

function column(logicalName: string, overrides: Partial<ColumnMetadata>): ColumnMetadata {
  return {
    logicalName,
    schemaName: logicalName,
    metadataId: '00000000-0000-4000-8000-000000000000',
    attributeType: 'String',
    attributeTypeName: 'StringType',
    isPrimaryId: false,
    isPrimaryName: false,
    isValidForRead: true,
    attributeOf: null,
    columnNumber: 1,
    ...overrides,
  };
}

const tableWith = (columns: ColumnMetadata[]): TableMetadata => ({
  ...sampleTable('role'),
  logicalName: 'sample_wide',
  columns,
});

describe('table model (DES type map)', () => {
  const model = buildTableModel(account, 'crm');

  it('names the table prefix_table, or table without a prefix', () => {
    expect(model.tableName).toBe('crm_account');
    expect(buildTableModel(account, '').tableName).toBe('account');
  });

  it('starts with Id and the sink timestamps and maps every column kind', () => {
    expect(model.columns.slice(0, 3).map((c) => c.name)).toEqual(['Id', 'SinkCreatedOn', 'SinkModifiedOn']);
    const cols = model.columns;
    expect(typeOf(cols, 'Id')).toEqual({ kind: 'guid' });
    expect(typeOf(cols, 'accountid')).toEqual({ kind: 'guid' });
    expect(typeOf(cols, 'name')).toEqual({ kind: 'string', length: 160 });
    expect(typeOf(cols, 'description')).toEqual({ kind: 'string', length: 'max' });
    expect(typeOf(cols, 'numberofemployees')).toEqual({ kind: 'int' });
    expect(typeOf(cols, 'sample_externalrank')).toEqual({ kind: 'bigint' });
    expect(typeOf(cols, 'revenue')).toEqual({ kind: 'decimal', scale: 2 });
    expect(typeOf(cols, 'address1_latitude')).toEqual({ kind: 'decimal', scale: 5 });
    expect(typeOf(cols, 'exchangerate')).toEqual({ kind: 'decimal', scale: 10 });
    expect(typeOf(cols, 'creditonhold')).toEqual({ kind: 'bit' });
    expect(typeOf(cols, 'sample_foundedon')).toEqual({ kind: 'datetime' });
    expect(typeOf(cols, 'customertypecode')).toEqual({ kind: 'int' });
    expect(typeOf(cols, 'statecode')).toEqual({ kind: 'int' });
    expect(typeOf(cols, 'ownerid')).toEqual({ kind: 'guid' });
    expect(typeOf(cols, 'ownerid_entitytype')).toEqual({ kind: 'string', length: 128 });
    expect(typeOf(cols, 'owneridtype')).toEqual({ kind: 'string', length: 'max' });
    expect(typeOf(cols, 'versionnumber')).toEqual({ kind: 'bigint' });
  });

  it('skips image, file and helper columns and says why', () => {
    expect(model.skipped).toEqual([
      { name: 'parentaccountidname', reason: 'helper column of parentaccountid' },
      { name: 'entityimage', reason: 'image content is not exported' },
      { name: 'sample_contractfile', reason: 'file content is not exported' },
    ]);
  });

  it("keeps an image's _url and _timestamp companions, as DES did", () => {
    const table = tableWith([
      column('entityimage', { attributeType: 'Virtual', attributeTypeName: 'ImageType', columnNumber: 1 }),
      column('entityimage_url', { maxLength: 200, attributeOf: 'entityimage', columnNumber: 2 }),
      column('entityimage_timestamp', {
        attributeType: 'BigInt',
        attributeTypeName: 'BigIntType',
        attributeOf: 'entityimage',
        columnNumber: 3,
      }),
    ]);
    const { columns } = buildTableModel(table, '');
    expect(columns.map((c) => c.name)).toEqual([
      'Id',
      'SinkCreatedOn',
      'SinkModifiedOn',
      'entityimage_url',
      'entityimage_timestamp',
      'versionnumber',
    ]);
  });

  it('keeps the declared row within 8,060 bytes by turning the widest strings into max', () => {
    // The account's two 4,000-character columns (multi-select, owneridtype) alone would take 16,000 bytes.
    expect(typeOf(model.columns, 'sample_channels')).toEqual({ kind: 'string', length: 'max' });
    expect(typeOf(model.columns, 'name')).toEqual({ kind: 'string', length: 160 });
    expect(rowBytes(model.columns.map((c) => c.type))).toBeLessThanOrEqual(MAX_ROW_BYTES);
  });

  it('fits any mix of bounded strings into 8,060 bytes, changing only the widest ones', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 40 }), (lengths) => {
        const columns: DestinationColumn[] = lengths.map((length, index) => ({
          name: `c${index}`,
          type: { kind: 'string', length },
          source: { kind: 'property', property: `c${index}` },
        }));
        const fitted = fitRowSize(columns);
        expect(rowBytes(fitted.map((c) => c.type))).toBeLessThanOrEqual(MAX_ROW_BYTES);
        const kept = fitted
          .filter((c) => c.type.kind === 'string' && c.type.length !== 'max')
          .map((c) => lengths[Number(c.name.slice(1))] ?? 0);
        const made = fitted
          .filter((c) => c.type.kind === 'string' && c.type.length === 'max')
          .map((c) => lengths[Number(c.name.slice(1))] ?? 0);
        if (made.length > 0) expect(Math.min(...made)).toBeGreaterThanOrEqual(Math.max(0, ...kept));
      }),
    );
  });
});

describe('row values', () => {
  const model = buildTableModel(sampleTable('contact'), '');

  it('takes lookups from _x_value and their table from the lookuplogicalname annotation', () => {
    const values = destinationValues(model.columns, {
      kind: 'upsert',
      id: 'c0ffee00-0000-4000-8000-000000000000',
      versionNumber: 42,
      row: {
        contactid: 'c0ffee00-0000-4000-8000-000000000000',
        versionnumber: 41,
        _ownerid_value: 'abc00000-0000-4000-8000-000000000000',
        [`_ownerid_value${LOOKUP_LOGICAL_NAME}`]: 'team',
        _parentcustomerid_value: null,
        [`_parentcustomerid_value${LOOKUP_LOGICAL_NAME}`]: 'account',
      },
    });
    expect(values).toMatchObject({
      Id: 'c0ffee00-0000-4000-8000-000000000000',
      versionnumber: 42,
      ownerid: 'abc00000-0000-4000-8000-000000000000',
      ownerid_entitytype: 'team',
      owneridtype: 'team',
      parentcustomerid: null,
      parentcustomerid_entitytype: null,
      firstname: null,
    });
    expect(values).not.toHaveProperty('SinkCreatedOn');
  });
});

describe('identifiers', () => {
  it.each(['dbo', 'Sales2024'])('accepts schema %s', (schema) => expect(validateSchemaName(schema)).toBe(schema));
  it.each(['dbo;', 'a b', '', 'dbo]--', 'd"bo'])('rejects schema %j', (schema) =>
    expect(() => validateSchemaName(schema)).toThrow(ExportError),
  );
  it('accepts a prefix below 15 characters and no prefix', () => {
    expect(validatePrefix('abcdefghijklmn')).toBe('abcdefghijklmn');
    expect(validatePrefix('')).toBe('');
  });
  it.each(['abcdefghijklmno', 'crm_', "crm'"])('rejects prefix %j', (prefix) =>
    expect(() => validatePrefix(prefix)).toThrow(/fewer than 15/),
  );
  it.each(['Account', 'account;', 'a-b', 'naïve'])('rejects Dataverse name %j', (name) =>
    expect(() => validateDataverseName(name, 'x')).toThrow(/\[a-z0-9_\]/),
  );
});
