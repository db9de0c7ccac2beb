import { describe, expect, it } from 'vitest';
import { lakeColumnsOf, mergeColumns, type LakeColumn } from '../../shared/destinations/lake/columns';
import { defaultContainerName, lakeDestinationConfigSchema } from '../../shared/destinations/lake/config';
import { encodeRecords, formatField, usDateTime } from '../../shared/destinations/lake/csv';
import { attributeOf, columnOfAttribute, entityOf, entityState } from '../../shared/destinations/lake/model-json';
import { dfsRoot, parseTimeFolderName, partitionName, timeFolderName } from '../../shared/destinations/lake/paths';
import { optionsetFiles } from '../../shared/destinations/lake/optionset-files';
import { sampleRelationships, sampleTable, sampleTables } from '../../local/sample-org';
import { parseCsv } from './lake-checks';

const column = (name: string, dataType: LakeColumn['dataType']): LakeColumn => ({
  name,
  dataType,
  maxLength: -1,
  source: null,
});

describe('lake CSV dialect', () => {
  it('formats each CDM type as Synapse Link does', () => {
    expect(formatField(column('b', 'boolean'), true)).toBe('True');
    expect(formatField(column('b', 'boolean'), false)).toBe('False');
    expect(formatField(column('d', 'decimal'), 0.0000001)).toBe('0.0000001');
    expect(formatField(column('d', 'decimal'), 1e21)).toBe('1000000000000000000000');
    expect(formatField(column('d', 'decimal'), -1)).toBe('-1');
    expect(formatField(column('d', 'double'), 12.5)).toBe('12.5');
    expect(formatField(column('i', 'int64'), 42)).toBe('42');
    expect(formatField(column('g', 'guid'), 'ABCDEF01-0000-0000-0000-000000000000')).toBe(
      'abcdef01-0000-0000-0000-000000000000',
    );
    expect(formatField(column('t', 'dateTime'), '2021-06-25T16:21:12Z')).toBe('2021-06-25T16:21:12Z');
    expect(formatField(column('t', 'dateTime'), '2021-06-25')).toBe('2021-06-25T00:00:00Z');
    expect(formatField(column('createdon', 'dateTimeOffset'), '2018-05-25T16:21:09Z')).toBe(
      '2018-05-25T16:21:09.0000000+00:00',
    );
    expect(formatField(column('s', 'string'), null)).toBeNull();
    expect(usDateTime(new Date('2021-06-28T16:34:35Z'))).toBe('6/28/2021 4:34:35 PM');
    expect(usDateTime(new Date('2021-06-28T00:04:05Z'))).toBe('6/28/2021 12:04:05 AM');
  });

  it('rejects values a reader could not parse as data errors', () => {
    expect(() => formatField(column('i', 'int64'), 1.5)).toThrow(expect.objectContaining({ errorClass: 'data' }));
    expect(() => formatField(column('t', 'dateTime'), 'yesterday')).toThrow(
      expect.objectContaining({ errorClass: 'data' }),
    );
    expect(() => formatField(column('d', 'decimal'), Number.NaN)).toThrow(
      expect.objectContaining({ errorClass: 'data' }),
    );
  });

  it('quotes by type, doubles quotes, keeps line breaks inside quotes and leaves nulls empty', () => {
    const columns = [
      column('Id', 'guid'),
      column('name', 'string'),
      column('n', 'int64'),
      column('when', 'dateTime'),
      column('IsDelete', 'boolean'),
    ];
    const text = encodeRecords(columns, [
      ['0000000a-0000-0000-0000-000000000000', 'Say "hi",\nthen go', '7', '2021-01-01T00:00:00Z', null],
    ]);
    expect(text).toBe('0000000a-0000-0000-0000-000000000000,"Say ""hi"",\nthen go",7,"2021-01-01T00:00:00Z",\n');
    expect(parseCsv(text)[0]?.map((field) => field.value)).toEqual([
      '0000000a-0000-0000-0000-000000000000',
      'Say "hi",\nthen go',
      '7',
      '2021-01-01T00:00:00Z',
      '',
    ]);
  });
});

describe('lake columns and model.json entities', () => {
  it('puts Id and the sink times first, the table columns in ColumnNumber order, lookups with _entitytype, IsDelete last', () => {
    const names = lakeColumnsOf(sampleTable('account')).map((entry) => entry.name);
    expect(names.slice(0, 4)).toEqual(['Id', 'SinkCreatedOn', 'SinkModifiedOn', 'accountid']);
    expect(names.at(-1)).toBe('IsDelete');
    expect(names).toContain('transactioncurrencyid_entitytype');
    expect(names.indexOf('transactioncurrencyid_entitytype')).toBe(names.indexOf('transactioncurrencyid') + 1);
    expect(names).not.toContain('entityimage');
    const createdon = lakeColumnsOf(sampleTable('account')).find((entry) => entry.name === 'createdon');
    expect(createdon?.dataType).toBe('dateTimeOffset');
  });

  it('keeps the existing order, appends new columns and keeps dropped ones without a source', () => {
    const wanted = lakeColumnsOf(sampleTable('role'));
    const [id, sinkCreatedOn] = wanted as [LakeColumn, LakeColumn];
    const existing = [id, { name: 'retired', dataType: 'string' as const, maxLength: 10 }, sinkCreatedOn].map(
      (entry) => ({ name: entry.name, dataType: entry.dataType, maxLength: entry.maxLength }),
    );
    const merged = mergeColumns(existing, wanted);
    expect(merged.slice(0, 3).map((entry) => entry.name)).toEqual(['Id', 'retired', 'SinkCreatedOn']);
    expect(merged[1]?.source).toBeNull();
    expect(merged.length).toBe(wanted.length + 1);
  });

  it('writes decimal and string traits that read back to the same column', () => {
    const revenue = lakeColumnsOf(sampleTable('account')).find((entry) => entry.name === 'revenue') as LakeColumn;
    const attribute = attributeOf(revenue);
    expect(attribute['cdm:traits']?.[0]?.traitReference).toBe('is.dataFormat.numeric.shaped');
    expect(attribute['cdm:traits']?.[0]?.arguments?.map((argument) => argument.name)).toEqual(['precision', 'scale']);
    expect(columnOfAttribute(attribute)).toEqual({
      name: 'revenue',
      dataType: 'decimal',
      maxLength: -1,
      precision: 38,
      scale: 2,
    });
    const completedAt = new Date('2024-05-01T13:02:03Z');
    const entity = entityOf('account', [revenue], { granularity: 'Month', initialSyncCompletedAt: completedAt }, []);
    expect(entity.annotations).toContainEqual({
      name: 'Athena:InitialSyncDataCompletedTime',
      value: '5/1/2024 1:02:03 PM',
    });
    expect(entityState(entity)).toEqual({ granularity: 'Month', initialSyncCompletedAt: completedAt });
  });
});

