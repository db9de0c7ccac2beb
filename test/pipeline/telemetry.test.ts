/**
 * A whole local run observed from outside: metrics through an in-memory OpenTelemetry exporter, and every
 * log line, API response (errors and status included), exported metric, stored blob (failed-record files
 * included), table entity and queue message searched for the run's secrets.
 */
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkload } from '../../local/workload/workload';
import { sampleCounts } from '../../local/sample-org';
import { metricNames } from '../../shared/telemetry/metrics';
import { redactor } from '../../shared/telemetry/redaction';
import {
  EMULATOR_TOKEN,
  sampleProfile,
  sourceVersions,
  startProduct,
  stopProduct,
  TEST_KEY,
  waitForConvergence,
  type ProductUnderTest,
} from '../support/pipeline';
import { waitFor } from '../support/wait';

const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
const provider = new MeterProvider({ readers: [reader] });
const logLines: string[] = [];
const responses: string[] = [];
let product: ProductUnderTest | undefined;

/**
 * Secrets of this run: the Dataverse token (an app setting), a destination password in a second profile, a
 * Dataverse client secret in a third, and the host's function keys.
 */
const DESTINATION_SECRET = 'Sup3r-Secret-Destination-Pa55';
const CLIENT_SECRET = 'Client~Secret~Value~4242';

beforeAll(async () => {
  // Registered before the product starts, so the metrics it creates record into this provider.
  metrics.setGlobalMeterProvider(provider);
  product = await startProduct({
    sync: { pageSize: 40, fanOut: 2 },
    logLines: (line) => logLines.push(line),
    env: {
      DVX_SECRET_BROKEN_DESTINATION: `postgres://exporter:${DESTINATION_SECRET}@127.0.0.1:1/nowhere`,
      DVX_SECRET_DV_CLIENT_SECRET: CLIENT_SECRET,
    },
  });
}, 120_000);
afterAll(async () => {
  await stopProduct(product);
  await provider.shutdown();
  metrics.disable();
});

const call = async (method: string, path: string, body?: unknown) => {
  const result = await (product as ProductUnderTest).call(method, path, body);
  responses.push(JSON.stringify(result.body ?? null));
  return result;
};

interface Point {
  attributes: Record<string, unknown>;
  value: unknown;
}

function dataPoints(resourceMetrics: ResourceMetrics[], name: string): Point[] {
  return resourceMetrics
    .flatMap((resource) => resource.scopeMetrics)
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name)
    .flatMap((metric): Point[] =>
      metric.dataPoints.map((point) => ({ attributes: point.attributes, value: point.value })),
    );
}

