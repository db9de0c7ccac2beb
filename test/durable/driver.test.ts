/**
 * The local orchestration driver over real Azurite, running orchestrators through durable-functions' replay
 * engine: history kept in the instance's table row, replayed on every event, and taken over by another host
 * from that history.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActivityFunction, OrchestrationFunction } from '../../functions/definition';
import { COPY_PAGE_ACTIVITY } from '../../functions/copy-page';
import { initialSync } from '../../functions/initial-sync';
import { consoleLog } from '../../local/host/console-log';
import { EventType, type HistoryEvent } from '../../local/host/durable-history';
import { workerOrchestrations } from '../../local/host/durable-worker';
import { createOrchestrationDriver, type OrchestrationDriver } from '../../local/host/orchestrations';
import { summarize, type InitialSyncInput, type PageCopied } from '../../shared/sync/capture/initial-sync-plan';
import { useAzurite } from '../support/azurite';
import { waitFor } from '../support/wait';

const azurite = useAzurite();
const drivers: OrchestrationDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((driver) => driver.stop()));
});

const table = () => azurite.clients.table(`replay${randomUUID().replaceAll('-', '').slice(0, 12)}`);
const log = consoleLog('none');

/** The saved history of an instance, from its chunks. */
async function savedHistory(instances: ReturnType<typeof table>, instanceId: string): Promise<HistoryEvent[]> {
  const entity = await instances.getEntity<Record<string, unknown>>('instances', instanceId);
  const chunks = Number(entity.historyChunks ?? 0);
  if (chunks === 0) return [];
  return JSON.parse(
    Array.from({ length: chunks }, (_, index) => String(entity[`history${index}`])).join(''),
  ) as HistoryEvent[];
}

