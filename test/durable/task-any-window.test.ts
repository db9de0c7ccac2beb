/**
 * Why the initial sync copies partitions in lanes and not in a sliding window of Task.any
 * (shared/sync/capture/initial-sync-plan.ts, PartitionLane): durable-functions sends a new Task.any with all its
 * children's actions, and the extension schedules every child of an action it replays
 * (OutOfProcOrchestrationShim; github.com/Azure/azure-functions-durable-js/issues/574, open). A window that puts a
 * still-running task into its next Task.any copies that partition twice. Driven through durable-functions' own replay
 * engine and the extension's side the local host copies (local/host/durable-extension.ts). If this test fails after
 * an upgrade of durable-functions, the SDK no longer resends scheduled tasks and a sliding window becomes possible.
 */
import { describe, expect, it } from 'vitest';
import type { OrchestrationFunction } from '../../functions/definition';
import { history, played } from '../../local/host/durable-history';
import { invokeOrchestrator, replayActions } from '../../local/host/durable-extension';
import { workerOrchestrations } from '../../local/host/durable-worker';

const slidingWindow: OrchestrationFunction = {
  kind: 'orchestration',
  name: 'slidingWindow',
  handler: function* (context) {
    const first = context.df.callActivity('copy', 0);
    const second = context.df.callActivity('copy', 1);
    const done: unknown = yield context.df.Task.any([first, second]);
    const running = done === first ? second : first;
    yield context.df.Task.any([running, context.df.callActivity('copy', 2)]);
    return 'done';
  },
};

describe('a sliding window of Task.any in durable-functions', () => {
  it('schedules the still-running task a second time when it joins the next Task.any', async () => {
    const callback = (await workerOrchestrations([slidingWindow])).get(slidingWindow.name);
    if (!callback) throw new Error('no callback registered');
    const t0 = new Date('2026-03-01T08:00:00Z');
    const t1 = new Date('2026-03-01T08:00:05Z');
    const started = history.start(t0, slidingWindow.name, null);
    const firstEpisode = replayActions(started, await invokeOrchestrator(callback, 'slidingWindow', 'w', started), t0);
    expect(firstEpisode.open.map((work) => (work.kind === 'activity' ? work.input : undefined))).toEqual([0, 1]);

    // Copy 1 finishes while copy 0 is still running.
    const events = played([
      ...started,
      ...firstEpisode.scheduled,
      history.orchestratorCompleted(t0),
      history.orchestratorStarted(t1),
      history.taskCompleted(t1, 1, null),
    ]);
    const second = replayActions(events, await invokeOrchestrator(callback, 'slidingWindow', 'w', events), t1);
    // Copy 0 again (sequence 2) beside the new copy 2 (sequence 3), and the SDK numbers copy 2 as sequence 2.
    expect(second.scheduled.map((event) => [event.EventId, event.Input])).toEqual([
      [2, '0'],
      [3, '2'],
    ]);
  });
});
