/**
 * What the change queue carries, independent of the transport: a change batch as JSON, or a claim check
 * pointing at a blob holding it. The reader turns whatever a trigger hands over back into a validated batch.
 */
import type { z } from 'zod';
import { ExportError } from '../errors';
import {
  CHANGE_BATCH_SCHEMA_VERSION,
  changeBatchMessageId,
  changeBatchSchema,
  claimCheckSchema,
  type ChangeBatch,
  type ClaimCheck,
} from './change-batch';
import type { ClaimCheckStore } from './claim-checks';

export interface OutgoingMessage {
  messageId: string;
  body: ChangeBatch | ClaimCheck;
  /** The body as sent, for size checks. */
  json: string;
}

/** Validates the batch before it leaves, so a bug in the poller fails the poll instead of parking messages later. */
export function outgoingMessage(batch: ChangeBatch): OutgoingMessage {
  const parsed = changeBatchSchema.safeParse(batch);
  if (!parsed.success) {
    throw new ExportError(
      'data',
      `change batch '${batch.batchId}' of ${batch.profile}/${batch.table} is not valid: ${describeIssues(parsed.error)}`,
      {
        where: `${batch.profile}/${batch.table}/${batch.batchId}`,
        fix: 'This is a bug in whatever built the batch; the batch was not sent.',
      },
    );
  }
  return { messageId: changeBatchMessageId(batch), body: parsed.data, json: JSON.stringify(parsed.data) };
}

/** The same message with the batch moved to a blob; the message id stays, so duplicate detection still works. */
export async function claimCheckedMessage(
  message: OutgoingMessage,
  claimChecks: ClaimCheckStore,
): Promise<OutgoingMessage> {
  const claimCheck = await claimChecks.put(message.body as ChangeBatch, message.json);
  return { messageId: message.messageId, body: claimCheck, json: JSON.stringify(claimCheck) };
}

export const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

export interface ChangeBatchReader {
  /**
   * Accepts the message as a trigger delivers it (parsed JSON, JSON text or bytes), follows a claim check,
   * and validates. Throws ExportError('data') saying what is wrong when the message can never be applied.
   */
  readChangeBatch(message: unknown): Promise<ChangeBatch>;
  /** Deletes the message's claim-check blob, if it has one; call it once the batch is applied. */
  releaseClaimCheck(message: unknown): Promise<void>;
}

export function changeBatchReader(claimChecks: ClaimCheckStore): ChangeBatchReader {
  return {
    async readChangeBatch(message) {
      const envelope = readEnvelope(message);
      if (!('claimCheck' in envelope)) return envelope;
      const batch = validate(
        changeBatchSchema,
        parseJson(await claimChecks.get(envelope), 'claim-check blob'),
        'claim-check blob',
      );
      const mismatch = (['profile', 'table', 'batchId', 'attempt'] as const).filter(
        (key) => batch[key] !== envelope[key],
      );
      if (mismatch.length > 0) {
        throw new ExportError(
          'data',
          `the claim-check blob holds a different batch than its message says (${mismatch.join(', ')} differ)`,
          {
            where: `${envelope.claimCheck.container}/${envelope.claimCheck.blobName}`,
            fix: 'The blob was overwritten or edited by hand; resync the table.',
          },
        );
      }
      return batch;
    },

    async releaseClaimCheck(message) {
      const envelope = readEnvelope(message);
      if ('claimCheck' in envelope) await claimChecks.delete(envelope);
    },
  };
}

function readEnvelope(message: unknown): ChangeBatch | ClaimCheck {
  const value =
    typeof message === 'string'
      ? parseJson(message, 'message body')
      : message instanceof Uint8Array
        ? parseJson(Buffer.from(message).toString('utf8'), 'message body')
        : message;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ExportError(
      'data',
      `change-queue message is not a JSON object but ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
      {
        where: 'message body',
        fix: 'Only the change poller should send to this queue.',
      },
    );
  }
  return 'claimCheck' in value
    ? validate(claimCheckSchema, value, 'message body')
    : validate(changeBatchSchema, value, 'message body');
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ExportError('data', `change-queue ${where} is not JSON: ${(error as Error).message}`, {
      cause: error,
      where,
      fix: 'Only the change poller should send to this queue.',
    });
  }
}

function validate<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const version =
    typeof value === 'object' && value !== null ? (value as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (typeof version === 'number' && version !== CHANGE_BATCH_SCHEMA_VERSION) {
    throw new ExportError(
      'data',
      `change-queue message has schemaVersion ${version}; this deployment reads version ${CHANGE_BATCH_SCHEMA_VERSION}`,
      {
        where: `${where}: schemaVersion`,
        fix:
          version > CHANGE_BATCH_SCHEMA_VERSION
            ? 'A newer deployment wrote it: finish deploying the new version everywhere, then replay the parked message.'
            : 'An older deployment wrote it before an upgrade: resync the table.',
      },
    );
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ExportError('data', `change-queue message is not a valid change batch: ${describeIssues(parsed.error)}`, {
      where,
      fix: 'Only the change poller should send to this queue; resync the table if its changes are missing.',
    });
  }
  return parsed.data;
}

const MAX_ISSUES_SHOWN = 5;

function describeIssues(error: z.ZodError): string {
  const shown = error.issues
    .slice(0, MAX_ISSUES_SHOWN)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  const more = error.issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; and ${more} more` : '');
}
