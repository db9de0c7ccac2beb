/**
 * The sample org's metadata: a deterministic stand-in for a real Dataverse environment, covering every
 * column kind the product must map (strings, memos, numbers, money, booleans, the three date-time
 * behaviours, local and global choices, multi-select, state/status, lookups, customer, owner, image,
 * file, helper columns) plus an N:N intersect table. Option labels come in English and German.
 */
import type {
  AttributeType,
  ColumnMetadata,
  DateTimeBehavior,
  LocalizedLabel,
  ManyToManyRelationship,
  OptionMetadata,
  OptionSetMetadata,
  TableMetadata,
} from '../../shared/dataverse/metadata';
import { stableGuid } from './ids';

export const ENGLISH = 1033;
export const GERMAN = 1031;

const labels = (english: string, german: string): LocalizedLabel[] => [
  { label: english, languageCode: ENGLISH },
  { label: german, languageCode: GERMAN },
];

const options = (pairs: Array<[number, string, string]>): OptionMetadata[] =>
  pairs.map(([value, english, german]) => ({ value, labels: labels(english, german) }));

export const globalOptionSets: OptionSetMetadata[] = [
  {
    name: 'sample_industry',
    isGlobal: true,
    type: 'Picklist',
    options: options([
      [1, 'Accounting', 'Buchhaltung'],
      [2, 'Agriculture', 'Landwirtschaft'],
      [3, 'Broadcasting', 'Rundfunk'],
      [4, 'Consulting', 'Beratung'],
      [5, 'Retail', 'Einzelhandel'],
    ]),
  },
];

const industryOptionSet = globalOptionSets[0] as OptionSetMetadata;

const stateOptionSet = (table: string, active: string, inactive: [string, string]): OptionSetMetadata => ({
  name: `${table}_statecode`,
  isGlobal: false,
  type: 'State',
  options: options([
    [0, active, 'Aktiv'],
    [1, inactive[0], inactive[1]],
  ]),
});

const statusOptionSet = (table: string): OptionSetMetadata => ({
  name: `${table}_statuscode`,
  isGlobal: false,
  type: 'Status',
  options: [
    { value: 1, labels: labels('Active', 'Aktiv'), state: 0 },
    { value: 2, labels: labels('Inactive', 'Inaktiv'), state: 1 },
  ],
});

const booleanOptionSet = (name: string): OptionSetMetadata => ({
  name,
  isGlobal: false,
  type: 'Boolean',
  options: options([
    [0, 'No', 'Nein'],
    [1, 'Yes', 'Ja'],
  ]),
});

interface ColumnSpec {
  name: string;
  type: AttributeType;
  typeName?: string;
  maxLength?: number;
  precision?: number;
  behavior?: DateTimeBehavior;
  targets?: string[];
  optionSet?: OptionSetMetadata;
  attributeOf?: string;
  primaryId?: boolean;
  primaryName?: boolean;
}

const defaultTypeName: Record<AttributeType, string> = {
  Boolean: 'BooleanType',
  Customer: 'CustomerType',
  DateTime: 'DateTimeType',
  Decimal: 'DecimalType',
  Double: 'DoubleType',
  Integer: 'IntegerType',
  Lookup: 'LookupType',
  Memo: 'MemoType',
  Money: 'MoneyType',
  Owner: 'OwnerType',
  PartyList: 'PartyListType',
  Picklist: 'PicklistType',
  State: 'StateType',
  Status: 'StatusType',
  String: 'StringType',
  Uniqueidentifier: 'UniqueidentifierType',
  CalendarRules: 'CalendarRulesType',
  Virtual: 'VirtualType',
  BigInt: 'BigIntType',
  ManagedProperty: 'ManagedPropertyType',
  EntityName: 'EntityNameType',
};

const schemaNameOf = (logicalName: string): string =>
  logicalName
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('_');

function column(table: string, spec: ColumnSpec, columnNumber: number): ColumnMetadata {
  const result: ColumnMetadata = {
    logicalName: spec.name,
    schemaName: schemaNameOf(spec.name),
    metadataId: stableGuid(`attribute:${table}.${spec.name}`),
    attributeType: spec.type,
    attributeTypeName: spec.typeName ?? defaultTypeName[spec.type],
    isPrimaryId: spec.primaryId ?? false,
    isPrimaryName: spec.primaryName ?? false,
    isValidForRead: true,
    attributeOf: spec.attributeOf ?? null,
    columnNumber,
  };
  if (spec.maxLength !== undefined) result.maxLength = spec.maxLength;
  if (spec.precision !== undefined) result.precision = spec.precision;
  if (spec.behavior !== undefined) result.dateTimeBehavior = spec.behavior;
  if (spec.targets !== undefined) result.targets = spec.targets;
  if (spec.optionSet !== undefined) result.optionSet = spec.optionSet;
  return result;
}

