/**
 * Reads a Dataverse page body as it arrives: each item of `value` is cut out of the bytes (row-splitter.ts), held as
 * bytes until its chunk is complete (held-bytes.ts), then parsed on its own and handed on, so a 5,000-row page of
 * ~14 MB is never held whole, and rows are objects only while their chunk is taken. The page's links are read from the top-level
 * properties wherever they appear (Dataverse writes `@odata.nextLink`/`@odata.deltaLink` after `value`).
 * The same checks as a whole page gets (`entityPageSchema`) apply: a row that is not an object, a missing
 * `value`, a link that is not a string, a complete answer whose JSON stops short are `schema` errors; a transfer
 * that breaks off (connection dropped, timeout) is `transient`, and the page repeats.
 */
import { z } from 'zod';
import { ExportError } from '../errors';
import type { WebApiRow } from './changes';
import { HeldBytes } from './held-bytes';
import { entityPageSchema, type EntityPageBody } from './responses';
import { NotAnObject, RowSplitter } from './row-splitter';

export interface ChunkLimits {
  /** Most rows per chunk. */
  maxRows: number;
  /** Most body bytes a chunk's rows were parsed from (rows are cut at the first row boundary past it). */
  maxBytes: number;
}

/** 1,000 rows of the widest sample table are ~3 MB of JSON; 8 MB bounds a table of much wider rows. */
export const defaultChunkLimits: ChunkLimits = { maxRows: 1_000, maxBytes: 8 * 1024 * 1024 };

/** The bytes fed to the parser at once: rows of one write are collected before a chunk can be handed on. */
const PARSE_SLICE_BYTES = 64 * 1024;

/** A page without its rows: the links and context, checked by the same schema as a whole page. */
export type PageEnvelope = Omit<EntityPageBody, 'value'>;

export interface StreamedPage {
  envelope: PageEnvelope;
  rows: number;
}

const shapeFix =
  'The Web API returned a shape this client does not know; capture the response and extend shared/dataverse/responses.ts.';

/** Thrown by the consumer of a chunk: passed on as it is, never reclassified as a read failure. */
class ConsumerFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('ConsumerFailure');
  }
}

/** The envelope checked as `entityPageSchema` checks a whole page (its `value` was emptied by the splitter). */
function checkEnvelope(text: string, where: string): PageEnvelope {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ExportError('schema', `Dataverse returned a body that is not JSON for ${where}: ${String(error)}`, {
      cause: error,
      where,
    });
  }
  const parsed = entityPageSchema.safeParse(body);
  if (!parsed.success) {
    throw new ExportError(
      'schema',
      `Dataverse response for ${where} does not have the expected shape: ${z.prettifyError(parsed.error)}`,
      { where, fix: shapeFix },
    );
  }
  const { value: _rows, ...envelope } = parsed.data;
  return envelope;
}

/** Not fatal: invalid UTF-8 reads as U+FFFD, as `Response.text()` reads a whole page. */
const decoder = new TextDecoder('utf-8');

/** One `value` item's bytes as a row; the splitter already saw that it is an object. */
function parseRow(bytes: Uint8Array, index: number, where: string): WebApiRow {
  try {
    return JSON.parse(decoder.decode(bytes)) as WebApiRow;
  } catch (error) {
    throw new ExportError('schema', `Dataverse returned a row that is not JSON for ${where}: value[${index}]`, {
      cause: error,
      where: `${where} value[${index}]`,
      fix: shapeFix,
    });
  }
}

/** A failure while the body was being read: the consumer's own errors pass, a cut connection is transient. */
function readFailure(error: unknown, where: string): unknown {
  if (error instanceof ConsumerFailure) return error.cause;
  if (error instanceof ExportError) return error;
  if (error instanceof NotAnObject) {
    return new ExportError(
      'schema',
      `Dataverse response for ${where} does not have the expected shape: ${error.message}`,
      { where: `${where} value[${error.index}]`, fix: shapeFix },
    );
  }
  return new ExportError('transient', `The page body of ${where} broke off while it was read: ${String(error)}`, {
    cause: error,
    where,
  });
}

/**
 * Reads `body` as it arrives and calls `onRows` with each chunk of at most `limits` rows, in order, awaiting
 * each before reading on (so a slow consumer slows the download instead of piling rows up). `firstIndex` is
 * the index in `value` of the chunk's first row. `checkEnd` sees the envelope before the last chunk is handed on.
 * Resolves with the page's envelope once the body has ended.
 */
export async function readPageStream(
  body: AsyncIterable<Uint8Array>,
  where: string,
  onRows: (rows: WebApiRow[], firstIndex: number) => Promise<void>,
  limits: ChunkLimits = defaultChunkLimits,
  checkEnd: (envelope: PageEnvelope) => void = () => undefined,
): Promise<StreamedPage> {
  const splitter = new RowSplitter();
  const pending = new HeldBytes();
  let handed = 0;
  const onItem = (item: Uint8Array): void => {
    pending.append(item);
    pending.close();
  };
  /** The first `count` held rows, parsed now that they are handed on. */
  const parsePending = (count: number): WebApiRow[] => {
    const rows: WebApiRow[] = [];
    for (let index = 0; index < count; index++) rows.push(parseRow(pending.record(index), handed + index, where));
    pending.dropFirst(count);
    return rows;
  };
  const handOn = async (rest: boolean): Promise<void> => {
    while (pending.count >= limits.maxRows || (pending.count > 0 && (rest || pending.bytes >= limits.maxBytes))) {
      const rows = parsePending(Math.min(pending.count, limits.maxRows));
      try {
        await onRows(rows, handed);
      } catch (error) {
        throw new ConsumerFailure(error);
      }
      handed += rows.length;
    }
  };
  try {
    for await (const bytes of body) {
      for (let offset = 0; offset < bytes.length; offset += PARSE_SLICE_BYTES) {
        splitter.write(bytes.subarray(offset, offset + PARSE_SLICE_BYTES), onItem);
        await handOn(false);
      }
    }
  } catch (error) {
    throw readFailure(error, where);
  }
  // The transfer itself was complete (a connection cut short fails the read above, as transient): the server
  // sent a document that is not a whole page, which asking again will not change.
  if (!splitter.complete) {
    throw new ExportError(
      'schema',
      `Dataverse returned a body that is not JSON for ${where}: it ends before the page does`,
      {
        where,
      },
    );
  }
  const envelope = checkEnvelope(splitter.envelopeText(), where);
  // Before the last chunk: a page of up to one chunk whose links are unusable then leaves nothing behind.
  checkEnd(envelope);
  try {
    await handOn(true);
  } catch (error) {
    throw readFailure(error, where);
  }
  return { envelope, rows: handed };
}
