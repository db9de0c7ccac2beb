/**
 * Reads what the chaos run's two destinations hold, straight from their stores (the hosts are separate
 * processes): the PostgreSQL tables and DeleteLog, and the lake read back as DataverseToSql reads it
 * (latest state per Id, deletes dropped). Everything comes back as id → versionnumber plus the user–role
 * pairs, so both can be held against the source and against what the workload did.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { Client } from 'pg';
import { userRoleKey } from '../../local/workload/workload';
import { readLikeDataverseToSql } from '../lake/lake-readers';
import { CHAOS_APPLICATION_NAME } from './faults';

export interface DestinationState {
  /** table → id → versionnumber */
  versions: Map<string, Map<string, number>>;
  /** `userRoleKey`s of the systemuserroles rows. */
  userRoles: Set<string>;
}

const keyOf = (row: Record<string, unknown>): string => userRoleKey(String(row.systemuserid).toLowerCase(), String(row.roleid).toLowerCase());

export async function withChaosClient<T>(connectionString: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString, application_name: CHAOS_APPLICATION_NAME });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function readSqlDestination(connectionString: string, schema: string, tables: string[]): Promise<DestinationState> {
  return withChaosClient(connectionString, async (client) => {
    const versions = new Map<string, Map<string, number>>();
    for (const table of tables) {
      const { rows } = await client.query<{ id: string; version: string }>(`SELECT "Id"::text AS id, "versionnumber"::text AS version FROM "${schema}"."${table}"`);
      versions.set(table, new Map(rows.map((row) => [row.id.toLowerCase(), Number(row.version)])));
    }
    const { rows } = await client.query<Record<string, unknown>>(`SELECT "systemuserid"::text AS systemuserid, "roleid"::text AS roleid FROM "${schema}"."systemuserroles"`);
    return { versions, userRoles: new Set(rows.map(keyOf)) };
  });
}

/** Rows that a logged delete should have removed: live in a table at or below the version of a delete of the same id. */
export async function rowsBehindTheirDeleteLog(connectionString: string, schema: string, tables: string[]): Promise<string[]> {
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

export async function readLakeDestination(connectionString: string, container: string, tables: string[]): Promise<DestinationState> {
  const lake = await readLikeDataverseToSql(BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container));
  const versions = new Map<string, Map<string, number>>();
  for (const table of tables) {
    versions.set(table, new Map([...(lake.get(table) ?? new Map<string, Record<string, string | null>>())].map(([id, row]) => [id, Number(row.versionnumber)])));
  }
  return { versions, userRoles: new Set([...(lake.get('systemuserroles')?.values() ?? [])].map(keyOf)) };
}

/** id → versionnumber of the source, with lower-case ids as the destinations are read. */
export function differences(table: string, source: Map<string, number>, destination: Map<string, number> | undefined): string[] {
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
