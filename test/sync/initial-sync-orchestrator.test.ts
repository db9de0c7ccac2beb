import type * as df from 'durable-functions';
import { describe, expect, it } from 'vitest';
import type { OrchestrationContextPort } from '../../functions/definition';
import { COPY_PAGE_ACTIVITY } from '../../functions/copy-page';
import { initialSyncOrchestrator } from '../../functions/initial-sync';
import type { InitialSyncInput, PageCopied } from '../../shared/sync/capture/initial-sync-plan';

interface Scheduled {
  name: string;
  input: unknown;
}

/** Steps the generator by hand, as Durable does on the first (non-replay) execution. */
function fakeContext(input: InitialSyncInput) {
  const calls: { continued?: unknown; statuses: unknown[] } = { statuses: [] };
  const context: OrchestrationContextPort = {
    log: () => undefined,
    df: {
      instanceId: 'initial-sync-sales',
      isReplaying: false,
      currentUtcDateTime: new Date(0),
      getInput: <T>() => input as T,
      callActivity: (name: string, activityInput?: unknown) => ({ name, input: activityInput }) as unknown as df.Task,
      callActivityWithRetry: (name: string, _retry: df.RetryOptions, activityInput?: unknown) =>
        ({ name, input: activityInput }) as unknown as df.Task,
      Task: {
        all: (tasks: df.Task[]) => ({ all: tasks }) as unknown as df.Task,
        any: (tasks: df.Task[]) => ({ any: tasks }) as unknown as df.Task,
      },
      createTimer: () => ({}) as df.TimerTask,
      continueAsNew: (next: unknown) => void (calls.continued = next),
      setCustomStatus: (status: unknown) => void calls.statuses.push(status),
    },
  };
  return { context, calls };
}

const copied = (table: string, done: boolean, rowsCopied = 5000): PageCopied => ({ table, done, rowsCopied, pages: 1 });

describe('initial sync orchestrator', () => {
  it('copies one page of up to fanOut tables at once and continues as new with the unfinished ones at the back', () => {
    const input: InitialSyncInput = {
      profile: 'sales',
      pending: ['account', 'contact', 'role'],
      fanOut: 2,
      progress: {},
    };
    const { context, calls } = fakeContext(input);
    const generator = initialSyncOrchestrator(context);

    const scheduled = generator.next().value as { all: Scheduled[] };
    expect(scheduled.all).toEqual([
      { name: COPY_PAGE_ACTIVITY, input: { profile: 'sales', table: 'account' } },
      { name: COPY_PAGE_ACTIVITY, input: { profile: 'sales', table: 'contact' } },
    ]);
    const end = generator.next([copied('account', false), copied('contact', true, 42)]);
    expect(end.done).toBe(true);
    expect(calls.continued).toEqual({
      profile: 'sales',
      pending: ['role', 'account'],
      fanOut: 2,
      progress: {
        account: { rowsCopied: 5000, pages: 1, done: false },
        contact: { rowsCopied: 42, pages: 1, done: true },
      },
    });
    expect(calls.statuses).toEqual([
      expect.objectContaining({ phase: 'copying', tablesDone: 1, tables: 3, rowsCopied: 5042 }),
    ]);
  });

  it('finishes with a summary when the last table reaches its deltaLink', () => {
    const input: InitialSyncInput = {
      profile: 'sales',
      pending: ['account'],
      fanOut: 4,
      progress: {
        contact: { rowsCopied: 10, pages: 1, done: true },
        account: { rowsCopied: 5000, pages: 1, done: false },
      },
    };
    const { context, calls } = fakeContext(input);
    const generator = initialSyncOrchestrator(context);
    generator.next();
    const end = generator.next([{ table: 'account', rowsCopied: 7000, pages: 2, done: true }]);
    expect(end).toEqual({
      done: true,
      value: expect.objectContaining({ phase: 'done', tablesDone: 2, tables: 2, rowsCopied: 7010 }),
    });
    expect(calls.continued).toBeUndefined();
  });

  it('lets a failing page copy fail the orchestration (Durable records it; status shows the error)', () => {
    const { context } = fakeContext({ profile: 'sales', pending: ['account'], fanOut: 1, progress: {} });
    const generator = initialSyncOrchestrator(context);
    generator.next();
    // First the unfinished tables record the error (their status shows it), then the orchestration fails with it.
    expect(generator.throw(new Error('destination unreachable')).value).toEqual({
      name: 'recordInitialSyncFailure',
      input: { profile: 'sales', tables: ['account'], message: 'destination unreachable' },
    });
    expect(() => generator.next(null)).toThrow('destination unreachable');
  });
});
