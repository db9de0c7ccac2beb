/**
 * Runs Durable orchestrations locally through durable-functions' own replay engine: each instance keeps the
 * history of its current execution in a table, and on every event (started, activity completed or failed,
 * timer fired) the whole history is replayed through the worker-level orchestrator callback, as the Durable
 * extension does in Azure (local/host/orchestration-episodes.ts). A host that starts again, or takes an
 * instance over, replays the saved history and starts again only the work that had not finished.
 *
 * Several hosts on one storage (a scaled-out app) share the table, so an instance has one owner at a time:
 * every write of an instance is conditional on the ETag its driver last saw, the owner marks it alive every
 * few seconds, and another host takes over an instance nobody has marked for a while (its host died). A host
 * whose conditional write fails (taken over, or terminated from another host) stops driving it.
 */
import { InvocationContext } from '@azure/functions';
import type { TableClient } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import type { ActivityFunction, OrchestrationFunction } from '../../functions/definition';
import { ExportError } from '../../shared/errors';
import type {
  OrchestrationClient,
  OrchestrationRuntimeStatus,
  OrchestrationStatus,
} from '../../shared/orchestration/client';
import type { HostLog } from './console-log';
import { history, type HistoryEvent } from './durable-history';
import type { WorkerOrchestration } from './durable-extension';
import { workerOrchestrations } from './durable-worker';
import { runInstance, type EpisodeSave, type InvokeActivity } from './orchestration-episodes';

const PARTITION = 'instances';
/** How often an owner marks the instances it drives as alive, and after how long unmarked another host takes one over. */
const HEARTBEAT_MS = 5_000;
const ABANDONED_AFTER_MS = 15_000;

interface InstanceEntity {
  partitionKey: string;
  rowKey: string;
  name: string;
  input: string;
  runtimeStatus: OrchestrationRuntimeStatus;
  customStatus: string;
  output: string;
  createdTime: string;
  lastUpdatedTime: string;
  /** The driver running it; absent in instances recorded before owners existed (taken over like abandoned ones). */
  owner?: string;
  heartbeatAt?: string;
  etag?: string;
  /** The current execution's history, split over `history0`, `history1`, … (absent before the instance first ran). */
  historyChunks?: number;
  [chunk: `history${number}`]: string | undefined;
}

interface RunningInstance {
  promise: Promise<void>;
  /** Set when it must stop: terminated, or lost to another host. */
  terminated: boolean;
  /** Saves `changes` (with a fresh heartbeat) after any save already under way. */
  update(changes: Partial<InstanceEntity>): Promise<unknown>;
}

/** An Azure Table string property holds 64 KiB (32 K UTF-16 characters) and an entity 1 MiB: the history is split, and bounded. */
const HISTORY_CHUNK_CHARS = 30_000;
const HISTORY_MAX_CHUNKS = 15;

/** The history of an instance's current execution, in as many properties as it needs. */
function historyProperties(events: readonly HistoryEvent[]): Record<string, string | number> {
  const text = JSON.stringify(events);
  const chunks = Math.max(1, Math.ceil(text.length / HISTORY_CHUNK_CHARS));
  if (chunks > HISTORY_MAX_CHUNKS) {
    throw new ExportError(
      'config',
      `An orchestration history of ${text.length} characters does not fit in one table entity`,
      {
        fix: 'Keep executions short: continueAsNew after each cycle, as the initial sync does.',
      },
    );
  }
  const properties: Record<string, string | number> = { historyChunks: chunks };
  for (let index = 0; index < chunks; index++)
    properties[`history${index}`] = text.slice(index * HISTORY_CHUNK_CHARS, (index + 1) * HISTORY_CHUNK_CHARS);
  return properties;
}

function savedHistory(entity: InstanceEntity): HistoryEvent[] | undefined {
  const chunks = Number(entity.historyChunks ?? 0);
  if (chunks === 0) return undefined;
  const stored = entity as unknown as Record<string, string | undefined>;
  return JSON.parse(
    Array.from({ length: chunks }, (_, index) => stored[`history${index}`] ?? '').join(''),
  ) as HistoryEvent[];
}

export interface OrchestrationDriverOptions<Deps> {
  instances: TableClient;
  log: HostLog;
  /** Worker-level orchestration callbacks by name, as the Functions worker registered them. */
  orchestrators?: ReadonlyMap<string, WorkerOrchestration>;
  /** Runs an activity by name, as the Functions worker would for the extension. */
  invokeActivity?: InvokeActivity;
  /** Or the function table's definitions: orchestrations are then registered through `df.app.orchestration` here. */
  orchestrations?: readonly OrchestrationFunction[];
  activities?: readonly ActivityFunction<Deps>[];
  deps?: () => Deps;
}