describe('lake names', () => {
  it('partitions by createdon year or month, 1900 when undated, 1 for tables without createdon', () => {
    expect(partitionName('2021-03-04T05:06:07Z', 'Year')).toBe('2021');
    expect(partitionName('2021-03-04T05:06:07Z', 'Month')).toBe('2021-03');
    expect(partitionName(null, 'Year')).toBe('1900');
    expect(partitionName(undefined, 'none')).toBe('1');
  });

  it('names incremental folders yyyy-MM-ddTHH.mm.ssZ and reads them back', () => {
    const time = new Date('2024-05-01T10:15:00Z');
    expect(timeFolderName(time)).toBe('2024-05-01T10.15.00Z');
    expect(parseTimeFolderName('2024-05-01T10.15.00Z')).toEqual(time);
    expect(parseTimeFolderName('2024-05-01T10:15:00Z')).toBeUndefined();
  });

  it("maps blob URLs to dfs locations, and Azurite path-style URLs to the account's dfs name", () => {
    expect(dfsRoot('https://acct.blob.core.windows.net/c', 'acct', 'c')).toBe('https://acct.dfs.core.windows.net/c');
    expect(dfsRoot('https://acct.blob.core.chinacloudapi.cn/c', 'acct', 'c')).toBe(
      'https://acct.dfs.core.chinacloudapi.cn/c',
    );
    expect(dfsRoot('http://127.0.0.1:10000/devstoreaccount1/c', 'devstoreaccount1', 'c')).toBe(
      'https://devstoreaccount1.dfs.core.windows.net/c',
    );
  });

  it('derives the Synapse Link container name and validates settings', () => {
    expect(defaultContainerName('Contoso Prod', 'org1a2b')).toBe('dataverse-contoso-prod-org1a2b');
    expect(defaultContainerName('x'.repeat(80), 'org').length).toBeLessThanOrEqual(63);
    const parsed = lakeDestinationConfigSchema.parse({
      connection: { connectionString: 'UseDevelopmentStorage=true' },
      container: 'lake',
    });
    expect(parsed).toMatchObject({
      mode: 'appendOnly',
      partitionGranularity: 'Year',
      incrementalIntervalMinutes: 60,
      snapshotIntervalMinutes: 60,
    });
    expect(lakeDestinationConfigSchema.safeParse({ connection: { connectionString: 'x' } }).success).toBe(false);
    expect(
      lakeDestinationConfigSchema.safeParse({
        connection: { connectionString: 'x' },
        container: 'lake',
        incrementalIntervalMinutes: 2,
      }).success,
    ).toBe(false);
  });
});

describe('OptionsetMetadata files', () => {
  it('writes each metadata CSV headerless in the column order DV2SQL and FastTrack read', () => {
    const files = new Map(
      optionsetFiles(
        sampleTables,
        sampleRelationships,
        (table) => new Set(table.columns.map((entry) => entry.logicalName)),
        new Date('2026-01-01T00:00:00Z'),
      ).map((file) => [file.kind, file.text]),
    );
    expect(files.get('GlobalOptionsetMetadata')?.split('\n')).toContain(
      'sample_industry,1,False,1033,Accounting,sample_industry,account',
    );
    expect(files.get('OptionsetMetadata')?.split('\n')).toContain('account,customertypecode,1,False,1033,Competitor');
    // A label with a comma is quoted; the leading name fields DV2SQL splits on `,` never are.
    expect(files.get('OptionsetMetadata')).toContain('account,sample_channels,4,False,1033,"Social, web & chat"\n');
    expect(files.get('StateMetadata')?.split('\n')).toContain('account,0,False,1033,Active');
    expect(files.get('StatusMetadata')?.split('\n')).toContain('account,1,2,False,1033,Inactive');
    expect(files.get('TargetMetadata')?.split('\n')).toContain('systemuserroles,roleid,role,roleid');
    const attribute = files.get('AttributeMetadata')?.split('\n')[0]?.split(',');
    expect(attribute?.slice(0, 5)).toEqual(['1', 'systemuser', 'systemuserid', 'Uniqueidentifier', '15']);
  });
});
