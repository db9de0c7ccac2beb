/**
 * Property-based Dataverse responses against the real client over HTTP: whatever a server answers — truncated,
 * wrong-typed, HTML, huge, bad versions, bad GUIDs, links that lead nowhere — the client either returns a page
 * whose every change is usable (GUID id, safe-integer version, a link to go on with) or throws an ExportError
 * of the right class that names the field; never a TypeError, never the token.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleTable } from '../../local/sample-org';
import type { ChangePage } from '../../shared/dataverse/changes';
import { DataverseClient } from '../../shared/dataverse/client';
import { ExportError, type ErrorClass } from '../../shared/errors';
import { clientFor, TOKEN } from '../dataverse/helpers';
import { startCannedDataverse, type CannedDataverse } from './dataverse-server';
import {
  anyText,
  badGuid,
  badLink,
  badLinkPage,
  badVersionEtag,
  damagedPage,
  hugeString,
  injection,
  notJsonText,
  pageBody,
  wrongShapePage,
  type PageBody,
} from './arbitraries';

const account = sampleTable('account');
let server: CannedDataverse;
let client: DataverseClient;

beforeAll(async () => {
  server = await startCannedDataverse();
  client = clientFor(server.baseUrl, { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 });
});
afterAll(() => server.close());

const jsonAnswer = (body: unknown, status = 200) => ({
  status,
  contentType: 'application/json; odata.metadata=minimal',
  body: JSON.stringify(body),
});

/** What reading one page with this body ends in: the page, or the error (anything else thrown fails the property). */
async function readPageWith(answer: {
  status: number;
  contentType: string;
  body: string;
}): Promise<ChangePage | ExportError> {
  server.answer(answer);
  try {
    return await client.readPage(account, 'accounts', { pageSize: 50 });
  } catch (error) {
    if (!(error instanceof ExportError)) throw error;
    return error;
  }
}

function expectRejected(
  outcome: ChangePage | ExportError,
  errorClass: ErrorClass,
  names: RegExp | string,
): ExportError {
  if (!(outcome instanceof ExportError))
    throw new Error(`expected a ${errorClass} error, the page was accepted: ${JSON.stringify(outcome).slice(0, 300)}`);
  expect(outcome.errorClass).toBe(errorClass);
  expect(outcome.where).toBeTruthy();
  expect(`${outcome.message} ${outcome.where ?? ''}`).toMatch(names);
  expect(JSON.stringify(outcome.toJSON())).not.toContain(TOKEN);
  return outcome;
}

