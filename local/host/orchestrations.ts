/**
 * Runs Durable orchestrations locally by stepping the orchestrator generators and running the registered
 * activities. It does NOT replay: each instance runs once, start to finish, in one host. Instances are
 * recorded in a table so a host starts the ones that were running again, from the input of their last
 * `continueAsNew`; that is why orchestrators stay thin and deterministic and activities checkpoint their
 * own progress.
 *
 * Several hosts on one storage (a scaled-out app) share the table, so an instance has one owner at a time:
 * every write of an instance is conditional on the ETag its driver last saw, the owner marks it alive every
 * few seconds, and another host takes over an instance nobody has marked for a while (its host died). A host
 * whose conditional write fails (taken over, or terminated from another host) stops driving it.
 */
import { InvocationContext } from '@azure/functions';
import type { TableClient } from '@azure/data-tables';
import type * as df from 'durable-functions';
import { randomUUID } from 'node:crypto';
import type { ActivityFunction, OrchestrationContextPort, OrchestrationFunction } from '../../functions/definition';
import { ExportError } from '../../shared/errors';
import type { OrchestrationClient, OrchestrationRuntimeStatus, OrchestrationStatus } from '../../shared/orchestration/client';
import type { HostLog } from './console-log';

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
}

interface RunningInstance {
  promise: Promise<void>;
  /** Set when it must stop: terminated, or lost to another host. */
  terminated: boolean;
  /** Saves `changes` (with a fresh heartbeat) after any save already under way. */
  update(changes: Partial<InstanceEntity>): Promise<unknown>;
}

/** A task the driver knows how to run; created by the context's `callActivity`, `Task.all`, `createTimer`, … */
class DriverTask implements df.TimerTask {
  isCompleted = false;
  isFaulted = false;
  isCanceled = false;
  result: unknown = undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly work: (task: DriverTask) => Promise<unknown>) {}

  run(): Promise<unknown> {
    this.running ??= this.work(this).then(
      (value) => {
        this.isCompleted = true;
        this.result = value;
        return value;
      },
      (error: unknown) => {
        this.isCompleted = true;
        this.isFaulted = true;
        throw error;
      },
    );
    return this.running;
  }

  cancel(): void {
    this.isCanceled = true;
  }
}

const asDriverTask = (task: df.Task): DriverTask => {
  if (!(task instanceof DriverTask)) {
    throw new ExportError('config', 'An orchestrator yielded something that is not a task of its context');
  }
  return task;
};

export interface OrchestrationDriver {
  client: OrchestrationClient;
  /** Starts every instance that is running without a live owner (its host stopped or died); the host also does this every few seconds. */
  resumeInterrupted(): Promise<string[]>;
  /** Waits for the instance's current run to end (tests and shutdown). */
  whenIdle(instanceId: string): Promise<void>;
  stop(): Promise<void>;
}

