/**
 * One table of function definitions is the single source for both hosts: `register.ts` hands each
 * definition to `app.*` / `df.app.*`, and the local host runs what those calls registered (local/host/functions-core.ts).
 * Handlers are factories over their dependencies so tests and hosts can supply real adapters.
 */
import type { HttpHandler, HttpMethod, InvocationContext, Timer } from '@azure/functions';
import type * as df from 'durable-functions';

export type AuthLevel = 'anonymous' | 'function' | 'admin';

export interface HttpFunction<Deps> {
  kind: 'http';
  name: string;
  /** Route template under `/api`, e.g. `profiles/{name}/activate`. */
  route: string;
  methods: HttpMethod[];
  authLevel: AuthLevel;
  /** The handler starts or queries orchestrations, so Azure must inject a durable client. */
  usesOrchestrations?: boolean;
  handler: (deps: Deps) => HttpHandler;
}

export interface TimerFunction<Deps> {
  kind: 'timer';
  name: string;
  /** NCRONTAB with seconds (`{sec} {min} {hour} {day} {month} {dow}`) or an `%AppSetting%` reference. */
  schedule: string;
  /** The handler starts or queries orchestrations, so Azure must inject a durable client. */
  usesOrchestrations?: boolean;
  handler: (deps: Deps) => (timer: Timer, context: InvocationContext) => Promise<void>;
}

export interface QueueFunction<Deps> {
  kind: 'queue';
  name: string;
  /** Queue name or an `%AppSetting%` reference. Service Bus in Azure, an Azure Storage queue locally. */
  queueName: string;
  /**
   * Deliveries after which the message is dead-lettered. Azure: the Service Bus queue's
   * `maxDeliveryCount` (set in infra/); locally the host moves the message to `<queue>-poison`.
   */
  maxDeliveryCount: number;
  handler: (deps: Deps) => (message: unknown, context: InvocationContext) => Promise<void>;
}

/** The slice of the Durable orchestration context our orchestrators may use (durable-functions supplies it when it replays them). */
export interface OrchestrationContextPort {
  df: Pick<
    df.DurableOrchestrationContext,
    | 'instanceId'
    | 'isReplaying'
    | 'currentUtcDateTime'
    | 'Task'
    | 'getInput'
    | 'callActivity'
    | 'callActivityWithRetry'
    | 'continueAsNew'
    | 'createTimer'
    | 'setCustomStatus'
  >;
  log(...args: unknown[]): void;
}

export type Orchestrator = (context: OrchestrationContextPort) => Generator<df.Task, unknown, unknown>;

export interface OrchestrationFunction {
  kind: 'orchestration';
  name: string;
  /** Deterministic and thin: no I/O, no clocks, no randomness; all work happens in activities. */
  handler: Orchestrator;
}

export interface ActivityFunction<Deps> {
  kind: 'activity';
  name: string;
  handler: (deps: Deps) => (input: unknown, context: InvocationContext) => Promise<unknown>;
}

export type FunctionDefinition<Deps> =
  HttpFunction<Deps> | TimerFunction<Deps> | QueueFunction<Deps> | OrchestrationFunction | ActivityFunction<Deps>;
