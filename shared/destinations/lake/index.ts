/**
 * Entry point of the lake destination: `openLakeDestination(config)` for a connection string (Azurite, key)
 * or an account URL with a managed identity.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import { ExportError } from '../../errors';
import { isStorageHost, STORAGE_SUFFIXES } from '../../security/hosts';
import { createCredential } from '../../storage/credentials';
import {
  defaultContainerName,
  lakeDestinationConfigSchema,
  type LakeDestinationConfig,
  type ParsedLakeDestinationConfig,
} from './config';
import { parseDestinationConfig } from '../destination';
import { createLakeDestination, type LakeDependencies, type LakeDestination } from './destination';

/**
 * The Blob endpoint of an ADLS Gen2 account named by its DFS endpoint (`<account>.dfs.<suffix>` → `<account>.blob.<suffix>`),
 * rewriting only an Azure Storage host of a known cloud: any other host (Azurite, an allow-listed one) is used as given, so the
 * storage token never goes to a host the profile rules did not check.
 */
export function blobEndpoint(accountUrl: string): string {
  const url = new URL(accountUrl);
  if (STORAGE_SUFFIXES.some((suffix) => isStorageHost(url.hostname, suffix)))
    url.hostname = url.hostname.replace('.dfs.', '.blob.');
  return url.toString().replace(/\/$/, '');
}

export type { LakeDestinationConfig } from './config';
export type * from './destination';

export interface LakeDestinationDependencies extends LakeDependencies {
  /** Identity for `accountUrl`; DefaultAzureCredential (managed identity in Azure) when absent. */
  credential?: TokenCredential;
}

function parseConfig(config: LakeDestinationConfig): ParsedLakeDestinationConfig {
  return parseDestinationConfig(lakeDestinationConfigSchema, config, 'lake');
}

export function openLakeDestination(
  config: LakeDestinationConfig,
  dependencies: LakeDestinationDependencies = {},
): LakeDestination {
  const parsed = parseConfig(config);
  const { credential, ...lakeDependencies } = dependencies;
  let service: BlobServiceClient;
  try {
    service =
      'connectionString' in parsed.connection
        ? BlobServiceClient.fromConnectionString(parsed.connection.connectionString)
        : new BlobServiceClient(
            blobEndpoint(parsed.connection.accountUrl),
            credential ?? createCredential({ kind: 'default' }),
          );
  } catch (error) {
    // The SDK's message can quote the connection string; say what is wrong without it.
    throw new ExportError('config', 'The lake connection string is not valid.', {
      cause: error,
      where: 'destination.connection',
      fix: 'Check the storage connection string.',
    });
  }
  const container =
    parsed.container ?? defaultContainerName(parsed.environmentName ?? '', parsed.organizationUniqueName ?? '');
  return createLakeDestination(
    service.getContainerClient(container),
    {
      mode: parsed.mode,
      granularity: parsed.partitionGranularity,
      incrementalIntervalMinutes: parsed.incrementalIntervalMinutes,
      snapshotIntervalMinutes: parsed.snapshotIntervalMinutes,
    },
    lakeDependencies,
  );
}
