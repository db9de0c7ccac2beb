/**
 * Queue messages that cannot even be read as a change batch (bad JSON, unknown schema version, missing claim
 * check): kept as `unprocessablemessages/YYYY/MM/DD/HH/<messageId>.json` so nothing is dropped silently.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ExportError } from '../errors';
import type { StorageClients } from '../storage/clients';
import { hourFolder } from './hourly-folders';
import { stateContainer } from './state-container';
import { storageFailure } from '../storage/errors';

export const UNPROCESSABLE_ROOT = 'unprocessablemessages';
/** Enough to diagnose a broken message; a huge body (a claim-check batch read inline) would only cost storage. */
export const MAX_RAW_BODY_CHARS = 256 * 1024;

const unprocessableMessageSchema = z.object({
  messageId: z.string().min(1).max(256),
  receivedAt: z.iso.datetime(),
  reason: z.string(),
  rawBody: z.string(),
});

export type UnprocessableMessage = z.infer<typeof unprocessableMessageSchema>;

export interface StoredUnprocessableMessage extends UnprocessableMessage {
  /** Length of the body as received, in characters. */
  rawBodyChars: number;
  truncated: boolean;
}

export interface UnprocessableMessageStore {
  /** Returns the blob name it was stored under. */
  record(message: UnprocessableMessage): Promise<string>;
}

/**
 * Azure allows blob names of 1,024 characters, and a 128-character Service Bus message id of multi-byte
 * characters encodes to more; an id beyond this budget is cut and kept unique by its hash.
 */
const MAX_ENCODED_ID_CHARS = 400;

/** Message ids are chosen by senders; encoded they cannot add folders or leave the hour. */
export function unprocessableMessageFileName(messageId: string): string {
  const encoded = encodeURIComponent(messageId);
  if (encoded.length <= MAX_ENCODED_ID_CHARS) return `${encoded}.json`;
  const digest = createHash('sha256').update(messageId).digest('hex');
  // Cut before a partial %XX escape, so the name stays valid percent-encoding.
  return `${encoded.slice(0, MAX_ENCODED_ID_CHARS - digest.length - 1).replace(/%[0-9A-F]?$/, '')}-${digest}.json`;
}

export const unprocessableMessageKey = (message: Pick<UnprocessableMessage, 'messageId' | 'receivedAt'>): string =>
  `${hourFolder(UNPROCESSABLE_ROOT, new Date(message.receivedAt))}${unprocessableMessageFileName(message.messageId)}`;

export function createBlobUnprocessableMessageStore(clients: StorageClients): UnprocessableMessageStore {
  const container = stateContainer(clients);
  return {
    async record(message) {
      const parsed = unprocessableMessageSchema.safeParse(message);
      if (!parsed.success) {
        throw new ExportError('data', `An unprocessable message cannot be stored: ${z.prettifyError(parsed.error)}`, {
          where: 'unprocessable message',
        });
      }
      const { rawBody, ...rest } = parsed.data;
      const stored: StoredUnprocessableMessage = {
        ...rest,
        rawBody: rawBody.slice(0, MAX_RAW_BODY_CHARS),
        rawBodyChars: rawBody.length,
        truncated: rawBody.length > MAX_RAW_BODY_CHARS,
      };
      const key = unprocessableMessageKey(stored);
      const body = JSON.stringify(stored);
      try {
        await container.ready();
        await container.client
          .getBlockBlobClient(key)
          .upload(body, Buffer.byteLength(body), { blobHTTPHeaders: { blobContentType: 'application/json' } });
      } catch (error) {
        throw storageFailure(error, 'Storing an unprocessable message', key);
      }
      return key;
    },
  };
}
