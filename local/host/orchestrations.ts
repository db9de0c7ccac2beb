/**
 * Runs Durable orchestrations locally by stepping the orchestrator generators and running the registered
 * activities. It does NOT replay: each instance runs once, start to finish, in this process. Instances are
 * recorded in a table so a restarted host starts the ones that were running again, from the input of their
 * last `continueAsNew`; that is why orchestrators stay thin and deterministic and activities checkpoint
 * their own progress.
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
  /** Starts again every instance that was running when the previous host stopped. */
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
  const running = new Map<string, { promise: Promise<void>; terminated: boolean }>();
  let stopping = false;

  const save = (entity: InstanceEntity) => options.instances.upsertEntity(entity, 'Replace');
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
    const state = running.get(entity.rowKey);
    let input: unknown = JSON.parse(entity.input);
    // Saves of one instance go out one after another, each with the state as it is then: an unawaited custom
    // status save must never land after (and so overwrite) the final Completed or Failed.
    let saved: Promise<unknown> = Promise.resolve();
    const update = (changes: Partial<InstanceEntity>): Promise<unknown> => {
      Object.assign(entity, changes, { lastUpdatedTime: new Date().toISOString() });
      const snapshot = { ...entity };
      saved = saved.catch(() => undefined).then(() => save(snapshot));
      return saved;
    };
    await update({ runtimeStatus: 'Running' });
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
    const state = { promise: Promise.resolve(), terminated: false };
    running.set(entity.rowKey, state);
    state.promise = drive(entity).finally(() => {
      if (running.get(entity.rowKey) === state) running.delete(entity.rowKey);
    });
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
      };
      await save(entity);
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
      const entity = await load(instanceId);
      if (!entity) return;
      entity.runtimeStatus = 'Terminated';
      entity.output = JSON.stringify(reason);
      entity.lastUpdatedTime = new Date().toISOString();
      await save(entity);
    },
  };

  return {
    client,
    async resumeInterrupted() {
      const resumed: string[] = [];
      const interrupted = options.instances.listEntities<InstanceEntity>({
        queryOptions: { filter: `PartitionKey eq '${PARTITION}' and (runtimeStatus eq 'Running' or runtimeStatus eq 'Pending')` },
      });
      for await (const entity of interrupted) {
        if (running.has(entity.rowKey)) continue;
        options.log.info(`resuming orchestration ${entity.name} (${entity.rowKey}) that was running when the host stopped`);
        launch(entity);
        resumed.push(entity.rowKey);
      }
      return resumed;
    },
    async whenIdle(instanceId) {
      await running.get(instanceId)?.promise;
    },
    async stop() {
      stopping = true;
      await Promise.all([...running.values()].map((state) => state.promise));
    },
  };
}
