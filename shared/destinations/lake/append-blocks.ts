/**
 * CSV records written as UTF-8 into Append Block bodies of at most MAX_APPEND_BYTES, each holding whole records
 * only. Each record is encoded into its block as it comes rather than kept as a string until the batch ends:
 * records kept for a whole batch outlive the young generation and cost the garbage collector more than encoding them.
 */
import { MAX_APPEND_BYTES } from './storage';

/** A block starts this large and doubles as records arrive, up to MAX_APPEND_BYTES. */
const FIRST_BLOCK_BYTES = 64 * 1024;
/** A UTF-16 code unit is at most 3 UTF-8 bytes. */
const MAX_UTF8_BYTES_PER_UNIT = 3;

export class AppendBlocks {
  private readonly finished: Buffer[] = [];
  private block = Buffer.allocUnsafe(0);
  private used = 0;

  /** Adds a record (at most MAX_APPEND_BYTES long: records.ts fails longer rows) to the current block, or a new one. */
  add(record: string): void {
    if (this.used + record.length * MAX_UTF8_BYTES_PER_UNIT > this.block.length) this.makeRoom(record);
    this.used += this.block.write(record, this.used, 'utf8');
  }

  /** The blocks, in record order; every byte of each was written by `add`. */
  blocks(): Buffer[] {
    return this.used > 0 ? [...this.finished, this.block.subarray(0, this.used)] : [...this.finished];
  }

  /** Grows the current block to take the record, or finishes it when the record would take it past the limit. */
  private makeRoom(record: string): void {
    const bytes = Buffer.byteLength(record, 'utf8');
    if (this.used + bytes > MAX_APPEND_BYTES && this.used > 0) {
      this.finished.push(this.block.subarray(0, this.used));
      this.block = Buffer.allocUnsafe(0);
      this.used = 0;
    }
    if (this.used + bytes <= this.block.length) return;
    let size = Math.max(this.block.length, FIRST_BLOCK_BYTES);
    while (size < this.used + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(Math.max(Math.min(size, MAX_APPEND_BYTES), this.used + bytes));
    this.block.copy(grown, 0, 0, this.used);
    this.block = grown;
  }
}

/** Records grouped into Append Block bodies of at most MAX_APPEND_BYTES, each holding whole records only. */
export function appendBlocks(records: Iterable<string>): Buffer[] {
  const blocks = new AppendBlocks();
  for (const record of records) blocks.add(record);
  return blocks.blocks();
}
