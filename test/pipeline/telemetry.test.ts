/**
 * A whole local run observed from outside: metrics through an in-memory OpenTelemetry exporter, and every
 * log line, API response and stored failure file searched for the run's secrets.
 */
import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkload } from '../../local/workload/workload';
import { sampleCounts } from '../../local/sample-org';
import { STATE_CONTAINER } from '../../shared/state/names';
import { metricNames } from '../../shared/telemetry/metrics';
import { EMULATOR_TOKEN, sampleProfile, startProduct, stopProduct, waitForConvergence, type ProductUnderTest } from '../support/pipeline';
import { waitFor } from '../support/wait';

const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
const provider = new MeterProvider({ readers: [reader] });
const logLines: string[] = [];
const responses: string[] = [];
let product: ProductUnderTest | undefined;

/** Secrets of this run: the Dataverse token (an app setting) and a destination password in a second profile. */
const DESTINATION_SECRET = 'Sup3r-Secret-Destination-Pa55';

beforeAll(async () => {
  // Registered before the product starts, so the metrics it creates record into this provider.
  metrics.setGlobalMeterProvider(provider);
  product = await startProduct({
    sync: { pageSize: 40, fanOut: 2 },
    logLines: (line) => logLines.push(line),
    env: { BROKEN_DESTINATION: `postgres://exporter:${DESTINATION_SECRET}@127.0.0.1:1/nowhere` },
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
    .flatMap((metric): Point[] => metric.dataPoints.map((point) => ({ attributes: point.attributes, value: point.value })));
}

describe('telemetry and secrets over a full local run', () => {
  it('records rows applied per profile, table and operation, and the end-to-end latency histogram', async () => {
    const p = product as ProductUnderTest;
    expect((await call('PUT', 'profiles/observed', sampleProfile(p, { tables: ['account'], relationships: [] }))).status).toBe(201);
    expect((await call('POST', 'profiles/observed/activate')).status).toBe(202);
    await waitFor('account in delta phase', async () => {
      const status = (await call('GET', 'profiles/observed/status')).body as { tables: Array<{ phase: string }> };
      return status.tables.every((table) => table.phase === 'delta') ? true : undefined;
    }, 60_000);
    const counts = sampleCounts(60);
    const workload = createWorkload({ baseUrl: p.emulator.baseUrl, token: EMULATOR_TOKEN, seed: 9, sampleSeed: 3, rows: { account: counts.account }, mix: { create: 1, update: 3, delete: 1, recreate: 0 } });
    const operations = [];
    for (let i = 0; i < 40; i++) operations.push(await workload.step());
    expect(operations.some((operation) => operation.kind === 'delete')).toBe(true);
    await waitForConvergence(p, 'observed', ['account'], 60_000);

    // The applier records its metrics just after the destination commit: wait for the last batch's figures.
    const isAccountUpserts = (point: Point) => point.attributes.profile === 'observed' && point.attributes.table === 'account' && point.attributes.operation === 'upsert';
    const exported = await waitFor('the applied changes in the metrics', async () => {
      exporter.reset();
      await reader.forceFlush();
      const metricsNow = exporter.getMetrics();
      const upserts = dataPoints(metricsNow, metricNames.rowsApplied).filter(isAccountUpserts);
      const deleted = dataPoints(metricsNow, metricNames.rowsApplied).filter((point) => point.attributes.operation === 'delete');
      // The initial copy (60 accounts) plus the changes the workload made, and its deletes.
      const complete = upserts.length === 1 && Number(upserts[0]?.value) > counts.account && Number(deleted[0]?.value ?? 0) > 0;
      return complete ? metricsNow : undefined;
    }, 15_000);
    const applied = dataPoints(exported, metricNames.rowsApplied);
    expect(applied.find((point) => point.attributes.operation === 'delete')?.attributes).toEqual({ profile: 'observed', table: 'account', operation: 'delete' });
    const latency = dataPoints(exported, metricNames.e2eLatency).filter((point) => point.attributes.table === 'account');
    expect(latency).toHaveLength(1);
    const histogram = latency[0]?.value as { count: number; sum: number };
    expect(histogram.count).toBeGreaterThan(0);
    expect(histogram.sum).toBeGreaterThanOrEqual(0);
    expect(dataPoints(exported, metricNames.queueLag).length).toBeGreaterThan(0);
    expect(dataPoints(exported, metricNames.pollDuration).some((point) => point.attributes.profile === 'observed')).toBe(true);
  });

  it('never writes a secret to a log line, an API response or a stored failure file', async () => {
    const p = product as ProductUnderTest;
    // A profile whose destination password is a secret: activation fails to connect, and says so without it.
    const put = await call('PUT', 'profiles/leaky', sampleProfile(p, {
      tables: ['account'], relationships: [],
      destination: { kind: 'sql', dialect: 'postgres', connection: { appSetting: 'BROKEN_DESTINATION' } },
    }));
    expect(put.status).toBe(201);
    const activation = await call('POST', 'profiles/leaky/activate');
    expect(activation.status).toBeGreaterThanOrEqual(400);
    await call('GET', 'profiles/leaky');
    await call('GET', 'profiles/leaky/status');
    await call('GET', 'profiles/observed/failures');

    const stored: string[] = [];
    const container = p.deps.storage.blobs.getContainerClient(STATE_CONTAINER);
    for await (const blob of container.listBlobsFlat()) {
      stored.push((await container.getBlobClient(blob.name).downloadToBuffer()).toString('utf8'));
    }
    const everything = [...logLines, ...responses, ...stored].join('\n');
    expect(logLines.some((line) => line.includes('applied batch'))).toBe(true);
    // The initial sync's pages with what each stage cost (60 accounts in pages of 40).
    expect(logLines.filter((line) => /copied page profile="observed" table="account" page=\d rows=\d+ readMs=\d+ applyMs=\d+$/.test(line))).toHaveLength(2);
    expect(logLines.some((line) => line.includes('Could not connect to the postgres destination'))).toBe(true);
    expect(everything).not.toContain(EMULATOR_TOKEN);
    expect(everything).not.toContain(DESTINATION_SECRET);
  });
});
