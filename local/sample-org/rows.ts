/**
 * Deterministic sample rows. Row `index` of a table is a pure function of (seed, table, index), so a
 * store can regenerate any row on demand instead of holding a million of them, and every machine
 * produces the same data for the same seed.
 *
 * Values are logical (column logical name → value); lookups are `{ id, logicalName }` so a serializer
 * can write them as `_x_value` plus the `lookuplogicalname` annotation, as Dataverse does.
 */
import type { ColumnMetadata, TableMetadata } from '../../shared/dataverse/metadata';
import { stableGuid } from './ids';
import { PARTICIPATION, sampleTable } from './schema';

/** Each sample email has a sender (systemuser), a to recipient (contact) and a cc recipient (account). */
export const PARTIES_PER_EMAIL = 3;

export interface LookupValue {
  id: string;
  logicalName: string;
}
export type SampleValue = string | number | boolean | null | LookupValue;
export type SampleRow = Record<string, SampleValue>;

export interface SampleCounts {
  systemuser: number;
  role: number;
  account: number;
  contact: number;
  opportunity: number;
  systemuserroles: number;
  email: number;
  /** Three parties per email (sender, to, cc): party `i` belongs to email `floor(i / 3)`. */
  activityparty: number;
}

/**
 * Row counts for a given number of accounts (the `--scale` knob); contacts are 1.5 per account unless
 * `contacts` says otherwise (benchmarks size the two largest tables independently).
 */
export function sampleCounts(accounts: number, contacts: number = Math.ceil(accounts * 1.5)): SampleCounts {
  const systemuser = Math.max(5, Math.min(500, Math.ceil(accounts / 100)));
  const role = 12;
  const email = Math.min(1_000, Math.ceil(accounts / 10));
  return {
    systemuser,
    role,
    account: accounts,
    contact: contacts,
    opportunity: Math.ceil(accounts / 2),
    systemuserroles: systemuser * 2,
    email,
    activityparty: email * PARTIES_PER_EMAIL,
  };
}

export const DEFAULT_SAMPLE_ACCOUNTS = 2_000;

const idPrefixes = new Map<string, string>();

/** The GUID's first 23 characters, fixed per (seed, table); the last 12 hex digits are the row index. */
function idPrefix(seed: number, table: string): string {
  const key = `${seed}:${table}`;
  let prefix = idPrefixes.get(key);
  if (prefix === undefined) {
    prefix = stableGuid(key).slice(0, 23);
    idPrefixes.set(key, prefix);
  }
  return prefix;
}

/**
 * Ids carry their row index so a store can find generated row `index` from its id (PATCH/DELETE by id)
 * without holding an id → index map for a million rows.
 */
export function sampleRowId(seed: number, table: string, index: number): string {
  // `n % 0` is NaN: an id made of it (`…-000000000NaN`) is no GUID, and a destination refuses the row holding it.
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`Not a row index of sample ${table}: ${index}`);
  return `${idPrefix(seed, table)}-${index.toString(16).padStart(12, '0')}`;
}

/** The index of a generated row id, or undefined when the id was not generated for this (seed, table). */
export function sampleRowIndex(seed: number, table: string, id: string): number | undefined {
  const prefix = idPrefix(seed, table);
  const lower = id.toLowerCase();
  if (lower.length !== 36 || !lower.startsWith(`${prefix}-`)) return undefined;
  const index = Number.parseInt(lower.slice(24), 16);
  return Number.isSafeInteger(index) ? index : undefined;
}

/**
 * A lookup to row `index` (wrapped around) of `table`, or null when the org has no rows of it: a Dataverse lookup
 * holds the id of an existing row or nothing.
 */
function lookupTo(seed: number, table: keyof SampleCounts, index: number, counts: SampleCounts): LookupValue | null {
  const rows = counts[table];
  return rows > 0 ? { id: sampleRowId(seed, table, index % rows), logicalName: table } : null;
}

export const SAMPLE_CURRENCY: LookupValue = {
  id: stableGuid('transactioncurrency:EUR'),
  logicalName: 'transactioncurrency',
};

/** mulberry32: a tiny, well-known 32-bit PRNG; enough for reproducible sample data. */
export function mulberry32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seededRandom(seedText: string): () => number {
  let seed = 0;
  for (let i = 0; i < seedText.length; i++) seed = (Math.imul(seed, 31) + seedText.charCodeAt(i)) | 0;
  return mulberry32(seed);
}

