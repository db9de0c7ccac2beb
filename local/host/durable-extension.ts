/**
 * The Durable extension's half of an orchestration episode, for the local host: invoke the worker-level
 * orchestration callback (what durable-functions' `df.app.orchestration` registers) with the history, as the
 * Node worker does, and replay the actions it returns the way the extension does — OutOfProcOrchestrationShim
 * awaits the actions one after another in DurableTask.Core, which numbers every activity and timer in order,
 * checks each TaskScheduled/TimerCreated of the history against what this replay scheduled
 * (TaskOrchestrationContext.HandleTaskScheduledEvent: a mismatch is a non-deterministic workflow), and runs
 * `callActivityWithRetry` through RetryInterceptor (after a failure, a timer of firstRetryInterval ×
 * backoff^attempt, capped, then the next attempt; after the last failed attempt one more timer, then the failure;
 * https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-error-handling#automatic-retry-on-failure).
 */
import { InvocationContext, type LogHandler } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { ExportError } from '../../shared/errors';
import { EventType, triggerInput, type HistoryEvent } from './durable-history';

/** The worker-level callback `df.app.orchestration` hands to `app.generic` (durable-functions lib/src/app.js). */
export type WorkerOrchestration = (trigger: unknown, context: InvocationContext) => unknown;

/** Action types of durable-functions lib/src/actions/ActionType.js, as the extension reads them. */
const Action = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WhenAny: 11,
  WhenAll: 12,
} as const;

export interface OrchestratorAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  fireAt?: string;
  retryOptions?: {
    firstRetryIntervalInMilliseconds: number;
    maxNumberOfAttempts: number;
    backoffCoefficient?: number;
    maxRetryIntervalInMilliseconds?: number;
  };
  compoundActions?: OrchestratorAction[];
}

