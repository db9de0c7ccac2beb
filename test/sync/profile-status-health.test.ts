import { describe, expect, it } from 'vitest';
import { ExportError } from '../../shared/errors';
import type { OrchestrationClient, OrchestrationStatus } from '../../shared/orchestration/client';
import { initialSyncInstanceId } from '../../shared/sync/admin/activation';
import { profileStatus } from '../../shared/sync/admin/status';
import { fixedClock, inMemorySyncServices } from '../support/in-memory-sync';

const rules = { pollIntervalMs: 1_000, degradedAfterPolls: 3 };

/** Answers getStatus with the given instances, as durable-functions' client does (undefined when unknown). */
function orchestrationsWith(statuses: OrchestrationStatus[]): OrchestrationClient {
  return {
    startNew: (_name, { instanceId }) => Promise.resolve(instanceId),
    getStatus: (id) => Promise.resolve(statuses.find((status) => status.instanceId === id)),
    terminate: () => Promise.resolve(),
  };
}

async function activeAccount(phase: 'initial' | 'delta') {
  const clock = fixedClock();
  const services = inMemorySyncServices(clock);
  const at = clock.now().toISOString();
  await services.activations.put('p', { state: 'active', tables: ['account'], activatedAt: at });
  await services.checkpoints.create('p', 'account', {
    phase,
    rowsCopied: 10,
    pages: 1,
    startedAt: at,
    ...(phase === 'delta' ? { deltaLink: 'accounts?$deltatoken=1!x' } : {}),
  });
  return { services, clock };
}

describe('profile status health', () => {
  it('shows a table of a failed initial sync as failed, with the error recorded on it, and its lag growing', async () => {
    const { services, clock } = await activeAccount('initial');
    clock.advance(30_000);
    await services.status.update('p', 'account', {
      phase: 'initial',
      lastError: new ExportError('config', 'Dataverse refused the token (401)'),
    });
    const failed: OrchestrationStatus = {
      instanceId: initialSyncInstanceId('p'),
      name: 'initialSync',
      runtimeStatus: 'Failed',
      input: {},
      customStatus: null,
      output: 'Orchestrator function failed',
      createdTime: new Date(clock.now().getTime() - 30_000),
      lastUpdatedTime: clock.now(),
    };
    const view = await profileStatus(services, orchestrationsWith([failed]), 'p', rules);
    expect(view.tables[0]).toMatchObject({ table: 'account', phase: 'initial', lagSeconds: 30 });
    expect(view.tables[0]?.health.state).toBe('failed');
    expect(view.tables[0]?.health.reason).toContain('Dataverse refused the token (401)');

    const running = await profileStatus(
      services,
      orchestrationsWith([{ ...failed, runtimeStatus: 'Running' }]),
      'p',
      rules,
    );
    expect(running.tables[0]?.health).toEqual({ state: 'ok', reason: null });
  });

  it('shows a delta table whose polls fail as degraded, lag counted from its last successful poll', async () => {
    const { services, clock } = await activeAccount('delta');
    clock.advance(5_000);
    await services.status.update('p', 'account', { lastError: new ExportError('config', 'HTTP 403 refused') });
    const view = await profileStatus(services, orchestrationsWith([]), 'p', rules);
    expect(view.tables[0]?.lagSeconds).toBe(5);
    expect(view.tables[0]?.health.state).toBe('degraded');
    expect(view.tables[0]?.health.reason).toContain('HTTP 403 refused');
  });
});
