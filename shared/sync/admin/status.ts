/** A profile's status: activation, the initial sync's progress, and per table phase, rows, freshness, lag and failures. */
import type { Destination } from '../../destinations/destination';
import { isLive, type OrchestrationClient, type OrchestrationStatus } from '../../orchestration/client';
import type { Checkpoint } from '../../state/checkpoints';
import type { TableStatus } from '../../state/table-status';
import type { Versioned } from '../../state/versioned';
import { initialSyncInstanceId, resyncInstanceId } from './activation';
import { lagSeconds, tableHealth, type HealthRules, type TableFacts, type TableHealth } from './table-health';
import type { SyncServices } from '../wiring/services';

export interface TableStatusView {
  table: string;
  phase: 'initial' | 'delta' | 'resync' | 'not started';
  rowsInDestination: number | null;
  initialRowsCopied: number;
  pages: number;
  rowsApplied: number;
  lastSuccessfulSyncAt: string | null;
  /**
   * Seconds the destination is behind: since the oldest change read and not applied yet, or while polls fail since
   * the last successful poll, or after a failed copy since it started; 0 only when caught up (table-health.ts).
   */
  lagSeconds: number;
  /**
   * `degraded` when polls have failed, or changes read have waited to be applied, for several poll intervals;
   * `failed` when the copy stopped short of delta.
   */
  health: TableHealth;
  failedRecords: number;
  lastError: { errorClass: string; message: string; at: string } | null;
  /** Dataverse's Retry-After (capped) keeps the poller off this table until then; null when not throttled. */
  throttledUntil: string | null;
}

export interface ProfileStatusView {
  profile: string;
  state: 'active' | 'inactive' | 'never activated';
  activatedAt: string | null;
  /** The source's organization id the checkpoints belong to, and why every table was last started over, if ever. */
  sourceEnvironment: { organizationId: string | null; rebaselined: { at: string; reason: string } | null };
  initialSync: { runtimeStatus: string; progress: unknown; lastUpdatedTime: string } | null;
  tables: TableStatusView[];
}

const orchestrationView = (status: OrchestrationStatus | undefined) =>
  status
    ? {
        runtimeStatus: status.runtimeStatus,
        progress: status.customStatus,
        lastUpdatedTime: status.lastUpdatedTime.toISOString(),
      }
    : null;

export type StatusServices = Pick<
  SyncServices,
  'activations' | 'checkpoints' | 'status' | 'failedRecords' | 'runtimes' | 'now'
>;

/** Null where the destination cannot count (the lake) or counting failed: status must answer anyway. */
async function countRows(destination: Destination, table: string): Promise<number | null> {
  return destination.countRows ? destination.countRows(table).catch(() => null) : null;
}

/** When the copy of a table not in delta has an orchestration that is over, how it ended. */
function copyEnded(
  phase: TableFacts['phase'],
  initialSync: OrchestrationStatus | undefined,
  resync: OrchestrationStatus | undefined,
): TableFacts['copyEnded'] {
  const copy = phase === 'resync' ? resync : phase === 'delta' ? undefined : initialSync;
  return copy && !isLive(copy)
    ? { runtimeStatus: copy.runtimeStatus, at: copy.lastUpdatedTime.toISOString() }
    : undefined;
}

/** What table-health.ts judges a table by, from its checkpoint, its status and the orchestrations copying it. */
export function tableFacts(
  active: boolean,
  checkpoint: Versioned<Checkpoint> | undefined,
  status: TableStatus | undefined,
  copies: { initialSync: OrchestrationStatus | undefined; resync: OrchestrationStatus | undefined },
): TableFacts {
  const phase = checkpoint?.value.phase ?? 'not started';
  const facts: TableFacts = { active, phase };
  if (checkpoint) facts.checkpointUpdatedAt = checkpoint.value.updatedAt;
  if (checkpoint) facts.copyStartedAt = checkpoint.value.startedAt;
  if (status?.oldestUnappliedChangeAt) facts.oldestUnappliedChangeAt = status.oldestUnappliedChangeAt;
  if (status?.lastError) facts.lastError = status.lastError;
  if (status?.throttledUntil) facts.throttledUntil = status.throttledUntil;
  const ended = copyEnded(phase, copies.initialSync, copies.resync);
  if (ended) facts.copyEnded = ended;
  return facts;
}

/** Only tables in resync have a resync orchestration worth asking about: one status read per such table. */
export async function resyncStatuses(
  orchestrations: OrchestrationClient,
  profile: string,
  checkpoints: Array<{ table: string } & Versioned<Checkpoint>>,
): Promise<Map<string, OrchestrationStatus | undefined>> {
  const resyncing = checkpoints.filter((checkpoint) => checkpoint.value.phase === 'resync');
  const statuses = await Promise.all(
    resyncing.map((checkpoint) => orchestrations.getStatus(resyncInstanceId(profile, checkpoint.table))),
  );
  return new Map(resyncing.map((checkpoint, i) => [checkpoint.table, statuses[i]]));
}

export async function profileStatus(
  services: StatusServices,
  orchestrations: OrchestrationClient,
  profile: string,
  rules: HealthRules,
): Promise<ProfileStatusView> {
  const [activation, checkpoints, statuses, failures, orchestration] = await Promise.all([
    services.activations.get(profile),
    services.checkpoints.listByProfile(profile),
    services.status.listByProfile(profile),
    services.failedRecords.countByTable(profile),
    orchestrations.getStatus(initialSyncInstanceId(profile)),
  ]);
  const active = activation?.value.state === 'active';
  const resyncs = await resyncStatuses(orchestrations, profile, checkpoints);
  const tables = activation?.value.tables ?? checkpoints.map((checkpoint) => checkpoint.table);
  const destination = active
    ? await services.runtimes
        .get(profile)
        .then((r) => r.destination)
        .catch(() => undefined)
    : undefined;
  const now = services.now();
  const views = await Promise.all(
    tables.map(async (table): Promise<TableStatusView> => {
      const checkpoint = checkpoints.find((candidate) => candidate.table === table);
      const status = statuses.find((candidate) => candidate.table === table);
      const rowsInDestination = destination ? await countRows(destination, table) : (status?.rowsInDestination ?? null);
      const facts = tableFacts(active, checkpoint, status, { initialSync: orchestration, resync: resyncs.get(table) });
      return {
        table,
        phase: facts.phase,
        rowsInDestination,
        initialRowsCopied: checkpoint?.value.rowsCopied ?? 0,
        pages: checkpoint?.value.pages ?? 0,
        rowsApplied: status?.rowsApplied ?? 0,
        lastSuccessfulSyncAt: status?.lastSuccessfulSyncAt ?? null,
        lagSeconds: lagSeconds(facts, now, rules),
        health: tableHealth(facts, now, rules),
        failedRecords: failures[table] ?? 0,
        lastError: status?.lastError ?? null,
        throttledUntil:
          status?.throttledUntil !== undefined && Date.parse(status.throttledUntil) > now.getTime()
            ? status.throttledUntil
            : null,
      };
    }),
  );
  return {
    profile,
    state: activation ? activation.value.state : 'never activated',
    activatedAt: activation?.value.activatedAt ?? null,
    sourceEnvironment: {
      organizationId: activation?.value.organizationId ?? null,
      rebaselined: activation?.value.rebaselined ?? null,
    },
    initialSync: orchestrationView(orchestration),
    tables: views,
  };
}