/** What the callback returns (durable-functions' OrchestratorState), as JSON. */
export interface OrchestratorState {
  isDone: boolean;
  actions: OrchestratorAction[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion: number;
}

/** durable-functions' OrchestrationFailureError puts the state after this label in the error message. */
const OUT_OF_PROC_DATA = '\n\n$OutOfProcData$:';

/** One invocation, as the worker makes it: the trigger as parsed JSON, the result as JSON; a failure carries the state in its message. */
export async function invokeOrchestrator(
  callback: WorkerOrchestration,
  name: string,
  instanceId: string,
  events: readonly HistoryEvent[],
  logHandler?: LogHandler,
): Promise<OrchestratorState> {
  const trigger = JSON.parse(JSON.stringify(triggerInput(instanceId, events))) as unknown;
  const context = new InvocationContext({
    invocationId: randomUUID(),
    functionName: name,
    ...(logHandler ? { logHandler } : {}),
  });
  try {
    return JSON.parse(JSON.stringify(await callback(trigger, context))) as OrchestratorState;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const at = message.indexOf(OUT_OF_PROC_DATA);
    if (at < 0) return { isDone: false, actions: [[]], error: message, schemaVersion: 0 };
    return JSON.parse(message.slice(at + OUT_OF_PROC_DATA.length)) as OrchestratorState;
  }
}

/**
 * The extension's SetCustomStatus takes at most 16 KB of UTF-16 JSON (MessagePayloadDataConverter, whole KB rounded down);
 * more fails the orchestration. https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-custom-orchestration-status
 */
const MAX_CUSTOM_STATUS_KB = 16;

export function customStatusError(state: OrchestratorState): string | undefined {
  if (state.customStatus === undefined) return undefined;
  const kb = Math.floor((JSON.stringify(state.customStatus).length * 2) / 1024);
  if (kb <= MAX_CUSTOM_STATUS_KB) return undefined;
  return `The UTF-16 size of the JSON-serialized payload must not exceed ${MAX_CUSTOM_STATUS_KB} KB. The current payload size is ${kb} KB.`;
}

/** Work the extension has scheduled and not seen finish: an activity to run, or a timer to fire. */
export type OpenWork =
  { kind: 'activity'; id: number; name: string; input: unknown } | { kind: 'timer'; id: number; fireAt: Date };

export interface EpisodeResult {
  /** TaskScheduled/TimerCreated events of work first scheduled in this episode, in sequence order. */
  scheduled: HistoryEvent[];
  /** Every scheduled activity and timer without its completion in the history. */
  open: OpenWork[];
  continueAsNew?: { input: unknown };
  /** Every action the orchestrator returned has finished: the shim goes on to fail or complete the orchestration only then. */
  settled: boolean;
}

interface Node {
  done: boolean;
  settle?: (failed: boolean) => void;
}

interface Slot {
  work: OpenWork;
  node: Node;
  recorded: boolean;
  onDone(failed: boolean, at: Date): void;
}

const nonDeterministic = (message: string) =>
  new ExportError('config', `Non-Deterministic workflow detected: ${message}`, {
    fix: 'An orchestrator must schedule the same activities and timers in the same order on every replay; finish or terminate instances started by older code.',
  });

/** DurableTask.Core's side of one episode: replays `state.actions` against `events` and says what is new and what is open. */
export function replayActions(events: readonly HistoryEvent[], state: OrchestratorState, now: Date): EpisodeResult {
  const slots = new Map<number, Slot>();
  let nextId = 0;
  let clock = new Date(events.find((item) => item.EventType === EventType.OrchestratorStarted)?.Timestamp ?? now);
  let cursor = 0;
  let continueAsNew: { input: unknown } | undefined;

  const open = (work: OpenWork, node: Node, onDone: Slot['onDone']) =>
    slots.set(work.id, { work, node, recorded: false, onDone });
  const leaf = (parent: Node, start: (node: Node) => void): Node => {
    const node: Node = { done: false, settle: (failed) => ((node.done = true), parent.settle?.(failed)) };
    start(node);
    return node;
  };

  function instantiate(action: OrchestratorAction, parent: Node): Node {
    switch (action.actionType) {
      case Action.CallActivity:
        return leaf(parent, (node) =>
          open(
            { kind: 'activity', id: nextId++, name: action.functionName ?? '', input: action.input },
            node,
            (failed) => node.settle?.(failed),
          ),
        );
      case Action.CreateTimer:
        return leaf(parent, (node) =>
          open({ kind: 'timer', id: nextId++, fireAt: new Date(action.fireAt ?? now) }, node, () =>
            node.settle?.(false),
          ),
        );
      case Action.CallActivityWithRetry:
        return leaf(parent, (node) => retrying(action, node));
      case Action.ContinueAsNew:
        continueAsNew = { input: action.input };
        return leaf(parent, (node) => node.settle?.(false));
      case Action.WhenAll:
      case Action.WhenAny: {
        const children = action.compoundActions ?? [];
        let finished = 0;
        let anyFailed = false;
        const node: Node = { done: false };
        node.settle = (failed) => {
          finished++;
          anyFailed ||= failed;
          // Task.WhenAll waits for every child, Task.WhenAny for the first.
          if (!node.done && (action.actionType === Action.WhenAny || finished === children.length)) {
            node.done = true;
            parent.settle?.(anyFailed && action.actionType === Action.WhenAll);
          }
        };
        for (const child of children) instantiate(child, node);
        return node;
      }
      default:
        throw new ExportError('config', `The local host does not run orchestrator action type ${action.actionType}`);
    }
  }

  /** RetryInterceptor: attempt, on failure a timer, then the next attempt or (after the last) the failure. */
  function retrying(action: OrchestratorAction, node: Node): void {
    const retry = action.retryOptions ?? { firstRetryIntervalInMilliseconds: 1, maxNumberOfAttempts: 1 };
    const attempt = (retryCount: number) =>
      open(
        { kind: 'activity', id: nextId++, name: action.functionName ?? '', input: action.input },
        node,
        (failed, at) => {
          if (!failed) return node.settle?.(false);
          const delay = Math.min(
            retry.firstRetryIntervalInMilliseconds * (retry.backoffCoefficient || 1) ** retryCount,
            retry.maxRetryIntervalInMilliseconds || Number.MAX_SAFE_INTEGER,
          );
          open({ kind: 'timer', id: nextId++, fireAt: new Date(at.getTime() + delay) }, node, () => {
            if (retryCount + 1 < retry.maxNumberOfAttempts) attempt(retryCount + 1);
            else node.settle?.(true);
          });
        },
      );
    attempt(0);
  }

  function apply(item: HistoryEvent): void {
    if (item.EventType === EventType.OrchestratorStarted) clock = new Date(item.Timestamp);
    if (item.EventType === EventType.TaskScheduled || item.EventType === EventType.TimerCreated) {
      const slot = slots.get(item.EventId);
      const kind = item.EventType === EventType.TaskScheduled ? 'activity' : 'timer';
      const what = kind === 'activity' ? `an activity task named '${item.Name}'` : 'a timer';
      if (!slot)
        throw nonDeterministic(
          `A previous execution of this orchestration scheduled ${what} with sequence ID ${item.EventId}, but the current replay execution hasn't (yet?) scheduled this task.`,
        );
      if (
        slot.work.kind !== kind ||
        (slot.work.kind === 'activity' && slot.work.name.toLowerCase() !== (item.Name ?? '').toLowerCase())
      ) {
        const instead = slot.work.kind === 'activity' ? `an activity task named '${slot.work.name}'` : 'a timer';
        throw nonDeterministic(
          `A previous execution of this orchestration scheduled ${what} with sequence ID ${item.EventId}, but the current replay instead scheduled ${instead}.`,
        );
      }
      slot.recorded = true;
      return;
    }
    const id = item.EventType === EventType.TimerFired ? item.TimerId : item.TaskScheduledId;
    const slot = id === undefined ? undefined : slots.get(id);
    // A completion of nothing open is a duplicate DurableTask.Core ignores.
    if (!slot) return;
    if (
      item.EventType === EventType.TaskCompleted ||
      item.EventType === EventType.TaskFailed ||
      item.EventType === EventType.TimerFired
    ) {
      slots.delete(slot.work.id);
      slot.onDone(item.EventType === EventType.TaskFailed, clock);
    }
  }

  const root: Node = { done: false };
  let settled = true;
  for (const action of state.actions[0] ?? []) {
    const node = instantiate(action, root);
    while (!node.done && cursor < events.length) apply(events[cursor++] as HistoryEvent);
    if (!node.done) {
      settled = false;
      break;
    }
  }
  while (cursor < events.length) apply(events[cursor++] as HistoryEvent);

  const scheduledAt = clock;
  const pending = [...slots.values()].sort((a, b) => a.work.id - b.work.id);
  return {
    scheduled: pending
      .filter((slot) => !slot.recorded)
      .map((slot) =>
        slot.work.kind === 'activity' ? scheduledEvent(scheduledAt, slot.work) : timerEvent(scheduledAt, slot.work),
      ),
    open: pending.map((slot) => slot.work),
    settled,
    ...(continueAsNew ? { continueAsNew } : {}),
  };
}

const scheduledEvent = (at: Date, work: Extract<OpenWork, { kind: 'activity' }>): HistoryEvent => ({
  EventType: EventType.TaskScheduled,
  EventId: work.id,
  IsPlayed: false,
  Timestamp: at.toISOString(),
  Name: work.name,
  Input: JSON.stringify(work.input ?? null),
});

const timerEvent = (at: Date, work: Extract<OpenWork, { kind: 'timer' }>): HistoryEvent => ({
  EventType: EventType.TimerCreated,
  EventId: work.id,
  IsPlayed: false,
  Timestamp: at.toISOString(),
  FireAt: work.fireAt.toISOString(),
});
