/**
 * The streaming page reader (shared/dataverse/page-stream.ts): rows handed on in bounded chunks while the body
 * arrives, links read wherever they stand, a body that is not a page is a `schema` error, a transfer that breaks
 * off is `transient`, and the way the bytes are cut up by the network changes nothing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebApiRow } from '../../shared/dataverse/changes';
import { readPageStream, type ChunkLimits } from '../../shared/dataverse/page-stream';
import { ExportError } from '../../shared/errors';

const WHERE = '/api/data/v9.2/accounts';

afterEach(() => {
  vi.restoreAllMocks();
});

const row = (index: number): WebApiRow => ({
  '@odata.etag': `W/"${1000 + index}"`,
  accountid: `00000000-0000-0000-0000-${String(index).padStart(12, '0')}`,
  // Multi-byte characters, so a cut between bytes can fall inside one.
  name: `Café Zürich № ${index} 🚲`,
  revenue: index * 1.5,
  'revenue@OData.Community.Display.V1.FormattedValue': `€${index}`,
  address: { line1: `${index} Main St`, tags: ['a', { deep: [index] }] },
  closed: index % 2 === 0 ? null : false,
});

const rows = (count: number): WebApiRow[] => Array.from({ length: count }, (_, index) => row(index));

/** The body as the network might deliver it: cut every `size` bytes. */
async function* cut(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function read(body: AsyncIterable<Uint8Array>, limits?: ChunkLimits) {
  const chunks: WebApiRow[][] = [];
  const firsts: number[] = [];
  const page = await readPageStream(
    body,
    WHERE,
    async (chunk, first) => {
      chunks.push(chunk);
      firsts.push(first);
    },
    limits,
  );
  return { ...page, chunks, firsts };
}

async function failure(promise: Promise<unknown>): Promise<ExportError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ExportError);
  return error as ExportError;
}

const NEXT = 'https://org.example/api/data/v9.2/accounts?$skiptoken=abc';
const DELTA = 'https://org.example/api/data/v9.2/accounts?$deltatoken=919042!04%2F04%2F2026%2010%3A00%3A00';

describe('chunks', () => {
  it('hands 2,500 rows on as 1,000 + 1,000 + 500, in order, with their indexes', async () => {
    const text = JSON.stringify({ '@odata.context': 'ctx', value: rows(2_500), '@odata.nextLink': NEXT });
    const page = await read(cut(text, 16 * 1024), { maxRows: 1_000, maxBytes: 64 * 1024 * 1024 });
    expect(page.chunks.map((chunk) => chunk.length)).toEqual([1_000, 1_000, 500]);
    expect(page.firsts).toEqual([0, 1_000, 2_000]);
    expect(page.chunks.flat()).toEqual(rows(2_500));
    expect(page.rows).toBe(2_500);
  });

  it('cuts chunks by bytes too: no chunk holds much more than the byte bound', async () => {
    const all = rows(600);
    const text = JSON.stringify({ value: all, '@odata.nextLink': NEXT });
    const maxBytes = 16 * 1024;
    const networkChunk = 2 * 1024;
    const page = await read(cut(text, networkChunk), { maxRows: 1_000, maxBytes });
    expect(page.chunks.length).toBeGreaterThan(5);
    const rowBytes = Math.max(...all.map((item) => JSON.stringify(item).length));
    for (const chunk of page.chunks)
      expect(Buffer.byteLength(JSON.stringify(chunk))).toBeLessThanOrEqual(maxBytes + networkChunk + rowBytes);
    expect(page.chunks.flat()).toEqual(all);
  });

  it('parses a page cut into 1-byte and 7-byte network chunks exactly as the whole body', async () => {
    const text = JSON.stringify({ '@odata.context': 'ctx', value: rows(40), '@odata.deltaLink': DELTA });
    const whole = await read(cut(text, text.length * 4));
    for (const size of [1, 7]) {
      const split = await read(cut(text, size), { maxRows: 10, maxBytes: 1024 * 1024 });
      expect(split.chunks.flat()).toEqual(JSON.parse(text).value);
      expect(split.chunks.flat()).toEqual(whole.chunks.flat());
      expect(split.envelope).toEqual(whole.envelope);
    }
  });

  it('parses the rows of a chunk only when it hands the chunk on, not as they arrive', async () => {
    // Rows held as objects while the rest of their chunk arrives lived long enough for V8 to promote them.
    const text = JSON.stringify({ value: rows(30), '@odata.nextLink': NEXT });
    let parsedRows = 0;
    const parse = JSON.parse.bind(JSON);
    vi.spyOn(JSON, 'parse').mockImplementation((json: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
      if (typeof json === 'string' && json.startsWith('{"@odata.etag"')) parsedRows++;
      return parse(json, reviver) as unknown;
    });
    const parsedAtChunk: number[] = [];
    // The whole body in one network chunk: every row has arrived before the first chunk is handed on.
    await readPageStream(cut(text, text.length), WHERE, async () => void parsedAtChunk.push(parsedRows), {
      maxRows: 10,
      maxBytes: 1024 * 1024,
    });
    expect(parsedAtChunk).toEqual([10, 20, 30]);
  });

  it('waits for each chunk to be taken before it reads on', async () => {
    const text = JSON.stringify({ value: rows(30), '@odata.nextLink': NEXT });
    let pulled = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const bytes of cut(text, 64)) {
        pulled++;
        yield bytes;
      }
    }
    const pulledAtChunk: number[] = [];
    await readPageStream(
      counted(),
      WHERE,
      async () => {
        pulledAtChunk.push(pulled);
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
      { maxRows: 10, maxBytes: 1024 * 1024 },
    );
    expect(pulledAtChunk).toHaveLength(3);
    // Had the reader gone on while a chunk was taken, later chunks would see the body already read.
    expect(pulledAtChunk[0]).toBeLessThan(pulledAtChunk[1]!);
    expect(pulledAtChunk[1]).toBeLessThan(pulledAtChunk[2]!);
  });
});

