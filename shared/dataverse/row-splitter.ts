/**
 * Splits a Dataverse page body into the UTF-8 bytes of each item of its top-level `value` array while the bytes
 * arrive, and keeps the rest of the body (the envelope: links, context) with `value` emptied. Items stay bytes: the
 * reader holds them so until their chunk is handed on (held-bytes.ts says why).
 *
 * Why our own: a token-level streaming parser (@streamparser/json) took 691 ms for a 22 MB page against 92 ms
 * for `JSON.parse` of the whole page, halving the initial sync's speed. Here one pass over the bytes tracks only
 * strings and nesting depth (UTF-8 never puts an ASCII byte inside a multi-byte character, so the structural bytes
 * can be found byte by byte), and each row's text goes to `JSON.parse`. Proven against `JSON.parse` of the whole
 * body, for any JSON and any way of cutting it, by test/dataverse/row-splitter.test.ts.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/** Enough of the envelope before a `[` to hold its member's key (`"value":`, whitespace and all). */
const KEY_LOOKBACK_BYTES = 512;

const isWhitespace = (byte: number): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** A `value` item that is not a JSON object, found before any of its text is parsed. */
export class NotAnObject extends Error {
  constructor(readonly index: number) {
    super(`value[${index}] is not a JSON object`);
  }
}

/** Not fatal: invalid UTF-8 reads as U+FFFD, as `Response.text()` reads a whole page. */
const decoder = new TextDecoder('utf-8');

export class RowSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private sawRoot = false;
  /** Depth of the `value` array's items while inside it; 0 outside it. */
  private valueDepth = 0;
  private itemIndex = 0;
  /** Bytes of the current item from earlier writes. */
  private itemCarry: Uint8Array[] = [];
  private itemOpen = false;
  private envelopeParts: Uint8Array[] = [];

  /**
   * Feeds the next bytes; `onItem` gets the bytes of each `value` item completed in them, in order, as a view that
   * is only valid during the call (copy what is kept).
   */
  write(bytes: Uint8Array, onItem: (item: Uint8Array) => void): void {
    let envelopeFrom = this.valueDepth === 0 ? 0 : -1;
    let itemFrom = this.itemOpen ? 0 : -1;
    // Inside strings (most of a page) the scan jumps from one quote or backslash to the next with indexOf.
    let nextBackslash = -1;
    for (let index = 0; index < bytes.length; index++) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          continue;
        }
        if (nextBackslash < index) nextBackslash = indexOrEnd(bytes, BACKSLASH, index);
        const quote = indexOrEnd(bytes, QUOTE, index);
        if (nextBackslash < quote) {
          index = nextBackslash;
          this.escaped = true;
        } else {
          index = quote;
          if (quote < bytes.length) this.inString = false;
        }
        continue;
      }
      const byte = bytes[index] as number;
      if (this.valueDepth !== 0 && this.depth === this.valueDepth && !this.itemOpen) {
        // Between the items of `value`: only whitespace, commas, an object's start or the array's end.
        if (isWhitespace(byte) || byte === COMMA) continue;
        if (byte === CLOSE_BRACKET) {
          this.depth--;
          this.valueDepth = 0;
          envelopeFrom = index;
          continue;
        }
        if (byte !== OPEN_BRACE) throw new NotAnObject(this.itemIndex);
        this.itemOpen = true;
        itemFrom = index;
        this.depth++;
        continue;
      }
      if (byte === QUOTE) {
        this.inString = true;
        continue;
      }
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        if (this.depth === 0) this.sawRoot = true;
        this.depth++;
        if (
          byte === OPEN_BRACKET &&
          this.depth === 2 &&
          this.valueDepth === 0 &&
          this.keyBefore(bytes, envelopeFrom, index) === 'value'
        ) {
          this.envelopeParts.push(bytes.slice(envelopeFrom, index + 1));
          envelopeFrom = -1;
          this.valueDepth = 2;
        }
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        this.depth--;
        if (this.itemOpen && this.depth === this.valueDepth) {
          const item = this.itemBytes(bytes.subarray(itemFrom, index + 1));
          itemFrom = -1;
          onItem(item);
          this.itemIndex++;
        }
      } else if (this.depth === 0 && !isWhitespace(byte)) this.sawRoot = true;
    }
    if (itemFrom >= 0) this.itemCarry.push(bytes.slice(itemFrom));
    if (envelopeFrom >= 0) this.envelopeParts.push(bytes.slice(envelopeFrom));
  }

  /** Whether the body ended where a whole JSON document can end (the root closed, no string open). */
  get complete(): boolean {
    return this.sawRoot && this.depth === 0 && !this.inString;
  }

  /** The body without `value`'s items (so `"value":[]`), as text; small, whatever the page's size. */
  envelopeText(): string {
    return decoder.decode(concat(this.envelopeParts));
  }

  private itemBytes(last: Uint8Array): Uint8Array {
    const whole = this.itemCarry.length === 0 ? last : concat([...this.itemCarry, last]);
    this.itemCarry = [];
    this.itemOpen = false;
    return whole;
  }

  /** The key of the member whose `[` is at `at`: read back from the last bytes of the envelope kept so far. */
  private keyBefore(bytes: Uint8Array, from: number, at: number): string | undefined {
    const parts = [bytes.subarray(Math.max(from, 0), at)];
    let length = parts[0]?.length ?? 0;
    for (let part = this.envelopeParts.length - 1; part >= 0 && length < KEY_LOOKBACK_BYTES; part--) {
      const earlier = this.envelopeParts[part] as Uint8Array;
      parts.unshift(earlier);
      length += earlier.length;
    }
    const tail = decoder.decode(concat(parts)).slice(-KEY_LOOKBACK_BYTES);
    const match = /"((?:[^"\\]|\\.)*)"\s*:\s*$/.exec(tail);
    if (!match) return undefined;
    try {
      return JSON.parse(`"${match[1]}"`) as string;
    } catch {
      return undefined;
    }
  }
}

function indexOrEnd(bytes: Uint8Array, byte: number, from: number): number {
  const found = bytes.indexOf(byte, from);
  return found < 0 ? bytes.length : found;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const whole = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.length;
  }
  return whole;
}