/** Columns every user-owned table has. */
const systemColumns = (table: string): ColumnSpec[] => [
  { name: 'createdon', type: 'DateTime', behavior: 'UserLocal' },
  { name: 'modifiedon', type: 'DateTime', behavior: 'UserLocal' },
  { name: 'createdby', type: 'Lookup', targets: ['systemuser'] },
  { name: 'modifiedby', type: 'Lookup', targets: ['systemuser'] },
  { name: 'ownerid', type: 'Owner', targets: ['systemuser', 'team'] },
  { name: 'owneridtype', type: 'EntityName', attributeOf: 'ownerid' },
  { name: 'statecode', type: 'State', optionSet: stateOptionSet(table, 'Active', ['Inactive', 'Inaktiv']) },
  { name: 'statuscode', type: 'Status', optionSet: statusOptionSet(table) },
  { name: 'versionnumber', type: 'BigInt' },
];

function table(
  logicalName: string,
  entitySetName: string,
  objectTypeCode: number,
  primaryName: string | null,
  specs: ColumnSpec[],
  isIntersect = false,
): TableMetadata {
  // Intersect tables break the `<table>id` convention (systemuserroles → systemuserroleid), so the key is the flagged column.
  const primaryIdAttribute = specs.find((spec) => spec.primaryId)?.name ?? `${logicalName}id`;
  return {
    logicalName,
    schemaName: schemaNameOf(logicalName),
    entitySetName,
    metadataId: stableGuid(`entity:${logicalName}`),
    objectTypeCode,
    primaryIdAttribute,
    primaryNameAttribute: primaryName,
    isIntersect,
    changeTrackingEnabled: true,
    columns: specs.map((spec, index) => column(logicalName, spec, index + 1)),
  };
}

const account = table('account', 'accounts', 1, 'name', [
  { name: 'accountid', type: 'Uniqueidentifier', primaryId: true },
  { name: 'name', type: 'String', maxLength: 160, primaryName: true },
  { name: 'accountnumber', type: 'String', maxLength: 20 },
  { name: 'telephone1', type: 'String', maxLength: 50 },
  { name: 'emailaddress1', type: 'String', maxLength: 100 },
  { name: 'websiteurl', type: 'String', maxLength: 200, typeName: 'StringType' },
  { name: 'address1_line1', type: 'String', maxLength: 250 },
  { name: 'address1_city', type: 'String', maxLength: 80 },
  { name: 'address1_postalcode', type: 'String', maxLength: 20 },
  { name: 'address1_country', type: 'String', maxLength: 80 },
  { name: 'address1_latitude', type: 'Double', precision: 5 },
  { name: 'address1_longitude', type: 'Double', precision: 5 },
  { name: 'description', type: 'Memo', maxLength: 2000 },
  { name: 'numberofemployees', type: 'Integer' },
  { name: 'sample_externalrank', type: 'BigInt' },
  { name: 'revenue', type: 'Money', precision: 2 },
  { name: 'revenue_base', type: 'Money', precision: 4 },
  { name: 'exchangerate', type: 'Decimal', precision: 10 },
  { name: 'sample_creditscore', type: 'Decimal', precision: 4 },
  { name: 'transactioncurrencyid', type: 'Lookup', targets: ['transactioncurrency'] },
  { name: 'creditonhold', type: 'Boolean', optionSet: booleanOptionSet('account_creditonhold') },
  { name: 'donotemail', type: 'Boolean', optionSet: booleanOptionSet('account_donotemail') },
  { name: 'lastusedincampaign', type: 'DateTime', behavior: 'UserLocal' },
  { name: 'sample_foundedon', type: 'DateTime', behavior: 'DateOnly' },
  { name: 'sample_contractstart', type: 'DateTime', behavior: 'TimeZoneIndependent' },
  {
    name: 'customertypecode',
    type: 'Picklist',
    optionSet: {
      name: 'account_customertypecode',
      isGlobal: false,
      type: 'Picklist',
      options: options([
        [1, 'Competitor', 'Wettbewerber'],
        [2, 'Consultant', 'Berater'],
        [3, 'Customer', 'Kunde'],
        [4, 'Partner', 'Partner'],
      ]),
    },
  },
  { name: 'sample_industry', type: 'Picklist', optionSet: industryOptionSet },
  {
    name: 'sample_channels',
    type: 'Virtual',
    typeName: 'MultiSelectPicklistType',
    optionSet: {
      name: 'account_sample_channels',
      isGlobal: false,
      type: 'MultiSelectPicklist',
      options: options([
        [1, 'Email', 'E-Mail'],
        [2, 'Phone', 'Telefon'],
        [3, 'Letter', 'Brief'],
        [4, 'Social, web & chat', 'Soziale Medien, Web & Chat'],
      ]),
    },
  },
  { name: 'parentaccountid', type: 'Lookup', targets: ['account'] },
  { name: 'parentaccountidname', type: 'String', maxLength: 160, attributeOf: 'parentaccountid' },
  { name: 'primarycontactid', type: 'Lookup', targets: ['contact'] },
  { name: 'processid', type: 'Uniqueidentifier' },
  { name: 'entityimage', type: 'Virtual', typeName: 'ImageType' },
  { name: 'sample_contractfile', type: 'Virtual', typeName: 'FileType' },
  ...systemColumns('account'),
]);

