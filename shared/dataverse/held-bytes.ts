/**
 * Rows read but not yet wanted, kept as the bytes that arrived, one record per row (or per answer), in one buffer
 * that is reused until its reader is done.
 *
 * Why bytes and not parsed rows: rows wait between their read and their apply (for the rest of their chunk, for the
 * table's turn to write), and on the JS heap whatever waits across a couple of young-generation collections is
 * promoted to the old space, where it stays until a full collection. V8 sizes the old space from how fast it fills
 * (its heap controller lets the next full collection wait until up to 4× the live heap when promotion is fast), so
 * waiting rows made the host's peak depend on how long the sync ran (docs/notes/benchmarks-initial-sync-memory.md).
 * Bytes in one reused buffer are one off-heap allocation, never garbage; rows are parsed right before their apply
 * and die young.
 */

/** A new buffer's size; it doubles as records arrive. */
const FIRST_CAPACITY = 64 * 1024;

export class HeldBytes {
  private buffer = new Uint8Array(0);
  private used = 0;
  /** Where each closed record ends. */
  private readonly ends: number[] = [];

  /** Closed records held. */
  get count(): number {
    return this.ends.length;
  }

  /** Bytes held, the open record's included. */
  get bytes(): number {
    return this.used;
  }

  /** Adds bytes to the open record (a new one after `close`); `bytes` may be reused by the caller afterwards. */
  append(bytes: Uint8Array): void {
    if (this.used + bytes.length > this.buffer.length) this.grow(this.used + bytes.length);
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
  }

  /** Ends the open record. */
  close(): void {
    this.ends.push(this.used);
  }

  /** Record `index` (closed), as a view that is valid until the records change. */
  record(index: number): Uint8Array {
    const start = index === 0 ? 0 : (this.ends[index - 1] as number);
    return this.buffer.subarray(start, this.ends[index]);
  }

  /** Forgets the first `count` closed records, keeping the rest (and the open record) and the buffer. */
  dropFirst(count: number): void {
    const dropped = Math.min(count, this.ends.length);
    if (dropped <= 0) return;
    const cut = this.ends[dropped - 1] as number;
    this.buffer.copyWithin(0, cut, this.used);
    this.used -= cut;
    this.ends.splice(0, dropped);
    for (let index = 0; index < this.ends.length; index++) this.ends[index] = (this.ends[index] as number) - cut;
  }

  /** Forgets every record; the buffer is kept for the next ones. */
  clear(): void {
    this.used = 0;
    this.ends.length = 0;
  }

  private grow(needed: number): void {
    let capacity = Math.max(this.buffer.length, FIRST_CAPACITY);
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.used));
    this.buffer = grown;
  }
}
