/**
 * The initial-sync orchestrator driven through durable-functions' own replay engine: the worker-level
 * callback that `df.app.orchestration` registers, invoked as the Node worker invokes it, with histories built
 * one event at a time as the Durable extension appends them (local/host/durable-history.ts), and the
 * extension's side of each episode (numbering, retries, non-determinism) from local/host/durable-extension.ts.
 */
import { describe, expect, it } from 'vitest';
import { COPY_PAGE_ACTIVITY } from '../../functions/copy-page';
import { history, type HistoryEvent } from '../../local/host/durable-history';
import {
  customStatusError,
  replayActions,
  type OpenWork,
  type OrchestratorState,
} from '../../local/host/durable-extension';
import { at, completes, continueWith as then, fails, fires, run, start } from './initial-sync-episodes';
import {
  nextCycle,
  progressAfter,
  summarize,
  type InitialSyncInput,
  type PageCopied,
} from '../../shared/sync/capture/initial-sync-plan';

const copied = (table: string, done: boolean, rowsCopied = 5000, pages = 1): PageCopied => ({
  table,
  done,
  rowsCopied,
  pages,
});
const input = (pending: string[], fanOut: number, progress: InitialSyncInput['progress'] = {}): InitialSyncInput => ({
  profile: 'sales',
  pending,
  fanOut,
  progress,
});

const activities = (open: OpenWork[]) =>
  open.filter((work): work is Extract<OpenWork, { kind: 'activity' }> => work.kind === 'activity');
const timerAt = (open: OpenWork[]) => {
  const timer = open.find((work) => work.kind === 'timer');
  if (!timer || timer.kind !== 'timer') throw new Error(`no timer open: ${JSON.stringify(open)}`);
  return timer;
};

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}

