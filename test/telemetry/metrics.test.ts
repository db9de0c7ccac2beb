import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createExportMetrics, metricNames } from '../../shared/telemetry/metrics';

let provider: MeterProvider | undefined;
afterEach(async () => provider?.shutdown());

async function collect(record: (metrics: ReturnType<typeof createExportMetrics>) => void): Promise<ResourceMetrics[]> {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  provider = new MeterProvider({ readers: [reader] });
  record(createExportMetrics(provider.getMeter('test')));
  await reader.forceFlush();
  return exporter.getMetrics();
}

const find = (resourceMetrics: ResourceMetrics[], name: string) =>
  resourceMetrics
    .flatMap((r) => r.scopeMetrics)
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === name);

describe('export metrics', () => {
  it('records counters and histograms under the names and attributes the workbook and alerts query', async () => {
    const exported = await collect((metrics) => {
      metrics.rowsApplied('sales', 'account', 'upsert', 3);
      metrics.rowsApplied('sales', 'account', 'upsert', 2);
      metrics.rowsApplied('sales', 'account', 'delete', 0);
      metrics.recordsFailed('sales', 'contact', 1);
      metrics.throttled('sales');
      metrics.endToEndLatency('sales', 'account', 1200);
      metrics.queueLag('sales', 'account', 300);
      metrics.pollDuration('sales', 45);
      metrics.deadLettered(2);
    });
    const applied = find(exported, metricNames.rowsApplied);
    expect(applied?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ profile: 'sales', table: 'account', operation: 'upsert' }, 5],
    ]);
    expect(find(exported, metricNames.recordsFailed)?.dataPoints[0]?.attributes).toEqual({
      profile: 'sales',
      table: 'contact',
    });
    expect(find(exported, metricNames.throttled)?.dataPoints[0]?.value).toBe(1);
    const latency = find(exported, metricNames.e2eLatency)?.dataPoints[0];
    expect(latency?.attributes).toEqual({ profile: 'sales', table: 'account' });
    expect(latency?.value).toMatchObject({ count: 1, sum: 1200 });
    expect(find(exported, metricNames.queueLag)?.dataPoints[0]?.value).toMatchObject({ count: 1, sum: 300 });
    expect(find(exported, metricNames.pollDuration)?.dataPoints[0]?.attributes).toEqual({ profile: 'sales' });
    expect(find(exported, metricNames.deadLetters)?.dataPoints[0]?.value).toBe(2);
  });

  it('uses exactly the metric names the infrastructure workbook charts', async () => {
    const { readFileSync } = await import('node:fs');
    const path = await import('node:path');
    const workbook = readFileSync(path.join(__dirname, '../../infra/monitoring/workbook.json'), 'utf8');
    for (const name of Object.values(metricNames)) expect(workbook).toContain(name);
  });
});
