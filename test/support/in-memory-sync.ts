/**
 * SyncServices for unit tests of the applier and the poller: the in-memory state ports, a change queue that
 * records what was sent, claim checks in a Map behind the real batch reader, recording metrics and a clock the
 * test moves. The source and destination are real adapters (the emulator through DataverseClient, PGlite), given
 * per profile by the test.
 */
import { staticTokenSource } from '../../shared/dataverse/auth';
import { DataverseClient } from '../../shared/dataverse/client';
import { ExportError } from '../../shared/errors';
import { exportProfileSchema, validateProfile, type ExportProfileInput } from '../../shared/profile/profile';
import type { ChangeQueue, SendOptions } from '../../shared/queue/change-queue';
import { MissingClaimCheckError, type ClaimCheckStore } from '../../shared/queue/claim-checks';
import { changeBatchReader, outgoingMessage } from '../../shared/queue/messages';
import type { ChangeBatch } from '../../shared/queue/change-batch';
import type { ProfileRuntime, ProfileRuntimes } from '../../shared/sync/wiring/runtime';
import { partitionDocumentSchema } from '../../shared/sync/capture/partition-documents';
import {
  activationSchema,
  defaultSyncOptions,
  metadataSnapshotSchema,
  type SyncServices,
} from '../../shared/sync/wiring/services';
import type { ExportMetrics } from '../../shared/telemetry/metrics';
import {
  inMemoryCheckpointStore,
  inMemoryDocumentStore,
  inMemoryFailedRecords,
  inMemoryPollLeases,
  inMemoryTableStatus,
  inMemoryUnprocessableMessages,
} from './in-memory-state';

/** A clock that stands still until the test moves it. */
export function fixedClock(start = '2026-11-21T10:00:00.000Z') {
  let current = Date.parse(start);
  return {
    now: () => new Date(current),
    advance(ms: number) {
      current += ms;
    },
  };
}

export interface SentBatches {
  batches: ChangeBatch[];
  deliverAt: Date | undefined;
  /** changeBatchMessageId of each batch, as the transports send them (duplicate detection keys on it). */
  messageIds: string[];
}

/**
 * Records every send after the same validation the real transports do (outgoingMessage); no delivery, and no
 * duplicate detection: tests read the message ids. `failSends` makes the next sends fail as a lost connection would.
 */
