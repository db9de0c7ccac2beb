/** fast-check arbitraries the fuzzing properties share: hostile strings, and Dataverse pages good and bad. */
import fc from 'fast-check';
import { jsonText } from '../../shared/state/json-text';

/** Strings that have broken parsers, paths, SQL and shells before. */
export const injection = fc.constantFrom(
  "'; DROP TABLE account;--",
  "x') OR 1=1 --",
  '../../etc/passwd',
  '..\\..\\windows',
  '%2e%2e%2f',
  '%E0%A4%A',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  'a\u0000b',
  '\r\nSet-Cookie: x=1',
  'ü'.repeat(300),
  '🦀'.repeat(50),
  '[dbo].[x]',
  '"quoted"',
  ' ',
  '',
);

/** Long enough to hit every length limit, small enough to keep runs fast. */
export const hugeString = fc.integer({ min: 5_000, max: 200_000 }).map((length) => 'x'.repeat(length));
/** Longer than any name or key may be, yet short enough for a URL (servers refuse request lines over ~8–16 KB). */
const longString = fc.integer({ min: 200, max: 4_000 }).map((length) => 'a'.repeat(length));

/** Any string a person or a proxy could send: text of every unicode kind, hostile strings, and long ones. */
export const anyText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  injection,
  longString,
);

export interface RowItem {
  '@odata.etag': string;
  accountid: string;
  [column: string]: unknown;
}
export interface DeletedItem {
  '@odata.context': string;
  id: string;
  reason: 'deleted' | 'changed';
}
export type PageItem = RowItem | DeletedItem;
export interface PageBody {
  '@odata.context': string;
  value: PageItem[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

const version = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });

/** A well-formed account page of the given org: rows with any column values, deletes, and a next or delta link. */
export function pageBody(baseUrl: () => string, options: { minRows?: number } = {}): fc.Arbitrary<PageBody> {
  const row: fc.Arbitrary<PageItem> = fc
    .record({
      version,
      id: fc.uuid(),
      name: fc.oneof(anyText, hugeString, fc.constant(null)),
      revenue: fc.oneof(fc.double(), fc.integer(), fc.constant(null)),
      extra: fc.dictionary(
        fc.string({ maxLength: 10 }).filter((key) => !key.startsWith('@') && key !== 'accountid'),
        fc.jsonValue(),
        { maxKeys: 3 },
      ),
    })
    .map(({ version: v, id, name, revenue, extra }) => ({
      ...extra,
      '@odata.etag': `W/"${v}"`,
      accountid: id,
      name,
      revenue,
    }));
  const deleted: fc.Arbitrary<PageItem> = fc
    .record({ id: fc.uuid(), reason: fc.constantFrom('deleted' as const, 'changed' as const) })
    .map(({ id, reason }) => ({ '@odata.context': `${baseUrl()}$metadata#accounts/$deletedEntity`, id, reason }));
  return fc
    .record({
      value: fc.array(fc.oneof({ weight: 4, arbitrary: row }, { weight: 1, arbitrary: deleted }), {
        minLength: options.minRows ?? 0,
        maxLength: 6,
      }),
      last: fc.boolean(),
      token: fc.tuple(version, fc.nat(10_000)),
    })
    .map(({ value, last, token: [watermark, skip] }) => ({
      '@odata.context': `${baseUrl()}$metadata#accounts`,
      value,
      ...(last
        ? { '@odata.deltaLink': `${baseUrl()}accounts?$deltatoken=${watermark}%2111%2f22%2f2026%2001%3a00%3a00` }
        : { '@odata.nextLink': `${baseUrl()}accounts?$skiptoken=${skip}` }),
    }));
}

/** `@odata.etag` values that carry no usable version; undefined means the property is missing. */
export const badVersionEtag = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    'W/"-1"',
    'W/"1e5"',
    'W/"1.5"',
    'W/""',
    '"915244"',
    'W/915244',
    'W/"99999999999999999999"',
    `W/"${'9'.repeat(400)}"`,
    'W/"0x10"',
  ),
  fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })),
  anyText,
);

/** Primary keys that are not GUIDs; undefined means the property is missing. */
export const badGuid = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    '60c4e274-0d87-e711-80e5-00155db19e6',
    '{60c4e274-0d87-e711-80e5-00155db19e6d}',
    '60c4e2740d87e71180e500155db19e6d',
    'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
    'pk2',
  ),
  fc.uuid().map((id) => `${id}/../x`),
  fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 })),
  anyText,
);

/** Links that must not be persisted or followed: not URLs, relative, or another host (which would receive the token). */
export const badLink = fc.oneof(
  fc.constantFrom(
    'http://[',
    'https://',
    'accounts?$skiptoken=1',
    '/api/data/v9.2/accounts',
    'javascript:alert(1)',
    'file:///etc/passwd',
    'https://evil.example/api/data/v9.2/accounts?$skiptoken=1',
  ),
  fc.webUrl(),
  anyText,
);

