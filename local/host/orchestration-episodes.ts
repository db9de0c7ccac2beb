/**
 * Runs one orchestration instance the way Durable Functions does: every time something happens (it starts,
 * an activity completes or fails, a timer fires) the whole history of the current execution is replayed
 * through the worker-level orchestrator callback, the extension's side says what is newly scheduled, the
 * history is saved with the status, and the new work is started. `continueAsNew` begins a fresh history
 * with the new input. See local/host/durable-extension.ts for the replay and local/host/orchestrations.ts
 * for ownership of instances across hosts.
 */
import { ExportError } from '../../shared/errors';
import type { HostLog } from './console-log';
import { history, played, type HistoryEvent } from './durable-history';
import {
  customStatusError,
  invokeOrchestrator,
  replayActions,
  type OpenWork,
  type WorkerOrchestration,
} from './durable-extension';

export type InvokeActivity = (name: string, input: unknown) => Promise<unknown>;

/** What an episode writes to the instance; `history` is the current execution's, to replay from after a restart. */
export interface EpisodeSave {
  runtimeStatus?: 'Running' | 'Completed' | 'Failed';
  input?: unknown;
  customStatus?: unknown;
  output?: unknown;
  history: HistoryEvent[];
}

export interface InstanceRun {
  name: string;
  instanceId: string;
  callback: WorkerOrchestration;
  invokeActivity: InvokeActivity;
  /** The saved history, or the first events of a new execution. */
  events: HistoryEvent[];
  save(changes: EpisodeSave): Promise<unknown>;
  /** Terminated, taken over by another host: stop at once. */
  lost(): boolean;
  /** The host is stopping: record what finishes, then stop. */
  stopping(): boolean;
  log: HostLog;
}

type Completion = { id: number; event: HistoryEvent } | undefined;

const POLL_MS = 250;

/** Starts one piece of open work; resolves with its completion event, or undefined when the host stopped before a timer fired. */
function dispatch(run: InstanceRun, work: OpenWork): Promise<Completion> {
  if (work.kind === 'timer') {
    return (async () => {
      while (Date.now() < work.fireAt.getTime()) {
        if (run.stopping() || run.lost()) return undefined;
        await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, work.fireAt.getTime() - Date.now())));
      }
      return { id: work.id, event: history.timerFired(new Date(), work.id, work.fireAt) };
    })();
  }
  // The activity's input and result cross the wire as JSON, as they do between the extension and the worker.
  const input = JSON.parse(JSON.stringify(work.input ?? null)) as unknown;
  return run.invokeActivity(work.name, input).then(
    (result) => ({ id: work.id, event: history.taskCompleted(new Date(), work.id, result) }),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      run.log.warn(`activity ${work.name} of ${run.instanceId} failed: ${message}`);
      return { id: work.id, event: history.taskFailed(new Date(), work.id, work.name, message) };
    },
  );
}

/** Drives the instance until it completes, fails, is lost, or the host stops; the saved history is enough to go on from. */
export async function runInstance(run: InstanceRun): Promise<void> {
  let events = run.events;
  let inflight = new Map<number, Promise<Completion>>();
  for (;;) {
    if (run.lost()) return;
    const now = new Date();
    const state = await invokeOrchestrator(
      run.callback,
      run.name,
      run.instanceId,
      events,
      run.log.handlerFor(run.name),
    );
    let replayed;
    try {
      const tooLarge = customStatusError(state);
      if (tooLarge)
        throw new ExportError('data', tooLarge, {
          where: `${run.name} custom status`,
          fix: 'Keep the custom status small; put details elsewhere.',
        });
      replayed = replayActions(events, state, now);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      run.log.error(`orchestration ${run.name} (${run.instanceId}) failed: ${message}`);
      await run.save({ runtimeStatus: 'Failed', output: failure(run.name, message), history: events });
      return;
    }
    const customStatus = state.customStatus ?? null;
    if (state.error !== undefined && (replayed.settled || replayed.open.length === 0)) {
      run.log.error(`orchestration ${run.name} (${run.instanceId}) failed: ${state.error}`);
      await run.save({
        runtimeStatus: 'Failed',
        customStatus,
        output: failure(run.name, state.error),
        history: events,
      });
      return;
    }
    if (state.isDone && replayed.continueAsNew) {
      const next = replayed.continueAsNew.input;
      events = history.start(now, run.name, next);
      inflight = new Map();
      await run.save({ runtimeStatus: 'Running', input: next, customStatus, history: events });
      continue;
    }
    if (state.isDone) {
      await run.save({
        runtimeStatus: 'Completed',
        customStatus,
        output: state.output ?? null,
        history: played(events),
      });
      return;
    }
    events = played([...events, ...replayed.scheduled, history.orchestratorCompleted(now)]);
    await run.save({ customStatus, history: events });
    if (run.lost()) return;
    // A stopping host starts nothing new: what is open stays in the history for the host that goes on.
    if (!run.stopping())
      for (const work of replayed.open) if (!inflight.has(work.id)) inflight.set(work.id, dispatch(run, work));
    if (inflight.size === 0) {
      if (run.stopping()) return;
      throw new ExportError(
        'config',
        `Orchestration ${run.name} (${run.instanceId}) waits for something the local host cannot deliver`,
        {
          fix: 'The local host runs activities and timers only; external events and sub-orchestrations need Azure.',
        },
      );
    }
    const finished = await nextCompletions(inflight, run.stopping());
    if (finished.length === 0) return;
    for (const { id } of finished) inflight.delete(id);
    events = [...events, history.orchestratorStarted(new Date()), ...finished.map((completion) => completion.event)];
  }
}

/**
 * The first completion; when stopping, every activity still running too (timers give up), so no finished work is
 * lost. A timer that gave up because the host began stopping during the race resolves nothing: then the
 * activities still running are waited for as well.
 */
async function nextCompletions(
  inflight: Map<number, Promise<Completion>>,
  stopping: boolean,
): Promise<{ id: number; event: HistoryEvent }[]> {
  let settled = stopping ? await Promise.all(inflight.values()) : [await Promise.race(inflight.values())];
  if (settled.every((completion) => completion === undefined)) settled = await Promise.all(inflight.values());
  return settled.filter((completion): completion is { id: number; event: HistoryEvent } => completion !== undefined);
}

/** The extension's wording of a failed orchestration (OutOfProcOrchestrationShim). */
const failure = (name: string, error: string) => `Orchestrator function '${name}' failed: ${error}`;