describe('links', () => {
  it('reads nextLink after value, as Dataverse writes it', async () => {
    const text = JSON.stringify({ '@odata.context': 'ctx', value: rows(3), '@odata.nextLink': NEXT });
    expect((await read(cut(text, 100))).envelope).toEqual({ '@odata.context': 'ctx', '@odata.nextLink': NEXT });
  });

  it('reads deltaLink before value too, and ignores other top-level properties', async () => {
    const text = JSON.stringify({ '@odata.deltaLink': DELTA, '@odata.count': 3, extra: { a: [1] }, value: rows(3) });
    const page = await read(cut(text, 100));
    expect(page.envelope).toEqual({ '@odata.deltaLink': DELTA });
    expect(page.chunks.flat()).toEqual(rows(3));
  });

  it('reads an empty page', async () => {
    const page = await read(cut(JSON.stringify({ value: [], '@odata.deltaLink': DELTA }), 5));
    expect(page).toMatchObject({ rows: 0, chunks: [], envelope: { '@odata.deltaLink': DELTA } });
  });
});

describe('the end of a page', () => {
  it('shows the envelope to checkEnd before the last chunk, so a refused page of one chunk hands nothing on', async () => {
    const text = JSON.stringify({ value: rows(15), '@odata.nextLink': 'not a link' });
    const handed: number[] = [];
    const refusal = new ExportError('schema', 'refused link');
    const outcome = await readPageStream(
      cut(text, 64),
      WHERE,
      async (chunk) => void handed.push(chunk.length),
      { maxRows: 10, maxBytes: 1024 * 1024 },
      (envelope) => {
        expect(envelope['@odata.nextLink']).toBe('not a link');
        throw refusal;
      },
    ).catch((caught: unknown) => caught);
    expect(outcome).toBe(refusal);
    expect(handed).toEqual([10]);
  });
});

describe('bodies that are not pages', () => {
  it.each([
    ['not JSON', '<html>gateway</html>'],
    ['broken JSON inside value', `{"value":[${JSON.stringify(row(1))},{"a":}]}`],
    ['a row that is not an object', `{"value":[${JSON.stringify(row(1))},42]}`],
    ['value that is not an array', '{"value":{"a":1}}'],
    ['no value at all', `{"@odata.nextLink":"${NEXT}"}`],
    ['a link that is not a string', '{"value":[],"@odata.nextLink":{"href":"x"}}'],
    ['an array instead of a page', '[{"a":1}]'],
  ])('%s is a schema error naming the request', async (_case, text) => {
    const error = await failure(read(cut(text, 3)));
    expect(error.errorClass).toBe('schema');
    expect(error.where).toContain(WHERE);
  });

  it('a whole answer whose JSON stops before the page does is a schema error, as an empty one', async () => {
    const text = JSON.stringify({ value: rows(20), '@odata.nextLink': NEXT });
    for (const end of [0, text.indexOf('"value"') + 12, text.length - 30, text.length - 1]) {
      const error = await failure(read(cut(text.slice(0, end), 50)));
      expect(error.errorClass).toBe('schema');
    }
  });

  it('a connection that breaks mid-body is transient', async () => {
    const text = JSON.stringify({ value: rows(20), '@odata.nextLink': NEXT });
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode(text.slice(0, 500));
      throw new TypeError('terminated');
    }
    const error = await failure(read(broken()));
    expect(error.errorClass).toBe('transient');
    expect(error.message).toContain('terminated');
  });

  it("passes the consumer's own error on unchanged and stops reading the body", async () => {
    const text = JSON.stringify({ value: rows(50), '@odata.nextLink': NEXT });
    const own = new Error('the destination went away');
    let pulled = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const bytes of cut(text, 64)) {
        pulled++;
        yield bytes;
      }
    }
    const outcome = await readPageStream(counted(), WHERE, () => Promise.reject(own), {
      maxRows: 5,
      maxBytes: 1024 * 1024,
    }).catch((caught: unknown) => caught);
    expect(outcome).toBe(own);
    expect(pulled).toBeLessThan(Math.ceil(text.length / 64));
  });
});
