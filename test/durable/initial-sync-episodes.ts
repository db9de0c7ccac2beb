/**
 * Drives the initial-sync orchestrator through durable-functions' own replay engine, one episode at a time: the
 * worker-level callback replays the history so far, and the extension's side (local/host/durable-extension.ts)
 * appends what it newly scheduled. Shared by test/durable/replay.test.ts and replay-partitions.test.ts. No export
 * is named `then`: a module namespace with one is a thenable, and importing it would call it.
 */
import { COPY_PAGE_ACTIVITY } from '../../functions/copy-page';
import { initialSync } from '../../functions/initial-sync';
import { history, played, type HistoryEvent } from '../../local/host/durable-history';
import {
  invokeOrchestrator,
  replayActions,
  type OpenWork,
  type OrchestratorState,
} from '../../local/host/durable-extension';
import { workerOrchestrations } from '../../local/host/durable-worker';
import type { InitialSyncInput, PageCopied, PartitionCopied } from '../../shared/sync/capture/initial-sync-plan';

const callback = workerOrchestrations([initialSync]).then((captured) => {
  const found = captured.get(initialSync.name);
  if (!found) throw new Error('df.app.orchestration registered no initial-sync callback');
  return found;
});
export const INSTANCE = 'initial-sync-sales';
const T0 = Date.parse('2026-03-01T08:00:00Z');
export const at = (seconds: number) => new Date(T0 + seconds * 1000);

export const run = async (events: readonly HistoryEvent[]) =>
  invokeOrchestrator(await callback, initialSync.name, INSTANCE, events);

export interface Episode {
  events: HistoryEvent[];
  state: OrchestratorState;
  open: OpenWork[];
  continueAsNew?: { input: unknown };
}

/** One episode: the orchestrator replays, the extension's side appends what it newly scheduled; all played. */
export async function episode(events: HistoryEvent[], now: Date): Promise<Episode> {
  const state = await run(events);
  const replayed = replayActions(events, state, now);
  return {
    events: played([...events, ...replayed.scheduled, history.orchestratorCompleted(now)]),
    state,
    open: replayed.open,
    continueAsNew: replayed.continueAsNew,
  };
}

export const start = (first: InitialSyncInput) => episode(history.start(at(0), initialSync.name, first), at(0));
export const continueWith = (
  events: HistoryEvent[],
  seconds: number,
  ...completions: ((when: Date) => HistoryEvent)[]
) =>
  episode(
    [...events, history.orchestratorStarted(at(seconds)), ...completions.map((complete) => complete(at(seconds)))],
    at(seconds),
  );
export const completes = (id: number, result: PageCopied | PartitionCopied) => (when: Date) =>
  history.taskCompleted(when, id, result);
export const fails = (id: number, message: string) => (when: Date) =>
  history.taskFailed(when, id, COPY_PAGE_ACTIVITY, message);
export const fires = (id: number, fireAt: Date) => (when: Date) => history.timerFired(when, id, fireAt);
