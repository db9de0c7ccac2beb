/** Encoding COPY lines on the client while the server answers a lookup (postgres-copy.ts, postgres-replace.ts). */
import { setImmediate } from 'node:timers/promises';
import type { RowUpsert } from '../../dataverse/changes';

/** Rows encoded between looks at whether the id lookup has answered (about a millisecond of work). */
const ENCODE_SLICE = 64;

/**
 * Encodes the first lines of a batch while the server answers `pending` (the id lookup), so neither side
 * waits for the other; stops at the first slice boundary after it has answered.
 */
export async function encodeAhead(
  pending: Promise<unknown>,
  upserts: RowUpsert[],
  line: (change: RowUpsert) => string,
): Promise<string[]> {
  let answered = false;
  const settle = () => {
    answered = true;
  };
  // Also handles a rejection when encoding throws first: the caller's transaction rolls back after it.
  pending.then(settle, settle);
  const lines: string[] = [];
  while (!answered && lines.length < upserts.length) {
    const end = Math.min(lines.length + ENCODE_SLICE, upserts.length);
    for (let index = lines.length; index < end; index++) lines.push(line(upserts[index] as RowUpsert));
    // Lets the connection read the answer: a query's result is only seen between event-loop turns.
    await setImmediate();
  }
  return lines;
}
