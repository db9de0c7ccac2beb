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
import type { OrchestrationClient } from '../../shared/orchestration/client';
import type { HostLog } from './console-log';
import { history } from './durable-history';
import type { WorkerOrchestration } from './durable-extension';
import { workerOrchestrations } from './durable-worker';
import {
  PARTITION,
  historyProperties,
  isInstanceLost,
  loadInstance,
  saveIfUnchanged,
  savedHistory,
  toStatus,
  type InstanceEntity,
} from './orchestration-instances';
import { runInstance, type EpisodeSave, type InvokeActivity } from './orchestration-episodes';

/** How often an owner marks the instances it drives as alive, and after how long unmarked another host takes one over. */
const HEARTBEAT_MS = 5_000;
const ABANDONED_AFTER_MS = 15_000;

interface RunningInstance {
  promise: Promise<void>;
  /** Set when it must stop: terminated, or lost to another host. */
  terminated: boolean;
  /** Saves `changes` (with a fresh heartbeat) after any save already under way. */
  update(changes: Partial<InstanceEntity>): Promise<unknown>;
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

  const saveOwned = (entity: InstanceEntity) => saveIfUnchanged(options.instances, entity);
  const load = (instanceId: string) => loadInstance(options.instances, instanceId);

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
              if (!isInstanceLost(error)) throw error;
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
      if (isInstanceLost(error)) return false;
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

  /**
   * As purgeInstanceHistory does (learn.microsoft.com/azure/azure-functions/durable/durable-functions-instance-management#purge-instance-history):
   * only an instance in a final state goes. A driver of it still finishing its last activity here or on another
   * host then fails its next write (404) and stops.
   */
  async function purge(instanceId: string): Promise<void> {
    const entity = await load(instanceId);
    if (!entity || !['Completed', 'Failed', 'Terminated'].includes(entity.runtimeStatus)) return;
    await options.instances
      .deleteEntity(PARTITION, instanceId, { etag: entity.etag ?? '*' })
      .catch((error: unknown) => {
        // Changed or gone since it was read: another host purged or started it again; that one decides.
        if (!isInstanceLost(error)) throw error;
      });
  }

  const client: OrchestrationClient = {
    async startNew(name, { instanceId, input }) {
      if (!orchestrators.has(name)) {
        throw new ExportError('config', `No orchestration named '${name}' is registered`);
      }
      // The extension starts a new instance under an existing id only when the old one is Completed, Failed or
      // Terminated (OverridableStates.NonRunningStates, the default of overridableExistingInstanceStates:
      // learn.microsoft.com/dotnet/api/microsoft.azure.webjobs.extensions.durabletask.overridablestates), even when
      // another host drives it.
      const existing = running.has(instanceId) ? undefined : await load(instanceId);
      if (running.has(instanceId) || existing?.runtimeStatus === 'Running' || existing?.runtimeStatus === 'Pending') {
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
          if (!isInstanceLost(error)) throw error;
        }
      }
    },
  };

  return {
    client: { ...client, purge },
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