/** A page the client returns must be usable as it is: nothing downstream checks these again. */
function expectUsable(page: ChangePage, body: PageBody): void {
  expect(page.changes).toHaveLength(body.value.length);
  for (const change of page.changes) {
    expect(change.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
    if (change.kind === 'upsert') expect(Number.isSafeInteger(change.versionNumber)).toBe(true);
  }
  expect(page.nextLink ?? page.deltaLink).toBeDefined();
  if (page.watermark !== undefined) expect(Number.isSafeInteger(page.watermark)).toBe(true);
}

const runs = { numRuns: 120 };

describe('fuzzed Dataverse pages', () => {
  it('returns well-formed pages, huge and unicode values included, exactly as sent', async () => {
    await fc.assert(
      fc.asyncProperty(
        pageBody(() => server.baseUrl),
        async (body) => {
          const outcome = await readPageWith(jsonAnswer(body));
          if (outcome instanceof ExportError) throw outcome;
          expectUsable(outcome, body);
          expect(outcome.changes.map((change) => change.id)).toEqual(
            body.value.map((item) => ('@odata.context' in item ? item.id : item.accountid)),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a body that is not JSON, truncated, empty or an HTML error page as a schema error', async () => {
    await fc.assert(
      fc.asyncProperty(
        notJsonText(() => server.baseUrl),
        fc.constantFrom('application/json', 'text/html', 'text/plain'),
        async (text, contentType) => {
          expectRejected(await readPageWith({ status: 200, contentType, body: text }), 'schema', /not JSON/);
        },
      ),
      runs,
    );
  });

  it('refuses JSON of the wrong shape as a schema error naming the field', async () => {
    await fc.assert(
      fc.asyncProperty(wrongShapePage, async ({ body, names }) => {
        expectRejected(await readPageWith(jsonAnswer(body)), 'schema', names);
      }),
      runs,
    );
  });

  it('refuses a page with one bad row — no or a bad version, no or a bad GUID, a broken $deletedEntity — naming the row and field', async () => {
    await fc.assert(
      fc.asyncProperty(
        damagedPage(() => server.baseUrl),
        async ({ body, index, names }) => {
          const error = expectRejected(await readPageWith(jsonAnswer(body)), 'schema', names);
          expect(error.where).toBe(`accounts page value[${index}]`);
        },
      ),
      runs,
    );
  });

  it('refuses a nextLink or deltaLink that is not a URL of this environment before anyone persists it', async () => {
    await fc.assert(
      fc.asyncProperty(
        badLinkPage(() => server.baseUrl),
        async ({ body, field }) => {
          expectRejected(await readPageWith(jsonAnswer(body)), 'schema', field);
        },
      ),
      runs,
    );
  });

  it('follows any persisted link — damaged, foreign, badly percent-encoded — to a page or an ExportError, never a TypeError or URIError', async () => {
    const link = fc.oneof(
      badLink,
      anyText.map((text) => `${server.baseUrl}accounts?$skiptoken=${text}`),
      fc.constant(`${'accounts?$skiptoken=%E0%A4%A'}`),
    );
    const answer = fc.oneof(
      pageBody(() => server.baseUrl).map((body) => jsonAnswer(body)),
      fc.record({ status: fc.constantFrom(200, 400, 404, 500), contentType: fc.constant('text/html'), body: anyText }),
    );
    await fc.assert(
      fc.asyncProperty(link, answer, async (persisted, response) => {
        server.answer(response);
        const outcome = await client.readPage(account, persisted).catch((error: unknown) => error);
        if (outcome instanceof ExportError) {
          expect(['schema', 'config', 'transient']).toContain(outcome.errorClass);
          expect(outcome.where).toBeTruthy();
        } else {
          expect(outcome).toHaveProperty('changes');
        }
      }),
      runs,
    );
  });

  it('maps any error status with any body to an ExportError class, never a crash', async () => {
    // Retryable statuses end as throttled/transient once retries run out; any other is final, and ExpiredVersionStamp in the body wins.
    // A 407 never reaches the client: fetch turns it into a network error (Fetch standard, HTTP-network-or-cache fetch).
    const classOf = (status: number): ErrorClass[] =>
      status === 429 || status === 503
        ? ['throttled']
        : [500, 502, 504, 407].includes(status)
          ? ['transient']
          : status === 410
            ? ['expired-token']
            : [401, 403].includes(status)
              ? ['config', 'expired-token']
              : ['schema', 'expired-token'];
    const errorBody = fc.oneof(
      fc
        .record({
          error: fc.record({
            code: fc.oneof(fc.constantFrom('0x80044352', '0x80040217'), fc.string()),
            message: fc.oneof(fc.string(), injection, hugeString),
          }),
        })
        .map((body) => JSON.stringify(body)),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.string({ unit: 'grapheme' }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 300, max: 599 }).filter((status) => status !== 304),
        errorBody,
        async (status, body) => {
          const outcome = await readPageWith({ status, contentType: 'application/json', body });
          if (!(outcome instanceof ExportError)) throw new Error(`status ${status} was accepted`);
          expect(classOf(status)).toContain(outcome.errorClass);
          expect(outcome.where).toBe('/api/data/v9.2/accounts');
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('fuzzed metadata and rows by id', () => {
  it('reads table metadata of any shape into a table or a schema/config ExportError, never a crash', async () => {
    const metadataBody = fc.oneof(
      fc.jsonValue(),
      fc.record({
        value: fc.array(
          fc.record(
            {
              LogicalName: fc.oneof(fc.string(), injection, fc.integer()),
              MaxLength: fc.oneof(fc.integer(), fc.string()),
              OptionSet: fc.jsonValue(),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
      }),
      fc.record(
        {
          MetadataId: badGuid,
          LogicalName: fc.oneof(fc.constant('account'), injection),
          SchemaName: fc.string(),
          EntitySetName: fc.oneof(fc.constant('accounts'), injection),
          ObjectTypeCode: fc.oneof(fc.integer(), fc.double()),
          PrimaryIdAttribute: fc.oneof(fc.constant('accountid'), injection),
          IsIntersect: fc.jsonValue(),
          ChangeTrackingEnabled: fc.boolean(),
          Attributes: fc.array(
            fc.record(
              {
                LogicalName: fc.oneof(fc.string(), injection),
                AttributeType: fc.oneof(fc.constantFrom('String', 'Money', 'Nope'), fc.integer()),
                ColumnNumber: fc.oneof(fc.integer(), fc.string()),
              },
              { requiredKeys: [] },
            ),
            { maxLength: 3 },
          ),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(metadataBody, async (body) => {
        server.answer(jsonAnswer(body));
        const outcome = await client.readTables(['account']).catch((error: unknown) => error);
        if (Array.isArray(outcome)) return; // a body that happens to describe a table is a table
        expect(outcome).toBeInstanceOf(ExportError);
        expect(['schema', 'config']).toContain((outcome as ExportError).errorClass);
        expect((outcome as ExportError).where).toBeTruthy();
      }),
      runs,
    );
  });

  it('reads rows by id of any shape into rows or a schema ExportError naming the row', async () => {
    const ids = ['60c4e274-0d87-e711-80e5-00155db19e6d'];
    const rowBody = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          '@odata.context': fc.string(),
          '@odata.etag': fc.oneof(badVersionEtag, fc.constant('W/"12"')),
          accountid: fc.oneof(badGuid, fc.constant(ids[0])),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(rowBody, async (body) => {
        server.answer(jsonAnswer(body));
        const outcome = await client.readRowsById(account, ids).catch((error: unknown) => error);
        if (outcome instanceof ExportError) {
          expect(outcome.errorClass).toBe('schema');
          expect(outcome.where).toMatch(/accounts/);
          return;
        }
        const rows = (outcome as Awaited<ReturnType<DataverseClient['readRowsById']>>).rows;
        expect(rows).toHaveLength(1);
        expect(rows[0]?.id).toBe(ids[0]);
        expect(Number.isSafeInteger(rows[0]?.versionNumber)).toBe(true);
      }),
      runs,
    );
  });
});