/** Page bodies that are not JSON: truncated pages, HTML error pages, any text, nothing. */
export const notJsonText = (baseUrl: () => string): fc.Arbitrary<string> =>
  fc.oneof(
    pageBody(baseUrl).chain((body) => {
      const text = JSON.stringify(body);
      return fc.integer({ min: 0, max: text.length - 1 }).map((length) => text.slice(0, length));
    }),
    fc.constant(
      '<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>The service is unavailable.</h1></body></html>',
    ),
    fc.string({ unit: 'grapheme' }).filter((text) => !jsonText.safeParse(text).success),
    fc.constant(''),
  );

/** JSON that is not a page, and what the refusal must name. */
export const wrongShapePage: fc.Arbitrary<{ body: unknown; names: RegExp }> = fc.oneof(
  fc
    .jsonValue()
    .filter((value) => typeof value !== 'object' || value === null || Array.isArray(value))
    .map((value) => ({ body: value, names: /expected object/ })),
  fc
    .record({
      value: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.dictionary(fc.string(), fc.jsonValue())),
    })
    .map((body) => ({ body, names: /value/ })),
  fc
    .array(fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.jsonValue())), {
      minLength: 1,
      maxLength: 3,
    })
    .map((value) => ({ body: { value }, names: /value\[\d+\]|value\.\d+/ })),
  fc
    .record({
      value: fc.constant([]),
      '@odata.nextLink': fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string())),
    })
    .map((body) => ({ body, names: /@odata\.nextLink/ })),
  fc
    .record({
      value: fc.constant([]),
      '@odata.deltaLink': fc.oneof(
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.dictionary(fc.string(), fc.string()),
      ),
    })
    .map((body) => ({ body, names: /@odata\.deltaLink/ })),
);

/** A good page but for one item: no or a bad version, no or a bad GUID, or a broken $deletedEntity; and what the refusal must name. */
export const damagedPage = (
  baseUrl: () => string,
): fc.Arbitrary<{ body: PageBody; index: number; names: RegExp | string }> =>
  fc
    .tuple(
      pageBody(baseUrl, { minRows: 1 }),
      fc.nat(),
      fc.constantFrom('etag', 'id', 'deleted'),
      badVersionEtag,
      badGuid,
    )
    .map(([body, at, damage, etag, id]) => {
      const index = at % body.value.length;
      const value: Array<Record<string, unknown>> = body.value.map((item) => ({ ...item }));
      const item = value[index] as Record<string, unknown>;
      if (damage === 'deleted') {
        value[index] = {
          '@odata.context': `${baseUrl()}$metadata#accounts/$deletedEntity`,
          ...(id === undefined ? {} : { id }),
          reason: 'deleted',
        };
      } else if (damage === 'etag') {
        const { '@odata.context': _context, '@odata.etag': _etag, id: deletedId, ...row } = item;
        value[index] = {
          ...row,
          accountid: row.accountid ?? deletedId,
          ...(etag === undefined ? {} : { '@odata.etag': etag }),
        };
      } else {
        const { '@odata.context': _context, accountid: _id, id: _deletedId, ...row } = item;
        value[index] = { ...row, '@odata.etag': 'W/"7"', ...(id === undefined ? {} : { accountid: id }) };
      }
      const names = damage === 'etag' ? '@odata.etag' : damage === 'deleted' ? /\$deletedEntity[\s\S]*id/ : 'accountid';
      return { body: { ...body, value: value as unknown as PageItem[] }, index, names };
    });

/** A good page whose nextLink or deltaLink is a bad link, and which field that is. */
export const badLinkPage = (baseUrl: () => string): fc.Arbitrary<{ body: unknown; field: string }> =>
  fc.tuple(pageBody(baseUrl), badLink, fc.boolean()).map(([body, link, asNext]) => {
    const { '@odata.nextLink': _next, '@odata.deltaLink': _delta, ...rest } = body;
    const field = asNext ? '@odata.nextLink' : '@odata.deltaLink';
    return { body: { ...rest, [field]: link }, field };
  });

/** Any page a broken server, proxy or gateway could answer 200 with; none of it may be written anywhere. */
export const malformedPageAnswer = (baseUrl: () => string): fc.Arbitrary<{ contentType: string; body: string }> =>
  fc.oneof(
    notJsonText(baseUrl).map((body) => ({ contentType: 'text/html', body })),
    wrongShapePage.map(({ body }) => ({ contentType: 'application/json', body: JSON.stringify(body) })),
    damagedPage(baseUrl).map(({ body }) => ({ contentType: 'application/json', body: JSON.stringify(body) })),
    badLinkPage(baseUrl).map(({ body }) => ({ contentType: 'application/json', body: JSON.stringify(body) })),
  );