describe('telemetry and secrets over a full local run', () => {
  it('records rows applied per profile, table and operation, and the end-to-end latency histogram', async () => {
    const p = product as ProductUnderTest;
    expect(
      (await call('PUT', 'profiles/observed', sampleProfile(p, { tables: ['account'], relationships: [] }))).status,
    ).toBe(201);
    expect((await call('POST', 'profiles/observed/activate')).status).toBe(202);
    await waitFor(
      'account in delta phase',
      async () => {
        const status = (await call('GET', 'profiles/observed/status')).body as { tables: Array<{ phase: string }> };
        return status.tables.every((table) => table.phase === 'delta') ? true : undefined;
      },
      60_000,
    );
    const counts = sampleCounts(60);
    const workload = createWorkload({
      baseUrl: p.emulator.baseUrl,
      token: EMULATOR_TOKEN,
      seed: 9,
      sampleSeed: 3,
      rows: { account: counts.account },
      mix: { create: 1, update: 3, delete: 1, recreate: 0 },
    });
    const operations = [];
    for (let i = 0; i < 40; i++) operations.push(await workload.step());
    expect(operations.some((operation) => operation.kind === 'delete')).toBe(true);
    await waitForConvergence(p, 'observed', ['account'], 60_000);

    // The applier records its metrics just after the destination commit: wait for the last batch's figures.
    const isAccountUpserts = (point: Point) =>
      point.attributes.profile === 'observed' &&
      point.attributes.table === 'account' &&
      point.attributes.operation === 'upsert';
    const exported = await waitFor(
      'the applied changes in the metrics',
      async () => {
        exporter.reset();
        await reader.forceFlush();
        const metricsNow = exporter.getMetrics();
        const upserts = dataPoints(metricsNow, metricNames.rowsApplied).filter(isAccountUpserts);
        const deleted = dataPoints(metricsNow, metricNames.rowsApplied).filter(
          (point) => point.attributes.operation === 'delete',
        );
        // The initial copy (60 accounts) plus the changes the workload made, and its deletes.
        const complete =
          upserts.length === 1 && Number(upserts[0]?.value) > counts.account && Number(deleted[0]?.value ?? 0) > 0;
        return complete ? metricsNow : undefined;
      },
      15_000,
    );
    const applied = dataPoints(exported, metricNames.rowsApplied);
    expect(applied.find((point) => point.attributes.operation === 'delete')?.attributes).toEqual({
      profile: 'observed',
      table: 'account',
      operation: 'delete',
    });
    const latency = dataPoints(exported, metricNames.e2eLatency).filter(
      (point) => point.attributes.table === 'account',
    );
    expect(latency).toHaveLength(1);
    const histogram = latency[0]?.value as { count: number; sum: number };
    expect(histogram.count).toBeGreaterThan(0);
    expect(histogram.sum).toBeGreaterThanOrEqual(0);
    expect(dataPoints(exported, metricNames.queueLag).length).toBeGreaterThan(0);
    expect(
      dataPoints(exported, metricNames.pollDuration).some((point) => point.attributes.profile === 'observed'),
    ).toBe(true);
  });

  it('never writes a secret to a log line, an API response, a metric, a failed-record file or any other stored state', async () => {
    const p = product as ProductUnderTest;
    // A row the destination refuses (an integer column cannot hold it), so the run has a failed-record file.
    const [id] = [...sourceVersions(p.emulator, 'account').keys()];
    const patched = await fetch(`${p.emulator.baseUrl}accounts(${id ?? ''})`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ numberofemployees: 99_999_999_999_999 }),
    });
    expect(patched.status).toBe(204);
    const failures = await waitFor(
      'a failed record for the refused row',
      async () => {
        const body = (await call('GET', 'profiles/observed/failures')).body as { records: Array<{ key: string }> };
        return body.records.length > 0 ? body.records : undefined;
      },
      30_000,
    );
    expect((await call('GET', `profiles/observed/failures/${failures[0]?.key ?? ''}`)).status).toBe(200);

    // A profile whose destination password is a secret: activation fails to connect, and says so without it.
    const put = await call(
      'PUT',
      'profiles/leaky',
      sampleProfile(p, {
        tables: ['account'],
        relationships: [],
        destination: { kind: 'sql', dialect: 'postgres', connection: { appSetting: 'DVX_SECRET_BROKEN_DESTINATION' } },
      }),
    );
    expect(put.status).toBe(201);
    const activation = await call('POST', 'profiles/leaky/activate');
    expect(activation.status).toBeGreaterThanOrEqual(400);
    // A profile signing in with a client secret, which cannot reach Entra ID from here.
    expect(
      (
        await call(
          'PUT',
          'profiles/signin',
          sampleProfile(p, {
            tables: ['account'],
            relationships: [],
            source: {
              environmentUrl: p.emulator.baseUrl,
              auth: {
                kind: 'client-secret',
                tenantId: '11111111-1111-1111-1111-111111111111',
                clientId: '22222222-2222-2222-2222-222222222222',
                clientSecret: { appSetting: 'DVX_SECRET_DV_CLIENT_SECRET' },
              },
            },
          }),
        )
      ).status,
    ).toBe(201);
    expect((await call('POST', 'profiles/signin/activate')).status).toBeGreaterThanOrEqual(400);
    for (const name of ['leaky', 'signin', 'observed']) {
      await call('GET', `profiles/${name}`);
      await call('GET', `profiles/${name}/status`);
    }
    await call('GET', 'health');
    // The key in the query string, where a logged URL would carry it.
    expect((await fetch(`${p.host.baseUrl}/profiles?code=${TEST_KEY}`)).status).toBe(200);

    exporter.reset();
    await reader.forceFlush();
    const telemetry = JSON.stringify(
      exporter
        .getMetrics()
        .flatMap((resource) => resource.scopeMetrics)
        .flatMap((scope) => scope.metrics)
        .map((metric) => ({ name: metric.descriptor.name, points: metric.dataPoints })),
    );
    const stored = await storedState(p);
    expect(stored.some((text) => text.startsWith('blob dvexport-state/failurelog/'))).toBe(true);
    expect(logLines.some((line) => line.includes('applied batch'))).toBe(true);
    // The initial sync's units with what each stage cost (60 accounts in pages of 40, or in two partitions of a key
    // page of 40, each partition a lane of its own).
    expect(
      logLines.filter((line) =>
        /copied (page|partitions) profile="observed" table="account" (page|partition)=\d (stride=\d+ count=1 )?rows=\d+ readMs=\d+ applyMs=\d+$/.test(
          line,
        ),
      ),
    ).toHaveLength(2);
    expect(logLines.some((line) => line.includes('Could not connect to the postgres destination'))).toBe(true);
    expect(responses.some((text) => text.includes('"errorClass":"config"') && text.includes('secret'))).toBe(true);
    // Each secret was resolved and used during the run (so registered with the redactor), not merely configured.
    for (const secret of [EMULATOR_TOKEN, DESTINATION_SECRET, CLIENT_SECRET])
      expect(redactor.redact(secret)).toBe('***');
    const everything = [...logLines, ...responses, telemetry, ...stored].join('\n');
    for (const secret of [EMULATOR_TOKEN, DESTINATION_SECRET, CLIENT_SECRET, TEST_KEY])
      expect(everything).not.toContain(secret);
  });
});

/** Every blob's content in every container, every table entity and every queued message, as text. */
async function storedState(p: ProductUnderTest): Promise<string[]> {
  const { storage } = p.deps;
  const stored: string[] = [];
  for await (const container of storage.blobs.listContainers()) {
    const client = storage.blobs.getContainerClient(container.name);
    for await (const blob of client.listBlobsFlat())
      stored.push(
        `blob ${container.name}/${blob.name} ${(await client.getBlobClient(blob.name).downloadToBuffer()).toString('utf8')}`,
      );
  }
  for await (const table of storage.tables.listTables()) {
    for await (const entity of storage.table(table.name ?? '').listEntities())
      stored.push(
        `entity ${table.name ?? ''} ${JSON.stringify(entity, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}`,
      );
  }
  for await (const queue of storage.queues.listQueues()) {
    const { peekedMessageItems } = await storage.queues
      .getQueueClient(queue.name)
      .peekMessages({ numberOfMessages: 32 });
    for (const message of peekedMessageItems) stored.push(`message ${queue.name} ${message.messageText}`);
  }
  return stored;
}