const words = [
  'Contoso',
  'Fabrikam',
  'Northwind',
  'Adventure',
  'Litware',
  'Tailspin',
  'Wingtip',
  'Proseware',
  'Alpine',
  'Blue Yonder',
  'Coho',
  'Fourth Coffee',
  'Woodgrove',
  'Lucerne',
  'Margie’s',
  'Trey',
  'Zürich',
  'Ølstykke',
];
const cities = ['Seattle', 'Redmond', 'München', 'São Paulo', 'Zürich', 'København', 'Kraków', 'Lyon', 'Osaka'];
const firstNames = ['Ana', 'Björn', 'Chloé', 'Dmitri', 'Eve', 'Farah', 'Günter', 'Hana', 'Iñigo', 'Jo'];
const lastNames = ['Ng', 'O’Brien', 'Müller', 'Nakamura', 'Silva', 'Smith', 'Kowalski', 'Dubois', 'Ivanova'];

function pick<T>(next: () => number, list: readonly T[]): T {
  return list[Math.floor(next() * list.length)] as T;
}

function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const FIRST_DAY = Date.UTC(2019, 0, 1);
const SPAN = Date.UTC(2025, 11, 31) - FIRST_DAY;

function valueFor(
  column: ColumnMetadata,
  table: TableMetadata,
  index: number,
  seed: number,
  counts: SampleCounts,
  next: () => number,
  row: SampleRow,
): SampleValue {
  const name = column.logicalName;
  if (column.isPrimaryId) return sampleRowId(seed, table.logicalName, index);
  switch (name) {
    case 'versionnumber':
      return null; // assigned by the store on every write
    case 'createdon':
      return isoSeconds(FIRST_DAY + next() * SPAN);
    case 'modifiedon':
      return row.createdon ?? null;
    case 'createdby':
    case 'modifiedby':
    case 'ownerid':
      return lookupTo(seed, 'systemuser', index, counts);
    case 'owneridtype':
      return 'systemuser';
    case 'transactioncurrencyid':
      return SAMPLE_CURRENCY;
    case 'exchangerate':
      return 1;
    case 'revenue_base':
      return typeof row.revenue === 'number' ? row.revenue : null;
    case 'parentaccountid':
      return index % 5 === 0 || index === 0
        ? null
        : { id: sampleRowId(seed, 'account', Math.floor(index / 5) * 5), logicalName: 'account' };
    case 'parentaccountidname':
      return row.parentaccountid === null ? null : `Parent of ${index}`;
    case 'primarycontactid':
      return lookupTo(seed, 'contact', index, counts);
    case 'parentcustomerid':
    case 'customerid':
      return next() < 0.8 ? lookupTo(seed, 'account', index, counts) : lookupTo(seed, 'contact', index + 1, counts);
    case 'systemuserid':
      return sampleRowId(seed, 'systemuser', index % counts.systemuser);
    case 'roleid':
      return sampleRowId(seed, 'role', (index * 7) % counts.role);
    case 'statecode':
      return index % 10 === 9 ? 1 : 0;
    case 'statuscode':
      return index % 10 === 9 ? 2 : 1;
    case 'name':
      return table.logicalName === 'role'
        ? `Role ${index}`
        : `${pick(next, words)} ${table.logicalName === 'opportunity' ? 'deal' : 'Ltd'} #${index}`;
    case 'fullname':
      return row.firstname !== undefined
        ? `${row.firstname as string} ${row.lastname as string}` // names are picked strings, never lookups
        : `${pick(next, firstNames)} ${pick(next, lastNames)}`;
    case 'firstname':
      return pick(next, firstNames);
    case 'lastname':
      return pick(next, lastNames);
    case 'emailaddress1':
      return `user${index}@example.com`;
    case 'domainname':
      return `user${index}@contoso.example`;
    case 'telephone1':
      return `+1-555-${String(index % 10_000).padStart(4, '0')}`;
    case 'address1_city':
      return pick(next, cities);
    case 'description':
      // Quotes, commas and a line break on purpose: CSV and SQL encoders must keep them intact.
      return index % 3 === 0 ? null : `Account "${index}", notes:\nline two, ${pick(next, cities)}`;
    case 'entityimage':
    case 'sample_contractfile':
      return null;
    case 'subject':
      return `${pick(next, words)} follow-up #${index}`;
    case 'regardingobjectid':
      return regarding(index, seed, counts);
    case 'activityid':
      // activityparty's lookup; its one target is activitypointer (reference/entities/activityparty).
      return { id: sampleRowId(seed, 'email', Math.floor(index / PARTIES_PER_EMAIL)), logicalName: 'activitypointer' };
    case 'partyid':
      return party(index, seed, counts);
    case 'participationtypemask':
      return (
        [PARTICIPATION.sender, PARTICIPATION.toRecipient, PARTICIPATION.ccRecipient][index % PARTIES_PER_EMAIL] ?? null
      );
    case 'addressused':
      return index % PARTIES_PER_EMAIL === 1 ? `user${Math.floor(index / PARTIES_PER_EMAIL)}@example.com` : null;
    case 'ispartydeleted':
      return false;
  }
  switch (column.attributeType) {
    case 'String':
      return index % 7 === 0
        ? null
        : `${pick(next, words)} ${Math.floor(next() * 1000)}`.slice(0, column.maxLength ?? 100);
    case 'Memo':
      return `${pick(next, words)} memo ${index}`;
    case 'Integer':
      return Math.floor(next() * 100_000);
    case 'BigInt':
      return Math.floor(next() * 1e12);
    case 'Double':
      return Math.round((next() * 180 - 90) * 1e5) / 1e5;
    case 'Money':
    case 'Decimal': {
      const scale = 10 ** Math.min(column.precision ?? 2, 4);
      return Math.round(next() * 1e7 * scale) / scale;
    }
    case 'Boolean':
      return next() < 0.5;
    case 'DateTime': {
      const ms = FIRST_DAY + next() * SPAN;
      return column.dateTimeBehavior === 'DateOnly' ? isoSeconds(ms).slice(0, 10) : isoSeconds(ms);
    }
    case 'Picklist': {
      if (index % 11 === 0) return null;
      return pick(next, column.optionSet?.options ?? []).value;
    }
    case 'Virtual': {
      if (column.attributeTypeName !== 'MultiSelectPicklistType') return null;
      const chosen = (column.optionSet?.options ?? []).filter(() => next() < 0.4).map((option) => option.value);
      return chosen.length === 0 ? null : chosen.join(',');
    }
    case 'Uniqueidentifier':
      return index % 2 === 0 ? null : stableGuid(`${seed}:${table.logicalName}:${index}:${name}`);
    default:
      return null;
  }
}