export interface OrchestrationDriver {
  client: OrchestrationClient;
  /** Starts every instance that is running without a live owner (its host stopped or died); the host also does this every few seconds. */
  resumeInterrupted(): Promise<string[]>;
  /** Waits for the instance's current run to end (tests and shutdown). */
  whenIdle(instanceId: string): Promise<void>;
  stop(): Promise<void>;
}

export async function createOrchestrationDriver<Deps>(
  options: OrchestrationDriverOptions<Deps>,
): Promise<OrchestrationDriver> {
  await options.instances.createTable();
  const running = new Map<string, RunningInstance>();
  const owner = randomUUID();
  let stopping = false;

  const isLost = (error: unknown) => [404, 409, 412].includes((error as { statusCode?: number }).statusCode ?? 0);
  /** Writes the instance only if nobody else wrote it since this driver's last write or read; keeps the new ETag. */
  const saveOwned = async (entity: InstanceEntity): Promise<void> => {
    const { etag, ...stored } = entity;
    if (!etag)
      throw new ExportError('config', `Orchestration instance '${entity.rowKey}' has no ETag to write it under`);
    entity.etag = (await options.instances.updateEntity(stored, 'Replace', { etag })).etag;
  };
  const load = async (instanceId: string): Promise<InstanceEntity | undefined> => {
    try {
      return await options.instances.getEntity<InstanceEntity>(PARTITION, instanceId);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  };

  const entityChanges = (changes: EpisodeSave): Partial<InstanceEntity> => ({
    ...(changes.runtimeStatus ? { runtimeStatus: changes.runtimeStatus } : {}),
    ...('input' in changes ? { input: JSON.stringify(changes.input ?? null) } : {}),
    ...('customStatus' in changes ? { customStatus: JSON.stringify(changes.customStatus ?? null) } : {}),
    ...('output' in changes ? { output: JSON.stringify(changes.output ?? null) } : {}),
    ...historyProperties(changes.history),
  });
  const orchestrators = options.orchestrators ?? (await workerOrchestrations(options.orchestrations ?? []));
  const invokeActivity: InvokeActivity =
    options.invokeActivity ??
    (async (name, input) => {
      const activity = options.activities?.find((candidate) => candidate.name === name);
      if (!activity || !options.deps) throw new ExportError('config', `No activity named '${name}' is registered`);
      const context = new InvocationContext({
        invocationId: randomUUID(),
        functionName: name,
        logHandler: options.log.handlerFor(name),
      });
      return activity.handler(options.deps())(input, context);
    });

  async function drive(entity: InstanceEntity): Promise<void> {
    const state = running.get(entity.rowKey) as RunningInstance;
    try {
      const callback = orchestrators.get(entity.name);
      if (!callback) throw new ExportError('config', `No orchestration named '${entity.name}' is registered`);
      // An instance saved without a history (before it first ran) starts its execution from its input.
      const events = savedHistory(entity) ?? history.start(new Date(), entity.name, JSON.parse(entity.input));
      await state.update({ runtimeStatus: 'Running', ...historyProperties(events) });
      await runInstance({
        name: entity.name,
        instanceId: entity.rowKey,
        callback,
        invokeActivity,
        events,
        save: (changes) => state.update(entityChanges(changes)),
        lost: () => state.terminated,
        stopping: () => stopping,
        log: options.log,
      });
    } catch (error) {
      options.log.error(`orchestration ${entity.name} (${entity.rowKey}) failed`, error);
      await state.update({
        runtimeStatus: 'Failed',
        output: JSON.stringify(error instanceof Error ? error.message : String(error)),
      });
    }
  }

  function launch(entity: InstanceEntity): void {
    // Saves of one instance go out one after another, each with the state as it is then: an unawaited custom
    // status save must never land after (and so overwrite) the final Completed or Failed.
    let saved: Promise<unknown> = Promise.resolve();
    const state: RunningInstance = {
      promise: Promise.resolve(),
      terminated: false,
      update(changes) {
        const now = new Date().toISOString();
        Object.assign(entity, changes, { lastUpdatedTime: now, owner, heartbeatAt: changes.heartbeatAt ?? now });
        // A shorter history (a new execution) leaves no chunks of the longer one behind.
        for (let index = Number(entity.historyChunks ?? 0); entity[`history${index}`] !== undefined; index++)
          delete entity[`history${index}`];
        const snapshot = { ...entity };
        saved = saved
          .catch(() => undefined)
          .then(async () => {
            if (state.terminated) return;
            snapshot.etag = entity.etag;
            try {
              await saveOwned(snapshot);
              entity.etag = snapshot.etag;
            } catch (error) {
              if (!isLost(error)) throw error;
              state.terminated = true;
              options.log.warn(
                `orchestration ${entity.name} (${entity.rowKey}) was terminated or taken over by another host; this host stops driving it`,
              );
            }
          });
        return saved;
      },
    };
    running.set(entity.rowKey, state);
    // drive() records its own failures; one that could not even be recorded (storage gone) is logged, never left
    // as an unhandled rejection that would end the host.
    state.promise = drive(entity)
      .catch((error: unknown) =>
        options.log.error(
          `orchestration ${entity.name} (${entity.rowKey}): ${error instanceof Error ? error.message : String(error)}`,
        ),
      )
      .finally(() => {
        if (running.get(entity.rowKey) === state) running.delete(entity.rowKey);
      });
  }

  /** Takes over a running instance whose owner has not marked it for a while; false when another host was first. */
  async function claim(entity: InstanceEntity): Promise<boolean> {
    const markedAt = Date.parse(entity.heartbeatAt ?? '');
    if (entity.owner !== undefined && Date.now() - markedAt < ABANDONED_AFTER_MS) return false;
    const now = new Date().toISOString();
    const claimed = { ...entity, owner, heartbeatAt: now, lastUpdatedTime: now };
    try {
      await saveOwned(claimed);
    } catch (error) {
      if (isLost(error)) return false;
      throw error;
    }
    launch(claimed);
    return true;
  }

  const heartbeat = setInterval(() => {
    for (const state of running.values()) {
      if (!state.terminated)
        void state
          .update({})
          .catch((error: unknown) => options.log.error('marking an orchestration alive failed', error));
    }
    void scanForAbandoned().catch((error: unknown) =>
      options.log.error('looking for orchestrations to take over failed', error),
    );
  }, HEARTBEAT_MS);
  heartbeat.unref();

  async function scanForAbandoned(): Promise<string[]> {
    const resumed: string[] = [];
    if (stopping) return resumed;
    const interrupted = options.instances.listEntities<InstanceEntity>({
      queryOptions: {
        filter: `PartitionKey eq '${PARTITION}' and (runtimeStatus eq 'Running' or runtimeStatus eq 'Pending')`,
      },
    });
    for await (const entity of interrupted) {
      if (running.has(entity.rowKey) || stopping) continue;
      if (!(await claim(entity))) continue;
      options.log.info(`resuming orchestration ${entity.name} (${entity.rowKey}), whose host stopped`);
      resumed.push(entity.rowKey);
    }
    return resumed;
  }

  const toStatus = (entity: InstanceEntity): OrchestrationStatus => ({
    instanceId: entity.rowKey,
    name: entity.name,
    runtimeStatus: entity.runtimeStatus,
    input: JSON.parse(entity.input),
    customStatus: JSON.parse(entity.customStatus),
    output: JSON.parse(entity.output),
    createdTime: new Date(entity.createdTime),
    lastUpdatedTime: new Date(entity.lastUpdatedTime),
  });

  const client: OrchestrationClient = {
    async startNew(name, { instanceId, input }) {
      if (!orchestrators.has(name)) {
        throw new ExportError('config', `No orchestration named '${name}' is registered`);
      }
      if (running.has(instanceId)) {
        throw new ExportError('data', `Orchestration instance '${instanceId}' is already running`);
      }
      const now = new Date().toISOString();
      const entity: InstanceEntity = {
        partitionKey: PARTITION,
        rowKey: instanceId,
        name,
        input: JSON.stringify(input ?? null),
        runtimeStatus: 'Pending',
        customStatus: 'null',
        output: 'null',
        createdTime: now,
        lastUpdatedTime: now,
        owner,
        heartbeatAt: now,
      };
      // Replacing a finished instance of the same id is starting it anew, as Durable Functions allows.
      const { etag } = await options.instances.upsertEntity(entity, 'Replace');
      entity.etag = etag;
      launch(entity);
      return instanceId;
    },
    async getStatus(instanceId) {
      const entity = await load(instanceId);
      return entity ? toStatus(entity) : undefined;
    },
    async terminate(instanceId, reason) {
      const state = running.get(instanceId);
      // As the extension does, terminate answers at once: the local run stops at its next write (the flag, and the
      // ETag-conditional writes below for another host), and an activity already running finishes on its own.
      if (state) state.terminated = true;
      // Conditional on what was read, so the owner — maybe another host — fails its next write and stops.
      for (;;) {
        const entity = await load(instanceId);
        if (!entity) return;
        entity.runtimeStatus = 'Terminated';
        entity.output = JSON.stringify(reason);
        entity.lastUpdatedTime = new Date().toISOString();
        try {
          await saveOwned(entity);
          return;
        } catch (error) {
          if (!isLost(error)) throw error;
        }
      }
    },
  };

  return {
    client,
    resumeInterrupted: scanForAbandoned,
    async whenIdle(instanceId) {
      await running.get(instanceId)?.promise;
    },
    async stop() {
      stopping = true;
      clearInterval(heartbeat);
      const stopped = [...running.values()];
      await Promise.all(stopped.map((state) => state.promise));
      // A clean stop leaves its instances unmarked, so the next host takes them over at once instead of after a wait.
      await Promise.all(
        stopped
          .filter((state) => !state.terminated)
          .map((state) => state.update({ heartbeatAt: new Date(0).toISOString() })),
      );
    },
  };
}
