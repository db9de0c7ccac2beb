/** A profile's status: activation, the initial sync's progress, and per table phase, rows, freshness, lag and failures. */
import type { Destination } from '../../destinations/destination';
import type { OrchestrationClient, OrchestrationStatus } from '../../orchestration/client';
import { initialSyncInstanceId } from './activation';
import type { SyncServices } from '../wiring/services';

export interface TableStatusView {
  table: string;
  phase: 'initial' | 'delta' | 'resync' | 'not started';
  rowsInDestination: number | null;
  initialRowsCopied: number;
  pages: number;
  rowsApplied: number;
  lastSuccessfulSyncAt: string | null;
  /** Seconds since the oldest change read from Dataverse that is not applied yet; 0 when caught up. */
  lagSeconds: number;
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

export async function profileStatus(
  services: StatusServices,
  orchestrations: OrchestrationClient,
  profile: string,
): Promise<ProfileStatusView> {
  const [activation, checkpoints, statuses, failures, orchestration] = await Promise.all([
    services.activations.get(profile),
    services.checkpoints.listByProfile(profile),
    services.status.listByProfile(profile),
    services.failedRecords.countByTable(profile),
    orchestrations.getStatus(initialSyncInstanceId(profile)),
  ]);
  const tables = activation?.value.tables ?? checkpoints.map((checkpoint) => checkpoint.table);
  const destination =
    activation?.value.state === 'active'
      ? await services.runtimes
          .get(profile)
          .then((r) => r.destination)
          .catch(() => undefined)
      : undefined;
  const now = services.now().getTime();
  const views = await Promise.all(
    tables.map(async (table): Promise<TableStatusView> => {
      const checkpoint = checkpoints.find((candidate) => candidate.table === table)?.value;
      const status = statuses.find((candidate) => candidate.table === table);
      const rowsInDestination = destination ? await countRows(destination, table) : (status?.rowsInDestination ?? null);
      const oldest = status?.oldestUnappliedChangeAt ? Date.parse(status.oldestUnappliedChangeAt) : undefined;
      return {
        table,
        phase: checkpoint?.phase ?? 'not started',
        rowsInDestination,
        initialRowsCopied: checkpoint?.rowsCopied ?? 0,
        pages: checkpoint?.pages ?? 0,
        rowsApplied: status?.rowsApplied ?? 0,
        lastSuccessfulSyncAt: status?.lastSuccessfulSyncAt ?? null,
        lagSeconds: oldest === undefined ? 0 : Math.max(0, Math.round((now - oldest) / 1000)),
        failedRecords: failures[table] ?? 0,
        lastError: status?.lastError ?? null,
        throttledUntil:
          status?.throttledUntil !== undefined && Date.parse(status.throttledUntil) > now
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
