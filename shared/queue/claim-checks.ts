/**
 * Claim checks: a change batch whose body is over the transport's message size limit is written to a blob,
 * and the queue message carries only its address; the reader (messages.ts) follows it back to the batch.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { ExportError, toExportError } from '../errors';
import { changeBatchMessageId, type ChangeBatch, type ClaimCheck } from './change-batch';
import { ensureOnce } from '../storage/ensure-once';
import { hasStorageStatus } from '../storage/errors';

export const CLAIM_CHECK_CONTAINER = 'claimchecks';

/**
 * The claim check's blob is gone. Blobs are only deleted after their batch was applied, so this is almost always
 * a redelivery of an applied batch (its completion was lost): the applier can count it as done instead of
 * parking it as unprocessable.
 */
export class MissingClaimCheckError extends ExportError {}

export interface ClaimCheckStore {
  /** Writes the batch's JSON and returns the message that travels in its place. */
  put(batch: ChangeBatch, json: string): Promise<ClaimCheck>;
  /** The JSON text the claim check points at. */
  get(claimCheck: ClaimCheck): Promise<string>;
  /** Removes the blob once its batch is applied; a blob that is already gone is fine. */
  delete(claimCheck: ClaimCheck): Promise<void>;
}

/** One blob per message id, so a re-sent batch overwrites its own blob instead of leaving a second one. */
const blobNameFor = (batch: ChangeBatch): string =>
  `${batch.profile}/${batch.table}/${encodeURIComponent(changeBatchMessageId(batch))}.json`;

export function blobClaimCheckStore(container: ContainerClient): ClaimCheckStore {
  const ensureContainer = ensureOnce(() => container.createIfNotExists());
  const where = (claimCheck: ClaimCheck) => `${claimCheck.claimCheck.container}/${claimCheck.claimCheck.blobName}`;
  const blob = (claimCheck: ClaimCheck) => {
    if (claimCheck.claimCheck.container !== container.containerName) {
      throw new ExportError(
        'data',
        `claim check points at container '${claimCheck.claimCheck.container}', but claim checks live in '${container.containerName}'`,
        {
          where: where(claimCheck),
          fix: 'The message was written by another deployment or edited by hand; resend the batch from its source.',
        },
      );
    }
    return container.getBlockBlobClient(claimCheck.claimCheck.blobName);
  };

  return {
    async put(batch, json) {
      const blobName = blobNameFor(batch);
      try {
        await ensureContainer();
        await container.getBlockBlobClient(blobName).upload(json, Buffer.byteLength(json), {
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
      } catch (error) {
        throw new ExportError(
          'transient',
          `writing the claim-check blob for batch '${batch.batchId}' failed: ${toExportError(error).message}`,
          {
            cause: error,
            where: `${container.containerName}/${blobName}`,
          },
        );
      }
      const { schemaVersion, profile, table, batchId, attempt } = batch;
      return {
        schemaVersion,
        profile,
        table,
        batchId,
        attempt,
        claimCheck: { container: container.containerName, blobName },
      };
    },

    async get(claimCheck) {
      let content: Buffer;
      try {
        content = await blob(claimCheck).downloadToBuffer();
      } catch (error) {
        if (error instanceof ExportError) throw error;
        if (hasStorageStatus(error, 404)) {
          throw new MissingClaimCheckError(
            'data',
            `the claim-check blob of batch '${claimCheck.batchId}' does not exist`,
            {
              cause: error,
              where: where(claimCheck),
              fix:
                'The batch was applied already and its blob deleted (a redelivery), or the blob was removed by hand; ' +
                'resync the table if rows are missing.',
            },
          );
        }
        throw new ExportError(
          'transient',
          `reading the claim-check blob of batch '${claimCheck.batchId}' failed: ${toExportError(error).message}`,
          {
            cause: error,
            where: where(claimCheck),
          },
        );
      }
      return content.toString('utf8');
    },

    async delete(claimCheck) {
      try {
        await blob(claimCheck).deleteIfExists();
      } catch (error) {
        throw new ExportError(
          'transient',
          `deleting the claim-check blob of batch '${claimCheck.batchId}' failed: ${toExportError(error).message}`,
          {
            cause: error,
            where: where(claimCheck),
          },
        );
      }
    },
  };
}