export function recordingChangeQueue(): ChangeQueue & { sent: SentBatches[]; failSends: number } {
  const queue = {
    sent: [] as SentBatches[],
    failSends: 0,
    send(batches: readonly ChangeBatch[], options: SendOptions = {}) {
      if (queue.failSends > 0) {
        queue.failSends -= 1;
        return Promise.reject(new ExportError('transient', 'Sending to the change queue failed (connection reset)'));
      }
      const messageIds = batches.map((batch) => outgoingMessage(batch).messageId);
      queue.sent.push({ batches: structuredClone([...batches]), deliverAt: options.deliverAt, messageIds });
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  return queue;
}

/** Copies blobClaimCheckStore: a blob per message id, a missing one is MissingClaimCheckError, delete is idempotent. */
export function inMemoryClaimChecks(): ClaimCheckStore & { blobs: Map<string, string> } {
  const blobs = new Map<string, string>();
  const container = 'claimchecks';
  return {
    blobs,
    put(batch, json) {
      const blobName = `${batch.profile}/${batch.table}/${batch.batchId}.${batch.attempt}.json`;
      blobs.set(blobName, json);
      const { schemaVersion, profile, table, batchId, attempt } = batch;
      return Promise.resolve({ schemaVersion, profile, table, batchId, attempt, claimCheck: { container, blobName } });
    },
    get(claimCheck) {
      const json = blobs.get(claimCheck.claimCheck.blobName);
      if (json !== undefined) return Promise.resolve(json);
      const message = `the claim-check blob of batch '${claimCheck.batchId}' does not exist`;
      return Promise.reject(new MissingClaimCheckError('data', message, { where: claimCheck.claimCheck.blobName }));
    },
    delete(claimCheck) {
      blobs.delete(claimCheck.claimCheck.blobName);
      return Promise.resolve();
    },
  };
}

export type MetricCall = [name: keyof ExportMetrics, ...args: Array<string | number>];

export function recordingMetrics(): ExportMetrics & { calls: MetricCall[] } {
  const calls: MetricCall[] = [];
  const record =
    (name: keyof ExportMetrics) =>
    (...args: Array<string | number>) => {
      calls.push([name, ...args]);
    };
  return {
    calls,
    rowsApplied: record('rowsApplied'),
    recordsFailed: record('recordsFailed'),
    throttled: record('throttled'),
    endToEndLatency: record('endToEndLatency'),
    pollDuration: record('pollDuration'),
    queueLag: record('queueLag'),
    deadLettered: record('deadLettered'),
  };
}

/** The real runtime cache's contract: a config ExportError for a profile that does not exist. */
export function fixedRuntimes(
  profiles: SyncServices['profiles'],
  build: (name: string) => Omit<ProfileRuntime, 'profile' | 'organizationId'> & Partial<ProfileRuntime>,
): ProfileRuntimes {
  return {
    async get(name) {
      const stored = await profiles.get(name);
      if (!stored) throw new ExportError('config', `Profile '${name}' does not exist`, { where: name });
      const built = build(name);
      return { profile: stored.value, organizationId: () => built.source.organizationId(), ...built };
    },
    evict: () => Promise.resolve(),
    async sourceFor(profile) {
      return (await this.get(profile.name)).source;
    },
    closeAll: () => Promise.resolve(),
  };
}

export type InMemorySyncServices = ReturnType<typeof inMemorySyncServices>;

/** Every port in memory; `runtimes` is set by the test once it has a source and a destination. */
export function inMemorySyncServices(clock = fixedClock()) {
  const profiles = inMemoryDocumentStore('export profile', exportProfileSchema);
  const claimChecks = inMemoryClaimChecks();
  const services = {
    profiles,
    snapshots: inMemoryDocumentStore('metadata snapshot', metadataSnapshotSchema),
    activations: inMemoryDocumentStore('activation', activationSchema),
    checkpoints: inMemoryCheckpointStore(clock.now),
    partitions: inMemoryDocumentStore('initial-sync partition', partitionDocumentSchema),
    leases: inMemoryPollLeases(clock.now),
    status: inMemoryTableStatus(clock.now),
    failedRecords: inMemoryFailedRecords(),
    unprocessable: inMemoryUnprocessableMessages(),
    queue: recordingChangeQueue(),
    batches: changeBatchReader(claimChecks),
    runtimes: fixedRuntimes(profiles, () => {
      throw new ExportError('config', 'no runtime given to this test');
    }),
    metrics: recordingMetrics(),
    options: { ...defaultSyncOptions },
    now: clock.now,
  } satisfies SyncServices;
  return { ...services, claimChecks, clock };
}

/** A PGlite profile, validated as an admin's PUT would be (the runtime, not this URL, says where the source is). */
export function testProfile(name: string, overrides: Partial<ExportProfileInput> = {}) {
  const validation = validateProfile({
    name,
    source: {
      environmentUrl: 'https://contoso.crm.dynamics.com/api/data/v9.2/',
      auth: { kind: 'static-token', token: { appSetting: 'DVX_SECRET_DV_TOKEN' } },
    },
    tables: ['account'],
    destination: { kind: 'sql', dialect: 'pglite' },
    ...overrides,
  });
  if (!validation.ok) throw new Error(JSON.stringify(validation.problems));
  return validation.profile;
}

/** The Dataverse client the runtime would build for a static-token profile, pointed at the emulator. */
export const emulatorClient = (baseUrl: string, token: string): DataverseClient =>
  new DataverseClient({ baseUrl, token: staticTokenSource(token) });
