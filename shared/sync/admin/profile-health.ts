/**
 * What /api/health adds to the storage probes for every ACTIVE profile: a probe of its Dataverse source and
 * of its destination, and its tables that are not ok (table-health.ts), so a failing source or a stalled table
 * shows there and not only in the profile's status.
 */
import pLimit from 'p-limit';
import type { HealthProbe } from '../../health';
import { initialSyncInstanceId } from './activation';
import type { OrchestrationClient } from '../../orchestration/client';
import { resyncStatuses, tableFacts } from './status';
import { lagSeconds, tableHealth, type HealthRules, type TableHealth } from './table-health';
import type { SyncServices } from '../wiring/services';

export type ProfileHealthServices = Pick<
  SyncServices,
  'activations' | 'profiles' | 'snapshots' | 'checkpoints' | 'status' | 'runtimes' | 'now'
>;

export interface TableHealthEntry {
  profile: string;
  table: string;
  health: TableHealth;
  lagSeconds: number;
}

/** A GUID no row has: reading it is a primary-key lookup answered 404, the cheapest authenticated call on a table. */
const NO_ROW_ID = '00000000-0000-0000-0000-000000000000';
const PROFILES_READ_AT_ONCE = 4;

async function activeProfiles(services: ProfileHealthServices): Promise<Array<{ name: string; tables: string[] }>> {
  const activations = await services.activations.list();
  return activations
    .filter(({ value }) => value.state === 'active')
    .map(({ name, value }) => ({ name, tables: value.tables }));
}

/** The source and destination probe of one profile; each fails with words safe to return (shared/health.ts). */
function probesOf(
  services: ProfileHealthServices,
  profile: string,
  tables: string[],
  timeoutMs: number,
): HealthProbe[] {
  const source: HealthProbe = {
    name: `profile ${profile}: source`,
    async check() {
      const [stored, snapshot] = await Promise.all([services.profiles.get(profile), services.snapshots.get(profile)]);
      const table = snapshot?.value.tables[0];
      if (!stored || !table) throw new Error('the profile or its metadata snapshot is missing');
      // One attempt: a probe reports what Dataverse answers now, it does not wait out a retry schedule.
      const client = await services.runtimes.sourceFor(stored.value, { maxAttempts: 1, requestTimeoutMs: timeoutMs });
      await client.readRowsById(table, [NO_ROW_ID], { select: [table.primaryIdAttribute] });
    },
  };
  const destination: HealthProbe = {
    name: `profile ${profile}: destination`,
    async check() {
      const { destination: opened } = await services.runtimes.get(profile);
      // A SQL destination answers a count of one table; the lake has no query, and opening it is all it is asked.
      const table = tables[0];
      if (opened.countRows && table) await opened.countRows(table);
    },
  };
  return [source, destination];
}

export async function profileProbes(services: ProfileHealthServices, timeoutMs: number): Promise<HealthProbe[]> {
  return (await activeProfiles(services)).flatMap(({ name, tables }) => probesOf(services, name, tables, timeoutMs));
}

/** The tables of active profiles that are degraded or failed, with their lag. */
export async function unhealthyTables(
  services: ProfileHealthServices,
  orchestrationsOf: () => OrchestrationClient,
  rules: HealthRules,
): Promise<TableHealthEntry[]> {
  const limit = pLimit(PROFILES_READ_AT_ONCE);
  const profiles = await activeProfiles(services);
  // Asked for only when a profile is active: with none, health needs no durable client at all.
  if (profiles.length === 0) return [];
  const orchestrations = orchestrationsOf();
  const perProfile = await Promise.all(
    profiles.map(({ name: profile, tables }) =>
      limit(async () => {
        const [checkpoints, statuses, initialSync] = await Promise.all([
          services.checkpoints.listByProfile(profile),
          services.status.listByProfile(profile),
          orchestrations.getStatus(initialSyncInstanceId(profile)),
        ]);
        const resyncs = await resyncStatuses(orchestrations, profile, checkpoints);
        const now = services.now();
        return tables.map((table): TableHealthEntry => {
          const checkpoint = checkpoints.find((candidate) => candidate.table === table);
          const status = statuses.find((candidate) => candidate.table === table);
          const facts = tableFacts(true, checkpoint, status, { initialSync, resync: resyncs.get(table) });
          const health = tableHealth(facts, now, rules);
          return { profile, table, health, lagSeconds: lagSeconds(facts, now, rules) };
        });
      }),
    ),
  );
  return perProfile.flat().filter((entry) => entry.health.state !== 'ok');
}