/** An email's Regarding: an account, a contact, an opportunity or nothing, in turn (a polymorphic lookup). */
function regarding(index: number, seed: number, counts: SampleCounts): LookupValue | null {
  switch (index % 4) {
    case 0:
      return lookupTo(seed, 'account', index, counts);
    case 1:
      return lookupTo(seed, 'contact', index, counts);
    case 2:
      return lookupTo(seed, 'opportunity', index, counts);
    default:
      return null;
  }
}

/** Party `index`: the sender is a user, the to recipient a contact, the cc recipient an account. */
function party(index: number, seed: number, counts: SampleCounts): LookupValue | null {
  const email = Math.floor(index / PARTIES_PER_EMAIL);
  switch (index % PARTIES_PER_EMAIL) {
    case 0:
      return lookupTo(seed, 'systemuser', email, counts);
    case 1:
      return lookupTo(seed, 'contact', email, counts);
    default:
      return lookupTo(seed, 'account', email, counts);
  }
}

/** Row `index` of `table` for `seed`. Same arguments, same row. */
export function sampleRow(tableName: string, index: number, seed: number, counts: SampleCounts): SampleRow {
  const table = sampleTable(tableName);
  const next = seededRandom(`${seed}:${tableName}:${index}`);
  const row: SampleRow = {};
  // Fill in column order, but make sure the values other columns derive from exist first.
  for (const column of table.columns) row[column.logicalName] = valueFor(column, table, index, seed, counts, next, row);
  if (typeof row.firstname === 'string') row.fullname = `${row.firstname} ${row.lastname as string}`;
  return row;
}

export function* sampleRows(tableName: string, seed: number, counts: SampleCounts): Generator<SampleRow> {
  const total = counts[tableName as keyof SampleCounts];
  for (let index = 0; index < total; index++) yield sampleRow(tableName, index, seed, counts);
}
