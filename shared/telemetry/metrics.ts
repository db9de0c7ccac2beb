/**
 * The product's metrics. Names and attributes are the contract with the Application Insights workbook and
 * alert rules in infra/ (they query `customMetrics` by these names), so they live in one place.
 */
import { metrics, type Meter } from '@opentelemetry/api';

export const metricNames = {
  rowsApplied: 'dvexport.rows.applied',
  recordsFailed: 'dvexport.records.failed',
  throttled: 'dvexport.dataverse.throttled',
  e2eLatency: 'dvexport.e2e.latency',
  pollDuration: 'dvexport.poll.duration',
  queueLag: 'dvexport.queue.lag',
  deadLetters: 'dvexport.deadletter.count',
} as const;

export type ApplyOperation = 'upsert' | 'delete' | 'skipped';

export interface ExportMetrics {
  rowsApplied(profile: string, table: string, operation: ApplyOperation, rows: number): void;
  recordsFailed(profile: string, table: string, records: number): void;
  throttled(profile: string): void;
  /** Destination commit time minus the source row's `modifiedon`. */
  endToEndLatency(profile: string, table: string, milliseconds: number): void;
  pollDuration(profile: string, milliseconds: number): void;
  /** Apply time minus the time the poller read the change. */
  queueLag(profile: string, table: string, milliseconds: number): void;
  deadLettered(messages: number): void;
}

/** What each instrument measures and in which unit, by metric name (what the workbook shows beside it). */
const instruments = {
  rowsApplied: { description: 'Rows written to a destination', unit: '{row}' },
  recordsFailed: { description: 'Records put in the failed-records store', unit: '{record}' },
  throttled: { description: 'Dataverse 429 answers', unit: '{response}' },
  e2eLatency: { description: 'Source modifiedon to destination commit', unit: 'ms' },
  pollDuration: { description: 'Duration of one change poll', unit: 'ms' },
  queueLag: { description: 'Change read to change applied', unit: 'ms' },
  deadLetters: { description: 'Messages dead-lettered by the queue', unit: '{message}' },
} satisfies Record<keyof typeof metricNames, { description: string; unit: string }>;

export function createExportMetrics(meter: Meter = metrics.getMeter('dataverse-export')): ExportMetrics {
  const counter = (name: keyof typeof metricNames) => meter.createCounter(metricNames[name], instruments[name]);
  const histogram = (name: keyof typeof metricNames) => meter.createHistogram(metricNames[name], instruments[name]);
  const rowsApplied = counter('rowsApplied');
  const recordsFailed = counter('recordsFailed');
  const throttled = counter('throttled');
  const latency = histogram('e2eLatency');
  const poll = histogram('pollDuration');
  const lag = histogram('queueLag');
  const deadLetters = counter('deadLetters');
  return {
    rowsApplied: (profile, table, operation, rows) => rows > 0 && rowsApplied.add(rows, { profile, table, operation }),
    recordsFailed: (profile, table, records) => records > 0 && recordsFailed.add(records, { profile, table }),
    throttled: (profile) => throttled.add(1, { profile }),
    endToEndLatency: (profile, table, milliseconds) => latency.record(Math.max(0, milliseconds), { profile, table }),
    pollDuration: (profile, milliseconds) => poll.record(milliseconds, { profile }),
    queueLag: (profile, table, milliseconds) => lag.record(Math.max(0, milliseconds), { profile, table }),
    deadLettered: (messages) => messages > 0 && deadLetters.add(messages),
  };
}
