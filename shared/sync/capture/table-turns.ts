/**
 * Turns to write a table, one at a time within this process, for the partitions of its initial sync: a partition
 * parses its held rows only once its turn has come (held-bytes.ts says why rows wait as bytes).
 *
 * This costs no parallelism: every destination already writes a table's batches one after another (SQL: a
 * transaction-scoped lock per table, `lockTable` in shared/destinations/sql/*-dialect.ts; the lake: the table's
 * blob lease, shared/destinations/lake/table-lock.ts). Without turns, partitions parsed their rows and then waited
 * for that lock inside the destination, each holding a chunk of row objects long enough for V8 to promote them.
 * Process-local by nature: hosts scaled out still meet at the destination's lock.
 */
import { Mutex } from 'async-mutex';

const turns = new Map<string, { mutex: Mutex; waiting: number }>();

/** Runs `work` when no other work of the same `table` key runs in this process; in arrival order. */
export async function inTableTurn<T>(table: string, work: () => Promise<T>): Promise<T> {
  let turn = turns.get(table);
  if (!turn) {
    turn = { mutex: new Mutex(), waiting: 0 };
    turns.set(table, turn);
  }
  turn.waiting++;
  try {
    return await turn.mutex.runExclusive(work);
  } finally {
    turn.waiting--;
    if (turn.waiting === 0) turns.delete(table);
  }
}
