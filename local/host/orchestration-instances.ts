/**
 * How the local Durable driver (local/host/orchestrations.ts) keeps an orchestration instance in a table: one
 * entity per instance, its current execution's history split over as many properties as it needs, and every write
 * conditional on the ETag last seen so two hosts never both drive one instance.
 */
import type { TableClient } from '@azure/data-tables';
import { ExportError } from '../../shared/errors';
import type { OrchestrationRuntimeStatus, OrchestrationStatus } from '../../shared/orchestration/client';
import { hasStorageStatus } from '../../shared/storage/errors';
import type { HistoryEvent } from './durable-history';

/** Every instance lives in one partition of the instances table. */
export const PARTITION = 'instances';

export interface InstanceEntity {
  partitionKey: string;
  rowKey: string;
  name: string;
  input: string;
  runtimeStatus: OrchestrationRuntimeStatus;
  customStatus: string;
  output: string;
  createdTime: string;
  lastUpdatedTime: string;
  /** The driver running it; absent in instances recorded before owners existed (taken over like abandoned ones). */
  owner?: string;
  heartbeatAt?: string;
  etag?: string;
  /** The current execution's history, split over `history0`, `history1`, … (absent before the instance first ran). */
  historyChunks?: number;
  [chunk: `history${number}`]: string | undefined;
}

/** An Azure Table string property holds 64 KiB (32 K UTF-16 characters) and an entity 1 MiB: the history is split, and bounded. */
const HISTORY_CHUNK_CHARS = 30_000;
const HISTORY_MAX_CHUNKS = 15;

/** The history of an instance's current execution, in as many properties as it needs. */
export function historyProperties(events: readonly HistoryEvent[]): Record<string, string | number> {
  const text = JSON.stringify(events);
  const chunks = Math.max(1, Math.ceil(text.length / HISTORY_CHUNK_CHARS));
  if (chunks > HISTORY_MAX_CHUNKS) {
    throw new ExportError(
      'config',
      `An orchestration history of ${text.length} characters does not fit in one table entity`,
      {
        fix: 'Keep executions short: continueAsNew after each cycle, as the initial sync does.',
      },
    );
  }
  const properties: Record<string, string | number> = { historyChunks: chunks };
  for (let index = 0; index < chunks; index++)
    properties[`history${index}`] = text.slice(index * HISTORY_CHUNK_CHARS, (index + 1) * HISTORY_CHUNK_CHARS);
  return properties;
}

export function savedHistory(entity: InstanceEntity): HistoryEvent[] | undefined {
  const chunks = Number(entity.historyChunks ?? 0);
  if (chunks === 0) return undefined;
  const stored = entity as unknown as Record<string, string | undefined>;
  return JSON.parse(
    Array.from({ length: chunks }, (_, index) => stored[`history${index}`] ?? '').join(''),
  ) as HistoryEvent[];
}

/** A conditional write failed because the instance was deleted, taken over or terminated from another host. */
export const isInstanceLost = (error: unknown): boolean => hasStorageStatus(error, 404, 409, 412);

/** Writes the instance only if nobody else wrote it since this driver's last write or read; keeps the new ETag. */
export async function saveIfUnchanged(instances: TableClient, entity: InstanceEntity): Promise<void> {
  const { etag, ...stored } = entity;
  if (!etag) throw new ExportError('config', `Orchestration instance '${entity.rowKey}' has no ETag to write it under`);
  entity.etag = (await instances.updateEntity(stored, 'Replace', { etag })).etag;
}

export async function loadInstance(instances: TableClient, instanceId: string): Promise<InstanceEntity | undefined> {
  try {
    return await instances.getEntity<InstanceEntity>(PARTITION, instanceId);
  } catch (error) {
    if (hasStorageStatus(error, 404)) return undefined;
    throw error;
  }
}

export const toStatus = (entity: InstanceEntity): OrchestrationStatus => ({
  instanceId: entity.rowKey,
  name: entity.name,
  runtimeStatus: entity.runtimeStatus,
  input: JSON.parse(entity.input),
  customStatus: JSON.parse(entity.customStatus),
  output: JSON.parse(entity.output),
  createdTime: new Date(entity.createdTime),
  lastUpdatedTime: new Date(entity.lastUpdatedTime),
});
