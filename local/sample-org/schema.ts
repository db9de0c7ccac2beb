/**
 * The sample org's metadata: a deterministic stand-in for a real Dataverse environment, covering every
 * column kind the product must map (strings, memos, numbers, money, booleans, the three date-time
 * behaviours, local and global choices, multi-select, state/status, lookups, customer, owner, image,
 * file, helper columns, a Regarding lookup, PartyList) plus an N:N intersect table and an activity table
 * (email) with its activityparty rows. Option labels come in English and German.
 */
import type { ManyToManyRelationship, OptionSetMetadata, TableMetadata } from '../../shared/dataverse/metadata';
import { booleanOptionSet, options, systemColumns, table } from './builders';

export { ENGLISH, GERMAN } from './builders';

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

/**
 * An activity table (a subset of email's documented columns): `regardingobjectid` is the polymorphic Regarding
 * lookup; `from`/`to`/`cc` are PartyList columns, which exist in metadata (LookupAttributeMetadata with
 * Targets) but not as Web API properties — their parties are activityparty rows
 * (learn.microsoft.com/power-apps/developer/data-platform/reference/entities/email).
 */
const email = table('email', 'emails', 4202, 'subject', [
  { name: 'activityid', type: 'Uniqueidentifier', primaryId: true },
  { name: 'subject', type: 'String', maxLength: 400, primaryName: true },
  { name: 'description', type: 'Memo', maxLength: 2000 },
  { name: 'directioncode', type: 'Boolean', optionSet: booleanOptionSet('email_directioncode') },
  { name: 'regardingobjectid', type: 'Lookup', targets: ['account', 'contact', 'opportunity'] },
  { name: 'from', type: 'PartyList', targets: ['account', 'contact', 'systemuser'] },
  { name: 'to', type: 'PartyList', targets: ['account', 'contact', 'systemuser'] },
  { name: 'cc', type: 'PartyList', targets: ['account', 'contact', 'systemuser'] },
  ...systemColumns('email'),
]);

/** `participationtypemask` choices as documented (reference/entities/activityparty). */
export const PARTICIPATION = { sender: 1, toRecipient: 2, ccRecipient: 3 } as const;

/**
 * activityparty, a subset of its documented columns (reference/entities/activityparty): the entity set
 * `activityparties` answers GET only; `activityid` points at activitypointer, `partyid` is polymorphic.
 * Change tracking is on here as on every sample table; whether a real org allows it on activityparty is not
 * verified (README, Known gaps).
 */
const activityparty = table('activityparty', 'activityparties', 135, 'partyidname', [
  { name: 'activitypartyid', type: 'Uniqueidentifier', primaryId: true },
  { name: 'activityid', type: 'Lookup', targets: ['activitypointer'] },
  { name: 'partyid', type: 'Lookup', targets: ['account', 'contact', 'knowledgearticle', 'queue', 'systemuser'] },
  { name: 'partyidname', type: 'String', maxLength: 400, attributeOf: 'partyid' },
  {
    name: 'participationtypemask',
    type: 'Picklist',
    optionSet: {
      name: 'activityparty_participationtypemask',
      isGlobal: false,
      type: 'Picklist',
      options: options([
        [1, 'Sender', 'Absender'],
        [2, 'To Recipient', 'An-Empfänger'],
        [3, 'CC Recipient', 'CC-Empfänger'],
        [4, 'BCC Recipient', 'BCC-Empfänger'],
        [5, 'Required attendee', 'Erforderlicher Teilnehmer'],
        [6, 'Optional attendee', 'Optionaler Teilnehmer'],
        [7, 'Organizer', 'Organisator'],
        [8, 'Regarding', 'Bezug'],
        [9, 'Owner', 'Besitzer'],
        [10, 'Resource', 'Ressource'],
        [11, 'Customer', 'Kunde'],
        [12, 'Chat Participant', 'Chatteilnehmer'],
      ]),
    },
  },
  { name: 'addressused', type: 'String', maxLength: 320 },
  { name: 'ispartydeleted', type: 'Boolean', optionSet: booleanOptionSet('activityparty_ispartydeleted') },
  { name: 'versionnumber', type: 'BigInt' },
]);

/** Tables in dependency order: rows of later tables point at rows of earlier ones. */
export const sampleTables: TableMetadata[] = [
  systemuser,
  role,
  account,
  contact,
  opportunity,
  systemuserroles,
  email,
  activityparty,
];

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