const contact = table('contact', 'contacts', 2, 'fullname', [
  { name: 'contactid', type: 'Uniqueidentifier', primaryId: true },
  { name: 'firstname', type: 'String', maxLength: 50 },
  { name: 'lastname', type: 'String', maxLength: 50 },
  { name: 'fullname', type: 'String', maxLength: 160, primaryName: true },
  { name: 'emailaddress1', type: 'String', maxLength: 100 },
  { name: 'jobtitle', type: 'String', maxLength: 100 },
  { name: 'birthdate', type: 'DateTime', behavior: 'DateOnly' },
  { name: 'parentcustomerid', type: 'Customer', targets: ['account', 'contact'] },
  { name: 'annualincome', type: 'Money', precision: 2 },
  { name: 'transactioncurrencyid', type: 'Lookup', targets: ['transactioncurrency'] },
  { name: 'donotphone', type: 'Boolean', optionSet: booleanOptionSet('contact_donotphone') },
  {
    name: 'preferredcontactmethodcode',
    type: 'Picklist',
    optionSet: {
      name: 'contact_preferredcontactmethodcode',
      isGlobal: false,
      type: 'Picklist',
      options: options([
        [1, 'Any', 'Beliebig'],
        [2, 'Email', 'E-Mail'],
        [3, 'Phone', 'Telefon'],
      ]),
    },
  },
  ...systemColumns('contact'),
]);

const opportunity = table('opportunity', 'opportunities', 3, 'name', [
  { name: 'opportunityid', type: 'Uniqueidentifier', primaryId: true },
  { name: 'name', type: 'String', maxLength: 300, primaryName: true },
  { name: 'customerid', type: 'Customer', targets: ['account', 'contact'] },
  { name: 'estimatedvalue', type: 'Money', precision: 2 },
  { name: 'transactioncurrencyid', type: 'Lookup', targets: ['transactioncurrency'] },
  { name: 'closeprobability', type: 'Integer' },
  { name: 'estimatedclosedate', type: 'DateTime', behavior: 'DateOnly' },
  { name: 'description', type: 'Memo', maxLength: 2000 },
  ...systemColumns('opportunity'),
]);

const systemuser = table('systemuser', 'systemusers', 8, 'fullname', [
  { name: 'systemuserid', type: 'Uniqueidentifier', primaryId: true },
  { name: 'fullname', type: 'String', maxLength: 200, primaryName: true },
  { name: 'domainname', type: 'String', maxLength: 1024 },
  { name: 'isdisabled', type: 'Boolean', optionSet: booleanOptionSet('systemuser_isdisabled') },
  { name: 'createdon', type: 'DateTime', behavior: 'UserLocal' },
  { name: 'modifiedon', type: 'DateTime', behavior: 'UserLocal' },
  { name: 'versionnumber', type: 'BigInt' },
]);

const role = table('role', 'roles', 1036, 'name', [
  { name: 'roleid', type: 'Uniqueidentifier', primaryId: true },
  { name: 'name', type: 'String', maxLength: 100, primaryName: true },
  { name: 'createdon', type: 'DateTime', behavior: 'UserLocal' },
  { name: 'modifiedon', type: 'DateTime', behavior: 'UserLocal' },
  { name: 'versionnumber', type: 'BigInt' },
]);

const systemuserroles = table(
  'systemuserroles',
  'systemuserrolescollection',
  44,
  null,
  [
    { name: 'systemuserroleid', type: 'Uniqueidentifier', primaryId: true },
    { name: 'systemuserid', type: 'Uniqueidentifier' },
    { name: 'roleid', type: 'Uniqueidentifier' },
    { name: 'versionnumber', type: 'BigInt' },
  ],
  true,
);

/** Tables in dependency order: rows of later tables point at rows of earlier ones. */
export const sampleTables: TableMetadata[] = [systemuser, role, account, contact, opportunity, systemuserroles];

export const sampleRelationships: ManyToManyRelationship[] = [
  {
    schemaName: 'systemuserroles_association',
    entity1LogicalName: 'systemuser',
    entity2LogicalName: 'role',
    intersectEntityName: 'systemuserroles',
    entity1IntersectAttribute: 'systemuserid',
    entity2IntersectAttribute: 'roleid',
  },
];

export function sampleTable(logicalName: string): TableMetadata {
  const found = sampleTables.find((candidate) => candidate.logicalName === logicalName);
  if (!found) throw new Error(`The sample org has no table '${logicalName}'`);
  return found;
}
