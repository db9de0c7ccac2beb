/** Everything the sync operations use, built once per host from the settings: real adapters behind small ports. */
import { z } from 'zod';
import { DEFAULT_INITIAL_SYNC_READ_STREAMS, type Settings } from '../../config/settings';
import type { ManyToManyRelationship, TableMetadata } from '../../dataverse/metadata';
import { manyToManyRelationshipSchema, tableMetadataSchema } from '../../dataverse/metadata-schema';
import { exportProfileSchema, type ExportProfile } from '../../profile/profile';
import type { ChangeQueue } from '../../queue/change-queue';
import { createChangeBatchReader, createChangeQueue } from '../../queue/create';
import type { ChangeBatchReader } from '../../queue/messages';
import { createTableCheckpointStore, type CheckpointStore } from '../../state/checkpoints';
import { createBlobDocumentStore, type DocumentStore } from '../../state/document-store';
import { createBlobFailedRecordStore, type FailedRecordStore } from '../../state/failed-records';
import { createBlobPollLeases, type PollLeases } from '../../state/poll-leases';
import { createTableStatusStore, type TableStatusStore } from '../../state/table-status';
import {
  createBlobUnprocessableMessageStore,
  type UnprocessableMessageStore,
} from '../../state/unprocessable-messages';
import type { StorageClients } from '../../storage/clients';
import { createExportMetrics, type ExportMetrics } from '../../telemetry/metrics';
import { partitionDocumentSchema, type PartitionDocuments } from '../capture/partition-documents';
import { createProfileRuntimes, defaultCredential, type ProfileRuntimes } from './runtime';
import { createSecretResolver } from './secrets';

/** The metadata read at activation: what the applier maps rows with, without asking Dataverse per batch. */
export const metadataSnapshotSchema = z.object({
  tables: z.array(tableMetadataSchema),
  relationships: z.array(manyToManyRelationshipSchema),
  readAt: z.iso.datetime(),
  /** Attributes added while in delta whose values old rows still lack (shared/sync/admin/schema-refresh.ts). */
  backfills: z
    .array(z.object({ table: z.string(), attributes: z.array(z.string()), passesLeft: z.number().int().optional() }))
    .optional(),
});
export type MetadataSnapshot = {
  tables: TableMetadata[];
  relationships: ManyToManyRelationship[];
  readAt: string;
  backfills?: Array<{ table: string; attributes: string[]; passesLeft?: number }>;
};

export const activationSchema = z.object({
  state: z.enum(['active', 'inactive']),
  /** Every exported table, intersect tables of the profile's relationships included. */
  tables: z.array(z.string()),
  activatedAt: z.iso.datetime(),
  deactivatedAt: z.iso.datetime().optional(),
  /**
   * The source environment's organization id (WhoAmI) the checkpoints were taken from: absent in records written
   * before it was kept, and then adopted at the next poll (shared/sync/capture/source-environment.ts).
   */
  organizationId: z.string().min(1).optional(),
  /**
   * Stamped at the first activation and kept until the profile is deleted: checkpoints, queued batches and
   * initial-sync orchestrations carry it, so work of a deleted profile is told apart from a new one of the same name.
   */
  generation: z.string().min(1).max(64).optional(),
  /** When and why every table was last started over because the source became another environment. */
  rebaselined: z.object({ at: z.iso.datetime(), reason: z.string() }).optional(),
});
export type Activation = z.infer<typeof activationSchema>;

export interface SyncServices {
  profiles: DocumentStore<ExportProfile>;
  snapshots: DocumentStore<MetadataSnapshot>;
  activations: DocumentStore<Activation>;
  checkpoints: CheckpointStore;
  /** The partitioned initial sync's plans and partitions (shared/sync/capture/partition-documents.ts). */
  partitions: PartitionDocuments;
  leases: PollLeases;
  status: TableStatusStore;
  failedRecords: FailedRecordStore;
  unprocessable: UnprocessableMessageStore;
  queue: ChangeQueue;
  batches: ChangeBatchReader;
  runtimes: ProfileRuntimes;
  metrics: ExportMetrics;
  options: SyncOptions;
  now: () => Date;
}

export interface SyncOptions {
  /** Rows per Dataverse page in the initial sync (≤ 5000). */
  pageSize: number;
  /** Tables copying a page at the same time. */
  fanOut: number;
  /**
   * Streams reading one table's initial load at once: 1 reads it page after page; more reads it in partitions
   * (shared/sync/capture/partitioned-copy.ts), as many at once as Dataverse's `x-ms-dop-hint` suggests, at most this.
   * From the app setting INITIAL_SYNC_READ_STREAMS unless the caller (the local host's --read-streams) says otherwise.
   */
  readStreams: number;
}

export const defaultSyncOptions: SyncOptions = {
  pageSize: 5000,
  fanOut: 4,
  readStreams: DEFAULT_INITIAL_SYNC_READ_STREAMS,
};

export function createSyncServices(
  settings: Settings,
  storage: StorageClients,
  env: Record<string, string | undefined>,
  options: Partial<SyncOptions> = {},
): SyncServices {
  const credential = defaultCredential(env.AZURE_CLIENT_ID);
  const profiles = createBlobDocumentStore(storage, {
    folder: 'profiles',
    kind: 'export profile',
    schema: exportProfileSchema,
  });
  return {
    profiles,
    snapshots: createBlobDocumentStore(storage, {
      folder: 'metadata',
      kind: 'metadata snapshot',
      schema: metadataSnapshotSchema,
    }),
    activations: createBlobDocumentStore(storage, {
      folder: 'activations',
      kind: 'activation',
      schema: activationSchema,
    }),
    checkpoints: createTableCheckpointStore(storage),
    partitions: createBlobDocumentStore(storage, {
      folder: 'initial-sync-partitions',
      kind: 'initial-sync partition',
      schema: partitionDocumentSchema,
    }),
    leases: createBlobPollLeases(storage),
    status: createTableStatusStore(storage),
    failedRecords: createBlobFailedRecordStore(storage),
    unprocessable: createBlobUnprocessableMessageStore(storage),
    queue: createChangeQueue(settings, storage),
    batches: createChangeBatchReader(storage),
    runtimes: createProfileRuntimes({
      profiles,
      secrets: createSecretResolver(env, credential),
      credential,
      policy: settings.security,
    }),
    metrics: createExportMetrics(),
    options: { ...defaultSyncOptions, readStreams: settings.initialSyncReadStreams, ...options },
    now: () => new Date(),
  };
}