describe("the initial-sync orchestrator in durable-functions' replay engine", () => {
  it('schedules one page copy per table of the cycle, with retry, in one Task.all', async () => {
    const first = await start(input(['account', 'contact', 'role'], 3));
    expect(first.state.isDone).toBe(false);
    expect(first.state.actions).toEqual([
      [
        expect.objectContaining({
          actionType: 12,
          compoundActions: ['account', 'contact', 'role'].map((table) =>
            expect.objectContaining({
              actionType: 1,
              functionName: COPY_PAGE_ACTIVITY,
              input: { profile: 'sales', table },
              retryOptions: expect.objectContaining({
                firstRetryIntervalInMilliseconds: 2000,
                maxNumberOfAttempts: 5,
                backoffCoefficient: 2,
              }),
            }),
          ),
        }),
      ],
    ]);
    expect(activities(first.open).map((work) => [work.id, (work.input as { table: string }).table])).toEqual([
      [0, 'account'],
      [1, 'contact'],
      [2, 'role'],
    ]);
  });

  it('reaches the same continueAsNew input and custom status whatever order the copies complete in, one per episode or all at once', async () => {
    const first = input(['account', 'contact', 'role'], 3);
    const results = [copied('account', false), copied('contact', true, 42), copied('role', false, 7)];
    const expected = nextCycle(first, progressAfter(first, results));
    expect(expected).toEqual({ ...first, pending: ['account', 'role'], progress: expect.any(Object) });
    const started = await start(first);

    for (const order of permutations([0, 1, 2])) {
      let current = started;
      for (const [step, id] of order.entries()) {
        current = await then(current.events, 10 + step, completes(id, results[id] as PageCopied));
        if (step < 2) expect([current.state.isDone, current.state.actions[0]?.length]).toEqual([false, 1]);
      }
      expect(current.state).toMatchObject({ isDone: true, customStatus: summarize(expected?.progress ?? {}, 3) });
      expect(current.continueAsNew).toEqual({ input: expected });
    }

    const together = await then(
      started.events,
      10,
      completes(2, results[2] as PageCopied),
      completes(0, results[0] as PageCopied),
      completes(1, results[1] as PageCopied),
    );
    expect(together.continueAsNew).toEqual({ input: expected });
    expect(together.state.customStatus).toEqual({ phase: 'copying', tablesDone: 1, tables: 3, rowsCopied: 5049 });
  });

  it('retries a failed copy after its timer (2 s, then 4 s) and carries on with the attempt that succeeds', async () => {
    const first = await start(input(['account'], 1));
    const failedOnce = await then(first.events, 5, fails(0, 'throttled'));
    expect(failedOnce.state.isDone).toBe(false);
    expect(failedOnce.state.error).toBeUndefined();
    expect(timerAt(failedOnce.open)).toEqual({ kind: 'timer', id: 1, fireAt: at(7) });

    const retried = await then(failedOnce.events, 7, fires(1, at(7)));
    expect(activities(retried.open)).toEqual([
      { kind: 'activity', id: 2, name: COPY_PAGE_ACTIVITY, input: { profile: 'sales', table: 'account' } },
    ]);
    const failedTwice = await then(retried.events, 8, fails(2, 'throttled'));
    expect(timerAt(failedTwice.open)).toEqual({ kind: 'timer', id: 3, fireAt: at(12) });

    const again = await then(failedTwice.events, 12, fires(3, at(12)));
    const done = await then(again.events, 13, completes(4, copied('account', true, 900, 3)));
    expect(done.state).toMatchObject({
      isDone: true,
      output: summarize({ account: { rowsCopied: 900, pages: 3, done: true } }, 1),
    });
    expect(done.continueAsNew).toBeUndefined();
  });

  it("fails the orchestration with the copy's error once all five attempts failed (after the last retry timer, as RetryInterceptor does)", async () => {
    let current = await start(input(['account'], 1));
    let seconds = 0;
    const delays: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      current = await then(current.events, (seconds += 1), fails(attempt * 2, 'destination unreachable'));
      const timer = timerAt(current.open);
      delays.push((timer.fireAt.getTime() - at(seconds).getTime()) / 1000);
      expect(current.state.error).toBeUndefined();
      seconds += delays[attempt] as number;
      current = await then(current.events, seconds, fires(timer.id, timer.fireAt));
    }
    expect(delays).toEqual([2, 4, 8, 16, 32]);
    // Before it fails, the orchestrator records the error on the unfinished tables (functions/initial-sync.ts).
    const [recording] = activities(current.open);
    expect(recording?.name).toBe('recordInitialSyncFailure');
    current = await then(current.events, seconds + 1, (when) => history.taskCompleted(when, recording?.id ?? -1, null));
    expect(current.state.isDone).toBe(false);
    expect(current.state.error).toContain("Activity function 'copyPage' failed: destination unreachable");
    expect(current.open).toEqual([]);
  });

  it('chains cycles by continueAsNew until every table reaches its deltaLink, each execution a fresh history', async () => {
    const pagesOf: Record<string, number> = { account: 3, contact: 1, role: 2 };
    let cycle: InitialSyncInput | undefined = input(['account', 'contact', 'role'], 2);
    const inputs: InitialSyncInput[] = [];
    let output: unknown;
    while (cycle) {
      inputs.push(cycle);
      let current = await start(cycle);
      const results: PageCopied[] = [];
      for (const work of activities(current.open).reverse()) {
        const table = (work.input as { table: string }).table;
        const pages = (cycle.progress[table]?.pages ?? 0) + 1;
        results.unshift(copied(table, pages >= (pagesOf[table] as number), pages * 10, pages));
        current = await then(current.events, 1, completes(work.id, results[0] as PageCopied));
      }
      expect(current.state.isDone).toBe(true);
      const expected = nextCycle(cycle, progressAfter(cycle, results));
      expect(current.continueAsNew?.input).toEqual(expected);
      cycle = expected;
      output = current.state.output;
      expect(inputs.length).toBeLessThan(10);
    }
    expect(inputs.map((each) => each.pending)).toEqual([
      ['account', 'contact', 'role'],
      ['role', 'account'],
      ['role', 'account'],
    ]);
    expect(output).toEqual({ phase: 'done', tablesDone: 3, tables: 3, rowsCopied: 60 });
  });

  it('keeps its custom status within the 16 KB the extension accepts, however many tables the profile has', async () => {
    const tables = Array.from({ length: 200 }, (_, index) => `new_customtable${index}`);
    const progress = Object.fromEntries(
      tables.slice(1).map((table) => [table, { rowsCopied: 125_000, pages: 25, done: true }]),
    );
    const last = await start(input([tables[0] as string], 4, progress));
    const done = await then(last.events, 1, completes(0, copied(tables[0] as string, true, 125_000, 25)));
    expect(done.state).toMatchObject({
      isDone: true,
      customStatus: { phase: 'done', tablesDone: 200, tables: 200, rowsCopied: 25_000_000 },
    });
    expect(customStatusError(done.state)).toBeUndefined();
  });

  it('fails only once every copy of its Task.all has finished, when one copy exhausts its retries (the extension awaits Task.WhenAll)', async () => {
    let current = await start(input(['account', 'contact'], 2));
    let seconds = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      const failing = activities(current.open).find((work) => (work.input as { table: string }).table === 'account');
      current = await then(current.events, (seconds += 1), fails(failing?.id ?? -1, 'destination unreachable'));
      const timer = timerAt(current.open);
      current = await then(current.events, (seconds += 60), fires(timer.id, timer.fireAt));
    }
    // The catch schedules the recording of the failure (functions/initial-sync.ts) in a second action group, which
    // the extension starts only once the Task.WhenAll of the first group has finished: contact's copy is still open.
    expect(current.state.isDone).toBe(false);
    expect(current.open).toEqual([
      { kind: 'activity', id: 1, name: COPY_PAGE_ACTIVITY, input: { profile: 'sales', table: 'contact' } },
    ]);
    const copiedContact = await then(current.events, (seconds += 1), completes(1, copied('contact', true)));
    const recording = activities(copiedContact.open).find((work) => work.name === 'recordInitialSyncFailure');
    expect(recording?.input).toMatchObject({ profile: 'sales', tables: ['account', 'contact'] });
    const failed = await then(copiedContact.events, seconds + 1, (when) =>
      history.taskCompleted(when, recording?.id ?? -1, null),
    );
    expect(failed.state.error).toContain('destination unreachable');
    expect(failed.open).toEqual([]);
    expect(replayActions(failed.events, failed.state, at(seconds + 1)).settled).toBe(true);
  });

  it('is deterministic: the same history gives the same actions and status on every replay', async () => {
    const first = await start(input(['account', 'contact', 'role', 'team'], 4));
    const mid = await then(first.events, 3, completes(1, copied('contact', true, 10)), fails(3, 'timeout'));
    const finished = await then(
      mid.events,
      9,
      fires(4, at(5)),
      completes(0, copied('account', false)),
      completes(2, copied('role', true, 1)),
    );
    const end = await then(finished.events, 10, completes(5, copied('team', true, 3)));
    // Replays a few milliseconds apart, so a clock or random number in the orchestrator would show.
    const replayed = async (events: HistoryEvent[]) => {
      const states: OrchestratorState[] = [];
      for (let index = 0; index < 5; index++) {
        states.push(await run(events));
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      return states;
    };
    const endStates = await replayed(end.events);
    expect(endStates[0]).toMatchObject({ isDone: true, customStatus: { phase: 'copying', tablesDone: 3, tables: 4 } });
    for (const state of endStates) expect(state).toEqual(endStates[0]);
    const replays = await replayed(mid.events);
    for (const replay of replays) expect(replay).toEqual(replays[0]);
    const planned = replays.map((replay) => replayActions(mid.events, replay, at(3)));
    for (const plan of planned) expect(plan).toEqual(planned[0]);
    expect(planned[0]?.scheduled).toEqual([]);
    expect(planned[0]?.open.map((work) => work.id)).toEqual([0, 2, 4]);
  });

  it('detects a history the orchestrator no longer matches, as DurableTask.Core does', async () => {
    const first = await start(input(['account', 'contact'], 2));
    const renamed = first.events.map((event) => (event.EventId === 1 ? { ...event, Name: 'copyPageV2' } : event));
    expect(() => replayActions(renamed, first.state, at(1))).toThrow(
      /Non-Deterministic workflow detected: .*sequence ID 1.*'copyPage'/,
    );
    const extra = [
      ...first.events,
      history.taskScheduled(at(0), 2, COPY_PAGE_ACTIVITY, { profile: 'sales', table: 'role' }),
    ];
    expect(() => replayActions(extra, first.state, at(1))).toThrow(/hasn't \(yet\?\) scheduled this task/);
  });
});