describe("the local orchestration driver on durable-functions' replay engine", () => {
  it('runs the initial sync cycle after cycle, a failed copy retried after its 2 s timer, with the custom status and output of Azure', async () => {
    const instances = table();
    const pagesOf: Record<string, number> = { account: 2, contact: 1, role: 1 };
    const copiedPages: Record<string, number> = {};
    const calls: string[] = [];
    let contactFailed = false;
    const driver = await createOrchestrationDriver({
      orchestrators: await workerOrchestrations([initialSync]),
      invokeActivity: async (name, input) => {
        const { table: copied } = input as { table: string };
        calls.push(`${name}:${copied}`);
        if (copied === 'contact' && !contactFailed) {
          contactFailed = true;
          throw new Error('throttled');
        }
        const pages = (copiedPages[copied] = (copiedPages[copied] ?? 0) + 1);
        return {
          table: copied,
          rowsCopied: pages * 10,
          pages,
          done: pages >= (pagesOf[copied] as number),
        } satisfies PageCopied;
      },
      instances,
      log,
    });
    drivers.push(driver);
    const input: InitialSyncInput = {
      profile: 'sales',
      pending: ['account', 'contact', 'role'],
      fanOut: 2,
      progress: {},
    };
    await driver.client.startNew(initialSync.name, { instanceId: 'initial-sync-sales', input });
    await driver.whenIdle('initial-sync-sales');

    const status = await driver.client.getStatus('initial-sync-sales');
    const progress = {
      account: { rowsCopied: 20, pages: 2, done: true },
      contact: { rowsCopied: 10, pages: 1, done: true },
      role: { rowsCopied: 10, pages: 1, done: true },
    };
    expect(status).toMatchObject({
      runtimeStatus: 'Completed',
      output: summarize(progress, 3),
      customStatus: summarize(progress, 3),
    });
    expect(status?.input).toMatchObject({ pending: ['role', 'account'] });
    expect([...calls].sort()).toEqual(
      ['account', 'account', 'contact', 'contact', 'role'].map((copied) => `${COPY_PAGE_ACTIVITY}:${copied}`),
    );
    // The last execution's history, as saved: its own start, two copies scheduled, each completion an episode of its own.
    const events = await savedHistory(instances, 'initial-sync-sales');
    const { OrchestratorStarted, ExecutionStarted, TaskScheduled, OrchestratorCompleted, TaskCompleted } = EventType;
    expect(events.map((event) => event.EventType)).toEqual([
      OrchestratorStarted,
      ExecutionStarted,
      TaskScheduled,
      TaskScheduled,
      OrchestratorCompleted,
      OrchestratorStarted,
      TaskCompleted,
      OrchestratorCompleted,
      OrchestratorStarted,
      TaskCompleted,
    ]);
    expect(events.every((event) => event.IsPlayed)).toBe(true);
  });

  it('gives activities and orchestrators their values as JSON, as they cross the wire in Azure', async () => {
    const orchestration: OrchestrationFunction = {
      kind: 'orchestration',
      name: 'wire',
      handler: function* (context) {
        const result = (yield context.df.callActivity('stamp', { when: new Date(0) })) as {
          at: unknown;
          gone?: unknown;
          seen: unknown;
        };
        return { at: typeof result.at, gone: 'gone' in result, seen: result.seen };
      },
    };
    const activity: ActivityFunction<undefined> = {
      kind: 'activity',
      name: 'stamp',
      handler: () => async (input) => ({
        at: new Date(0),
        gone: undefined,
        seen: typeof (input as { when: unknown }).when,
      }),
    };
    const driver = await createOrchestrationDriver({
      orchestrations: [orchestration],
      activities: [activity],
      deps: () => undefined,
      instances: table(),
      log,
    });
    drivers.push(driver);
    await driver.client.startNew('wire', { instanceId: 'wire-1', input: null });
    await driver.whenIdle('wire-1');
    expect(await driver.client.getStatus('wire-1')).toMatchObject({
      runtimeStatus: 'Completed',
      output: { at: 'string', gone: false, seen: 'string' },
    });
  });

  it('fails an orchestration whose custom status is over 16 KB of UTF-16 JSON, as the extension does', async () => {
    const orchestration: OrchestrationFunction = {
      kind: 'orchestration',
      name: 'chatty',
      handler: function* (context) {
        context.df.setCustomStatus({ detail: 'x'.repeat(9_000) });
        return yield context.df.callActivity('one', null);
      },
    };
    const activity: ActivityFunction<undefined> = { kind: 'activity', name: 'one', handler: () => async () => 1 };
    const driver = await createOrchestrationDriver({
      orchestrations: [orchestration],
      activities: [activity],
      deps: () => undefined,
      instances: table(),
      log,
    });
    drivers.push(driver);
    await driver.client.startNew('chatty', { instanceId: 'chatty-1', input: null });
    await driver.whenIdle('chatty-1');
    const status = await driver.client.getStatus('chatty-1');
    expect(status?.runtimeStatus).toBe('Failed');
    expect(status?.output).toContain('must not exceed 16 KB. The current payload size is 17 KB.');
  });

  it('lets the host that takes an instance over replay its history: activities that completed before are not run again', async () => {
    const instances = table();
    const calls: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const orchestration: OrchestrationFunction = {
      kind: 'orchestration',
      name: 'pair',
      handler: function* (context) {
        const results = (yield context.df.Task.all([
          context.df.callActivity('fast', 1),
          context.df.callActivity('slow', 2),
        ])) as number[];
        return results;
      },
    };
    const activities = (host: string, blockSlow: boolean): ActivityFunction<undefined>[] => [
      {
        kind: 'activity',
        name: 'fast',
        handler: () => async (input) => (calls.push(`${host}:fast`), (input as number) * 10),
      },
      {
        kind: 'activity',
        name: 'slow',
        handler: () => async (input) => {
          calls.push(`${host}:slow`);
          if (blockSlow) await gate;
          return (input as number) * 10;
        },
      },
    ];
    const first = await createOrchestrationDriver({
      orchestrations: [orchestration],
      activities: activities('first', true),
      deps: () => undefined,
      instances,
      log,
    });
    await first.client.startNew('pair', { instanceId: 'pair-1', input: null });
    await waitFor('fast to have run on the first host', () =>
      calls.includes('first:fast') && calls.includes('first:slow') ? true : undefined,
    );
    await waitFor("fast's completion in the saved history", async () =>
      (await savedHistory(instances, 'pair-1')).some((event) => event.EventType === EventType.TaskCompleted)
        ? true
        : undefined,
    );

    // The first host "dies": another writer marks the instance as abandoned, so the first host's next write fails.
    const entity = await instances.getEntity<Record<string, unknown>>('instances', 'pair-1');
    const abandoned = {
      ...entity,
      partitionKey: 'instances',
      rowKey: 'pair-1',
      owner: 'a-dead-host',
      heartbeatAt: new Date(0).toISOString(),
    };
    await instances.updateEntity(abandoned, 'Replace', { etag: entity.etag });
    const second = await createOrchestrationDriver({
      orchestrations: [orchestration],
      activities: activities('second', false),
      deps: () => undefined,
      instances,
      log,
    });
    drivers.push(second);
    expect(await second.resumeInterrupted()).toEqual(['pair-1']);
    await second.whenIdle('pair-1');
    expect(await second.client.getStatus('pair-1')).toMatchObject({ runtimeStatus: 'Completed', output: [10, 20] });
    expect(calls.filter((call) => call.startsWith('second:'))).toEqual(['second:slow']);
    release();
    await first.stop();
  });
});
