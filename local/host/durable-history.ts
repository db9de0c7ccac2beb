/**
 * Orchestration history as the Durable Functions extension hands it to the Node worker: the JSON of
 * DurableTask.Core's history events (`EventType` numbers as in durable-functions'
 * lib/src/history/HistoryEventType.js, `EventId`, `IsPlayed`, `Timestamp`, and each type's own fields),
 * wrapped in the orchestrationTrigger input the extension builds (OrchestrationTriggerAttributeBindingProvider
 * in azure-functions-durable-extension: history, input, instanceId, isReplaying, parentInstanceId,
 * upperSchemaVersion 1, upperSchemaVersionNew 2, the timer durations). Pure: the driver and the replay tests
 * build histories with these, one event at a time, as the extension appends them. Replay over such a history:
 * https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-orchestrations#reliability
 */
export const EventType = {
  ExecutionStarted: 0,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
} as const;

export interface HistoryEvent {
  EventType: number;
  /** The sequence number of a scheduling event (TaskScheduled, TimerCreated); -1 for every other event. */
  EventId: number;
  /** Seen by an earlier execution of the orchestrator (DurableTask.Core marks past events played). */
  IsPlayed: boolean;
  Timestamp: string;
  Name?: string;
  /** JSON text, as DurableTask.Core stores inputs and results. */
  Input?: string;
  Result?: string;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  Reason?: string;
  Details?: string;
}

/** The durations the Azure Storage provider sends (its defaults: short timers up to 6 days, long ones in 3-day steps). */
const MAXIMUM_SHORT_TIMER = '6.00:00:00';
const LONG_TIMER_INTERVAL = '3.00:00:00';
const HTTP_POLL_MS = 30_000;

export interface OrchestrationTriggerInput {
  history: HistoryEvent[];
  input: unknown;
  instanceId: string;
  isReplaying: boolean;
  parentInstanceId: null;
  upperSchemaVersion: number;
  upperSchemaVersionNew: number;
  longRunningTimerIntervalDuration: string;
  maximumShortTimerDuration: string;
  defaultHttpAsyncRequestSleepTimeMillseconds: number;
}

export function triggerInput(instanceId: string, history: readonly HistoryEvent[]): OrchestrationTriggerInput {
  const started = history.find((event) => event.EventType === EventType.ExecutionStarted);
  return {
    history: [...history],
    input: started?.Input === undefined ? null : JSON.parse(started.Input),
    instanceId,
    isReplaying: history.some((event) => event.IsPlayed),
    parentInstanceId: null,
    upperSchemaVersion: 1,
    upperSchemaVersionNew: 2,
    longRunningTimerIntervalDuration: LONG_TIMER_INTERVAL,
    maximumShortTimerDuration: MAXIMUM_SHORT_TIMER,
    defaultHttpAsyncRequestSleepTimeMillseconds: HTTP_POLL_MS,
  };
}

const event = (type: number, at: Date, fields: Partial<HistoryEvent> = {}): HistoryEvent => ({
  EventType: type,
  EventId: -1,
  IsPlayed: false,
  Timestamp: at.toISOString(),
  ...fields,
});

/** JSON text of a value as DurableTask.Core keeps it; `undefined` is stored as JSON null. */
export const asJson = (value: unknown): string => JSON.stringify(value ?? null);

export const history = {
  orchestratorStarted: (at: Date) => event(EventType.OrchestratorStarted, at),
  executionStarted: (at: Date, name: string, input: unknown) =>
    event(EventType.ExecutionStarted, at, { Name: name, Input: asJson(input) }),
  /** The first two events of every execution, including each one begun by continueAsNew. */
  start: (at: Date, name: string, input: unknown) => [
    history.orchestratorStarted(at),
    history.executionStarted(at, name, input),
  ],
  taskScheduled: (at: Date, id: number, name: string, input: unknown) =>
    event(EventType.TaskScheduled, at, { EventId: id, Name: name, Input: asJson(input) }),
  timerCreated: (at: Date, id: number, fireAt: Date) =>
    event(EventType.TimerCreated, at, { EventId: id, FireAt: fireAt.toISOString() }),
  orchestratorCompleted: (at: Date) => event(EventType.OrchestratorCompleted, at),
  taskCompleted: (at: Date, scheduledId: number, result: unknown) =>
    event(EventType.TaskCompleted, at, { TaskScheduledId: scheduledId, Result: asJson(result) }),
  /** Reason and Details as the extension's TaskActivityShim words an activity's failure. */
  taskFailed: (at: Date, scheduledId: number, activity: string, message: string) =>
    event(EventType.TaskFailed, at, {
      TaskScheduledId: scheduledId,
      Reason: `Activity function '${activity}' failed: ${message}`,
      Details: JSON.stringify({ Message: message }),
    }),
  timerFired: (at: Date, timerId: number, fireAt: Date) =>
    event(EventType.TimerFired, at, { TimerId: timerId, FireAt: fireAt.toISOString() }),
};

/** Marks every event played, as DurableTask.Core does with the past events before the next execution. */
export const played = (events: readonly HistoryEvent[]): HistoryEvent[] =>
  events.map((item) => ({ ...item, IsPlayed: true }));
