/**
 * The local Durable client endpoint, reached as handlers reach it: a durableClient binding's data through
 * @azure/functions' invocation model, df.getClient, and the product's durableOrchestrationClient over it.
 */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleLog } from '../../local/host/console-log';
import { startDurableClientEndpoint, type DurableClientEndpoint } from '../../local/host/durable-endpoint';
import { captureRegistrations } from '../../local/host/functions-core';
import { invokeCaptured } from '../../local/host/invoke';
import { createOrchestrationDriver, type OrchestrationDriver } from '../../local/host/orchestrations';
import { timerTrigger } from '../../local/host/trigger-data';
import type { OrchestrationClient } from '../../shared/orchestration/client';
import { durableOrchestrationClient } from '../../shared/orchestration/durable';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();
const log = consoleLog('none');
let driver: OrchestrationDriver;
let endpoint: DurableClientEndpoint;
let client: OrchestrationClient;

beforeAll(async () => {
  driver = await createOrchestrationDriver({
    orchestrations: [
      {
        kind: 'orchestration',
        name: 'waitThenEcho',
        handler: function* (context) {
          const input = context.df.getInput<{ waitMs: number; echo: string }>();
          yield context.df.createTimer(new Date(Date.now() + input.waitMs));
          return input.echo;
        },
      },
    ],
    activities: [],
    deps: () => undefined,
    instances: azurite.clients.table('DurableEndpointTestInstances'),
    log,
  });
  endpoint = await startDurableClientEndpoint(driver.client, log);
  const clients: OrchestrationClient[] = [];
  const [fn] = await captureRegistrations(() =>
    app.timer('clientHolder', {
      schedule: '0 0 * * * *',
      extraInputs: [df.input.durableClient()],
      handler: (_timer, context) => void clients.push(durableOrchestrationClient(context)),
    }),
  );
  const now = new Date();
  await invokeCaptured(fn!, timerTrigger({ last: now, next: now, lastUpdated: now, isPastDue: false }), {
    extraInputs: (binding) => (binding.type === 'durableClient' ? endpoint.bindingData : undefined),
    log: () => undefined,
  });
  client = clients[0]!;
}, 60_000);

afterAll(async () => {
  await driver?.stop();
  await endpoint?.close();
});

describe('the local Durable client endpoint', () => {
  it('starts an instance, reports it running, then completed with its output', async () => {
    const instanceId = `echo-${randomUUID()}`;
    await expect(client.startNew('waitThenEcho', { instanceId, input: { waitMs: 1_500, echo: 'done' } })).resolves.toBe(
      instanceId,
    );
    const running = await client.getStatus(instanceId);
    expect(running).toMatchObject({ instanceId, name: 'waitThenEcho', input: { waitMs: 1_500, echo: 'done' } });
    expect(['Pending', 'Running']).toContain(running?.runtimeStatus);
    await driver.whenIdle(instanceId);
    expect(await client.getStatus(instanceId)).toMatchObject({ runtimeStatus: 'Completed', output: 'done' });
  });

  it('answers an unknown instance with 404, which the product reads as no instance', async () => {
    await expect(client.getStatus(`missing-${randomUUID()}`)).resolves.toBeUndefined();
    // durable-functions rejects a 404 on terminate; the extension answers 404 for an instance it does not know.
    await expect(client.terminate(`missing-${randomUUID()}`, 'why')).rejects.toThrow(/No instance with ID/);
  });

  it('terminates a running instance, and accepts terminating a finished one (410) without error', async () => {
    const instanceId = `long-${randomUUID()}`;
    // Short: the local driver's terminate waits for a pending timer to fire (local/host/orchestrations.ts).
    await client.startNew('waitThenEcho', { instanceId, input: { waitMs: 2_000, echo: 'never' } });
    await client.terminate(instanceId, 'profile deactivated');
    expect(await client.getStatus(instanceId)).toMatchObject({
      runtimeStatus: 'Terminated',
      output: 'profile deactivated',
    });
    await expect(client.terminate(instanceId, 'again')).resolves.toBeUndefined();
  });

  it('fails starting an orchestration nobody registered, with the driver message', async () => {
    await expect(client.startNew('noSuchOrchestration', { instanceId: randomUUID(), input: null })).rejects.toThrow(
      /noSuchOrchestration/,
    );
  });
});