export async function createOrchestrationDriver<Deps>(options: {
  orchestrations: readonly OrchestrationFunction[];
  activities: readonly ActivityFunction<Deps>[];
  deps: () => Deps;
  instances: TableClient;
  log: HostLog;
}): Promise<OrchestrationDriver> {
  await options.instances.createTable();
  const running = new Map<string, RunningInstance>();
  const owner = randomUUID();
  let stopping = false;

  const isLost = (error: unknown) => [404, 409, 412].includes((error as { statusCode?: number }).statusCode ?? 0);
  /** Writes the instance only if nobody else wrote it since this driver's last write or read; keeps the new ETag. */
  const saveOwned = async (entity: InstanceEntity): Promise<void> => {
    const { etag, ...stored } = entity;
    if (!etag) throw new ExportError('config', `Orchestration instance '${entity.rowKey}' has no ETag to write it under`);
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

  async function runActivity(name: string, input: unknown): Promise<unknown> {
    const activity = options.activities.find((candidate) => candidate.name === name);
    if (!activity) throw new ExportError('config', `No activity named '${name}' is registered`);
    const context = new InvocationContext({ invocationId: randomUUID(), functionName: name, logHandler: options.log.handlerFor(name) });
    return activity.handler(options.deps())(input, context);
  }

  async function runWithRetry(name: string, retry: df.RetryOptions, input: unknown): Promise<unknown> {
    let delay = retry.firstRetryIntervalInMilliseconds;
    for (let attempt = 1; ; attempt++) {
      try {
        return await runActivity(name, input);
      } catch (error) {
        if (attempt >= retry.maxNumberOfAttempts || stopping) throw error;
        options.log.warn(`activity ${name} failed (attempt ${attempt} of ${retry.maxNumberOfAttempts}); retrying in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * (retry.backoffCoefficient || 1), retry.maxRetryIntervalInMilliseconds || Number.MAX_SAFE_INTEGER);
      }
    }
  }

  async function drive(entity: InstanceEntity): Promise<void> {
    const orchestrator = options.orchestrations.find((candidate) => candidate.name === entity.name);
    if (!orchestrator) throw new ExportError('config', `No orchestration named '${entity.name}' is registered`);
    const state = running.get(entity.rowKey) as RunningInstance;
    const update = state.update;
    let input: unknown = JSON.parse(entity.input);
    await update({ runtimeStatus: 'Running' });
    if (state.terminated) return;
    try {
      for (;;) {
        let continueWith: { input: unknown } | undefined;
        const port: OrchestrationContextPort = {
          log: options.log.handlerFor(entity.name).bind(undefined, 'information'),
          df: {
            instanceId: entity.rowKey,
            isReplaying: false,
            currentUtcDateTime: new Date(),
            getInput: <T>() => input as T,
            callActivity: (name: string, activityInput?: unknown) => new DriverTask(() => runActivity(name, activityInput)),
            callActivityWithRetry: (name: string, retry: df.RetryOptions, activityInput?: unknown) =>
              new DriverTask(() => runWithRetry(name, retry, activityInput)),
            Task: {
              all: (tasks: df.Task[]) => new DriverTask(() => Promise.all(tasks.map((task) => asDriverTask(task).run()))),
              any: (tasks: df.Task[]) =>
                new DriverTask(() => Promise.race(tasks.map((task) => asDriverTask(task).run().then(() => task)))),
            },
            createTimer: (fireAt: Date) =>
              new DriverTask(async (task) => {
                while (!task.isCanceled && !stopping && Date.now() < fireAt.getTime()) {
                  await new Promise((resolve) => setTimeout(resolve, Math.min(250, fireAt.getTime() - Date.now())));
                }
              }),
            continueAsNew: (nextInput: unknown) => {
              continueWith = { input: nextInput };
            },
            setCustomStatus: (status: unknown) => {
              void update({ customStatus: JSON.stringify(status ?? null) }).catch((error: unknown) =>
                options.log.error(`saving custom status of ${entity.rowKey} failed`, error),
              );
            },
          },
        };
        const generator = orchestrator.handler(port);
        let sent: unknown;
        let thrown: { error: unknown } | undefined;
        let output: unknown;
        for (;;) {
          if (state?.terminated || stopping) return;
          port.df.currentUtcDateTime = new Date();
          const step = thrown ? generator.throw(thrown.error) : generator.next(sent);
          if (step.done) {
            output = step.value;
            break;
          }
          try {
            sent = await asDriverTask(step.value).run();
            thrown = undefined;
          } catch (error) {
            thrown = { error };
          }
        }
        if (!continueWith) {
          await update({ runtimeStatus: 'Completed', output: JSON.stringify(output ?? null) });
          return;
        }
        input = continueWith.input;
        await update({ input: JSON.stringify(input ?? null) });
      }
    } catch (error) {
      options.log.error(`orchestration ${entity.name} (${entity.rowKey}) failed`, error);
      await update({
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
              options.log.warn(`orchestration ${entity.name} (${entity.rowKey}) was terminated or taken over by another host; this host stops driving it`);
            }
          });
        return saved;
      },
    };
    running.set(entity.rowKey, state);
    state.promise = drive(entity).finally(() => {
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
      if (!state.terminated) void state.update({}).catch((error: unknown) => options.log.error('marking an orchestration alive failed', error));
    }
    void scanForAbandoned().catch((error: unknown) => options.log.error('looking for orchestrations to take over failed', error));
  }, HEARTBEAT_MS);
  heartbeat.unref();

  async function scanForAbandoned(): Promise<string[]> {
    const resumed: string[] = [];
    if (stopping) return resumed;
    const interrupted = options.instances.listEntities<InstanceEntity>({
      queryOptions: { filter: `PartitionKey eq '${PARTITION}' and (runtimeStatus eq 'Running' or runtimeStatus eq 'Pending')` },
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
      if (!options.orchestrations.some((candidate) => candidate.name === name)) {
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
      if (state) state.terminated = true;
      await state?.promise;
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
      await Promise.all(stopped.filter((state) => !state.terminated).map((state) => state.update({ heartbeatAt: new Date(0).toISOString() })));
    },
  };
}
