/**
 * The initial-sync orchestrator's fan-out over a table's partitions (docs/notes/parallel-initial-sync.md), driven
 * through durable-functions' own replay engine as test/durable/replay.test.ts drives the page-by-page cycle: the
 * worker-level callback, histories built one event at a time (local/host/durable-history.ts) and the extension's
 * side of each episode (local/host/durable-extension.ts).
 */
import { describe, expect, it } from 'vitest';
import { COPY_PAGE_ACTIVITY } from '../../functions/copy-page';
import { COPY_PARTITION_ACTIVITY } from '../../functions/copy-partition';
import type { OpenWork } from '../../local/host/durable-extension';
import { replayActions } from '../../local/host/durable-extension';
import { at, completes, continueWith as then, run, start } from './initial-sync-episodes';
import {
  MAX_CONCURRENT_REQUESTS,
  PARTITIONS_PER_LANE,
  type InitialSyncInput,
} from '../../shared/sync/capture/initial-sync-plan';

const activities = (open: OpenWork[]) =>
  open
    .filter((work): work is Extract<OpenWork, { kind: 'activity' }> => work.kind === 'activity')
    .map((work) => [work.id, work.name, work.input]);
const partitioned = (next: number, total: number, streams: number): InitialSyncInput => ({
  profile: 'sales',
  pending: ['account'],
  fanOut: 4,
  progress: { account: { rowsCopied: 0, pages: 0, done: false } },
  partitions: { account: { next, total } },
  streams,
});

describe('the initial-sync orchestrator fanning out over partitions', () => {
  it('opens the partitions when the key pass ends, at the streams the step reports', async () => {
    const first = await start({ profile: 'sales', pending: ['account'], fanOut: 4, progress: {} });
    expect(activities(first.open)).toEqual([[0, COPY_PAGE_ACTIVITY, { profile: 'sales', table: 'account' }]]);
    const keyed = await then(
      first.events,
      1,
      completes(0, { table: 'account', rowsCopied: 0, pages: 0, done: false, partitions: { total: 5, streams: 2 } }),
    );
    expect(keyed.continueAsNew?.input).toMatchObject({ partitions: { account: { next: 0, total: 5 } }, streams: 2 });
  });

  it('deals the next block of partitions to `streams` lanes in one Task.all; a lane done first starts nothing, replays schedule nothing new', async () => {
    const first = await start(partitioned(0, 5, 2));
    const lane = (partition: number, count: number) => ({
      profile: 'sales',
      table: 'account',
      partition,
      stride: 2,
      count,
    });
    expect(first.state.actions).toEqual([
      [
        expect.objectContaining({
          actionType: 12,
          compoundActions: [lane(0, 3), lane(1, 2)].map((input) =>
            expect.objectContaining({
              functionName: COPY_PARTITION_ACTIVITY,
              input,
              retryOptions: expect.objectContaining({ maxNumberOfAttempts: 5 }),
            }),
          ),
        }),
      ],
    ]);
    // Lane 1 (partitions 1 and 3) finishes before lane 0 (partitions 0, 2 and 4), which is still copying: nothing
    // waits on it, nothing new is scheduled, and the orchestration does not move on without it.
    const one = await then(first.events, 1, completes(1, { table: 'account', partition: 1, rows: 490, count: 2 }));
    expect(one.state.isDone).toBe(false);
    expect(one.continueAsNew).toBeUndefined();
    expect(activities(one.open)).toEqual([[0, COPY_PARTITION_ACTIVITY, lane(0, 3)]]);
    const replayed = replayActions(one.events, await run(one.events), at(2));
    expect(replayed.scheduled).toEqual([]);
    expect(activities(replayed.open)).toEqual([[0, COPY_PARTITION_ACTIVITY, lane(0, 3)]]);

    const both = await then(one.events, 2, completes(0, { table: 'account', partition: 0, rows: 730, count: 3 }));
    expect(both.continueAsNew?.input).toMatchObject({
      partitions: { account: { next: 5, total: 5 } },
      progress: { account: { rowsCopied: 1220, pages: 5, done: false } },
    });
  });

  it(`carries the partitions past the cycle's block across continue-as-new: at most ${PARTITIONS_PER_LANE} per lane and cycle`, async () => {
    const total = 2 * PARTITIONS_PER_LANE + 3;
    const first = await start(partitioned(0, total, 2));
    const lanes = activities(first.open);
    expect(lanes.map(([, , input]) => input)).toEqual(
      [0, 1].map((partition) => expect.objectContaining({ partition, stride: 2, count: PARTITIONS_PER_LANE })),
    );
    const done = await then(
      first.events,
      5,
      completes(0, { table: 'account', partition: 0, rows: 10, count: PARTITIONS_PER_LANE }),
      completes(1, { table: 'account', partition: 1, rows: 10, count: PARTITIONS_PER_LANE }),
    );
    const next = done.continueAsNew?.input as InitialSyncInput;
    expect(next.partitions).toEqual({ account: { next: 2 * PARTITIONS_PER_LANE, total } });
    const rest = await start(next);
    expect(activities(rest.open)).toEqual([
      [
        0,
        COPY_PARTITION_ACTIVITY,
        { profile: 'sales', table: 'account', partition: 2 * PARTITIONS_PER_LANE, stride: 2, count: 2 },
      ],
      [
        1,
        COPY_PARTITION_ACTIVITY,
        { profile: 'sales', table: 'account', partition: 2 * PARTITIONS_PER_LANE + 1, stride: 2, count: 1 },
      ],
    ]);
  });

  it('hands the table a step again once every partition is handed out, and ends when that step finishes it', async () => {
    const last = await start(partitioned(4, 5, 2));
    expect(activities(last.open)).toEqual([
      [0, COPY_PARTITION_ACTIVITY, { profile: 'sales', table: 'account', partition: 4, stride: 1, count: 1 }],
    ]);
    const handedOut = await then(last.events, 1, completes(0, { table: 'account', partition: 4, rows: 10 }));
    const finishing = await start(handedOut.continueAsNew?.input as InitialSyncInput);
    expect(activities(finishing.open)).toEqual([[0, COPY_PAGE_ACTIVITY, { profile: 'sales', table: 'account' }]]);
    const done = await then(
      finishing.events,
      1,
      completes(0, { table: 'account', rowsCopied: 1010, pages: 5, done: true }),
    );
    expect(done.state).toMatchObject({ isDone: true, output: { phase: 'done', tablesDone: 1, rowsCopied: 1010 } });
    expect(done.continueAsNew).toBeUndefined();
  });

  it(`never runs more than ${MAX_CONCURRENT_REQUESTS} partitions at once, whatever the streams say`, async () => {
    const wide = await start(partitioned(0, 400, 500));
    expect(activities(wide.open)).toHaveLength(MAX_CONCURRENT_REQUESTS);
    // The carried input is two numbers per table, not the partitions: the history stays one cycle's size.
    expect(JSON.stringify(partitioned(0, 400, 8)).length).toBeLessThan(300);
  });
});
