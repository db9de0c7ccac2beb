/**
 * Reads what the chaos run's two destinations hold, straight from their stores (the hosts are separate
 * processes): the PostgreSQL tables and DeleteLog, and the lake read back as DataverseToSql reads it
 * (latest state per Id, deletes dropped). Everything comes back as id → versionnumber plus the user–role
 * pairs, so both can be held against the source and against what the workload did; the whole rows too when
 * asked, for the one value comparison at the end (local/verify.ts compareRows).
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { Client } from 'pg';
import type { Emulator } from '../../local/emulator/server';
import { compareRows, sourceRows, sourceTable, type ReadRow } from '../../local/verify';
import { userRoleKey } from '../../local/workload/workload';
import { typeParsers } from '../../shared/destinations/sql/pg-connection';
import { readLikeDataverseToSql } from '../lake/lake-readers';
import { CHAOS_APPLICATION_NAME } from './faults';

export interface DestinationState {
  /** table → id → versionnumber */
  versions: Map<string, Map<string, number>>;
  /** `userRoleKey`s of the systemuserroles rows. */
  userRoles: Set<string>;
  /** table → id → row, when read with `rows: true` (the lake's always: it is read whole anyway). */
  rows?: Map<string, Map<string, ReadRow>>;
}

const keyOf = (row: Record<string, unknown>): string =>
  userRoleKey(String(row.systemuserid).toLowerCase(), String(row.roleid).toLowerCase());

export async function withChaosClient<T>(connectionString: string, work: (client: Client) => Promise<T>): Promise<T> {
  // The product's type parsers: `timestamp` stays text to be read as UTC (shared/destinations/sql/pg-connection.ts).
  const client = new Client({ connectionString, application_name: CHAOS_APPLICATION_NAME, types: typeParsers });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function readSqlDestination(
  connectionString: string,
  schema: string,
  tables: string[],
  options: { rows?: boolean } = {},
): Promise<DestinationState> {
  return withChaosClient(connectionString, async (client) => {
    const versions = new Map<string, Map<string, number>>();
    const whole = new Map<string, Map<string, ReadRow>>();
    for (const table of tables) {
      if (options.rows) {
        const { rows } = await client.query<ReadRow>(`SELECT * FROM "${schema}"."${table}"`);
        const byId = new Map(rows.map((row) => [String(row.Id).toLowerCase(), row]));
        whole.set(table, byId);
        versions.set(table, new Map([...byId].map(([id, row]) => [id, Number(row.versionnumber)])));
        continue;
      }
      const { rows } = await client.query<{ id: string; version: string }>(
        `SELECT "Id"::text AS id, "versionnumber"::text AS version FROM "${schema}"."${table}"`,
      );
      versions.set(table, new Map(rows.map((row) => [row.id.toLowerCase(), Number(row.version)])));
    }
    const { rows } = await client.query<Record<string, unknown>>(
      `SELECT "systemuserid"::text AS systemuserid, "roleid"::text AS roleid FROM "${schema}"."systemuserroles"`,
    );
    return { versions, userRoles: new Set(rows.map(keyOf)), ...(options.rows ? { rows: whole } : {}) };
  });
}

/** Rows that a logged delete should have removed: live in a table at or below the version of a delete of the same id. */
export async function rowsBehindTheirDeleteLog(
  connectionString: string,
  schema: string,
  tables: string[],
): Promise<string[]> {
  return withChaosClient(connectionString, async (client) => {
    const found: string[] = [];
    for (const table of tables) {
      const { rows } = await client.query<{ id: string; version: string; deleted: string }>(
        `SELECT t."Id"::text AS id, t."versionnumber"::text AS version, max(d."VersionNumber")::text AS deleted
         FROM "${schema}"."${table}" t JOIN "${schema}"."DeleteLog" d ON d."EntityName" = $1 AND lower(d."RecordId") = lower(t."Id"::text)
         GROUP BY t."Id", t."versionnumber" HAVING max(d."VersionNumber") >= t."versionnumber"`,
        [table],
      );
      found.push(...rows.map((row) => `${table} ${row.id} at ${row.version}, deleted at ${row.deleted}`));
    }
    return found;
  });
}

export async function readLakeDestination(
  connectionString: string,
  container: string,
  tables: string[],
): Promise<DestinationState> {
  const lake = await readLikeDataverseToSql(
    BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container),
  );
  const versions = new Map<string, Map<string, number>>();
  const rows = new Map<string, Map<string, ReadRow>>();
  for (const table of tables) {
    const latest = lake.get(table) ?? new Map<string, Record<string, string | null>>();
    rows.set(table, latest);
    versions.set(table, new Map([...latest].map(([id, row]) => [id, Number(row.versionnumber)])));
  }
  return { versions, userRoles: new Set([...(lake.get('systemuserroles')?.values() ?? [])].map(keyOf)), rows };
}

/** id → versionnumber of the source, with lower-case ids as the destinations are read. */
export function differences(
  table: string,
  source: Map<string, number>,
  destination: Map<string, number> | undefined,
): string[] {
  const read = destination ?? new Map<string, number>();
  const found: string[] = [];
  for (const [id, version] of source) {
    const held = read.get(id);
    if (held === undefined) found.push(`${table} ${id} missing (source ${version})`);
    else if (held !== version) found.push(`${table} ${id} at ${held}, source ${version}`);
  }
  for (const [id, version] of read) if (!source.has(id)) found.push(`${table} ${id} extra at ${version}`);
  return found;
}

/**
 * Every column of every row held at the source's version, against the source (missing, stale and extra rows
 * are `differences`' to report). Run once, at the end: it reads every row of every table.
 */
export function wrongValues(
  emulator: Emulator,
  destination: DestinationState,
  kind: 'sql' | 'lake',
  tables: string[],
): string[] {
  if (!destination.rows) throw new Error(`the ${kind} destination was read without its rows`);
  const found: string[] = [];
  for (const table of tables) {
    const difference = compareRows(
      sourceTable(emulator, table),
      sourceRows(emulator, table),
      destination.rows.get(table) ?? new Map<string, ReadRow>(),
      kind,
    );
    found.push(...difference.wrongValues.map((text) => `${kind}: ${text}`));
    if (difference.wrongValueCount > difference.wrongValues.length)
      found.push(`${kind}: ${table} has ${difference.wrongValueCount} wrong values in all`);
  }
  return found;
}
