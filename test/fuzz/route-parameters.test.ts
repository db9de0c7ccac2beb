/**
 * Property-based route parameters, query values and request bodies against the real local host over HTTP.
 * Every HTTP function of the function table with a parameter is driven with hostile values — unicode,
 * `../`, percent-encoding good and broken, injection strings, huge and empty — percent-encoded or sent raw.
 * Never a 5xx, never a dropped connection, never past the door without the key; a value the parameter's
 * schema refuses is a 400 naming the parameter and the reason; and no blob, table entity or queue message is
 * created or changed by any of it.
 */
import fc from 'fast-check';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { HttpFunction } from '../../functions/definition';
import type { FunctionDeps } from '../../functions/deps';
import { functionTable } from '../../functions/table';
import { consoleAssetPathSchema } from '../../shared/console/assets';
import { logicalNameSchema, profileNameSchema } from '../../shared/profile/profile';
import { failedRecordKeySchema } from '../../shared/state/failed-records';
import { sampleProfile, TEST_KEY, useProduct, type ProductUnderTest } from '../support/pipeline';
import { anyText, injection } from './arbitraries';
import { storageState } from './storage-state';

const product = useProduct();

/** Each route parameter's own rule. A new parameter without one fails here, so it cannot go unfuzzed. */
const parameterSchemas: Record<string, z.ZodType> = {
  name: profileNameSchema,
  table: logicalNameSchema,
  key: failedRecordKeySchema,
  path: consoleAssetPathSchema,
};
const validValues: Record<string, string> = {
  name: 'sales',
  table: 'account',
  key: 'failurelog/2026/01/01/00/sales/account/20260101T000000000Z-60c4e274-0d87-e711-80e5-00155db19e6d-upsert.json',
  path: 'index.html',
};

interface RouteParameter {
  definition: HttpFunction<FunctionDeps>;
  method: string;
  parameter: string;
}

const parametersOf = (route: string): string[] =>
  [...route.matchAll(/\{\*?([A-Za-z_]\w*)[^}]*\}/g)].map((match) => match[1] as string);
const httpFunctions = functionTable.filter(
  (definition): definition is HttpFunction<FunctionDeps> => definition.kind === 'http',
);
const routeParameters: RouteParameter[] = httpFunctions.flatMap((definition) =>
  definition.methods.flatMap((method) =>
    parametersOf(definition.route).map((parameter) => ({ definition, method, parameter })),
  ),
);

/** The path with `value` (already encoded as it goes on the wire) in place of `parameter`, valid values elsewhere. */
const pathWith = (route: string, parameter: string, value: string): string =>
  `/api/${route.replace(/\{(\*?)([A-Za-z_]\w*)[^}]*\}/g, (_match, star: string, name: string) => (name === parameter ? value : star ? (validValues[name] ?? '') : encodeURIComponent(validValues[name] ?? '')))}`;

interface Answer {
  status: number;
  text: string;
}

/** A request with the path exactly as given (fetch would resolve `..` segments before sending them). */
function send(
  host: ProductUnderTest['host'],
  method: string,
  path: string,
  body?: string,
  key: string | null = TEST_KEY,
): Promise<Answer> {
  return sendWith(host, method, path, body, key === null ? {} : { 'x-functions-key': key });
}

function sendWith(
  host: ProductUnderTest['host'],
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port: host.port, method, path, headers: { 'content-type': 'application/json', ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

interface Problem {
  field: string;
  reason: string;
}
const problemsIn = (answer: Answer): Problem[] =>
  (JSON.parse(answer.text) as { error?: { problems?: Problem[] } }).error?.problems ?? [];

/** Checks the property over `numRuns` runs, and that none of them changed anything in storage. */
async function assertWritingNothing<Ts extends unknown[]>(
  p: ProductUnderTest,
  property: fc.IAsyncProperty<Ts>,
  numRuns: number,
): Promise<void> {
  const before = await storageState(p.deps.storage);
  await fc.assert(property, { numRuns });
  expect(await storageState(p.deps.storage)).toEqual(before);
}

const encodable = (value: string): boolean => {
  try {
    encodeURIComponent(value);
    return true;
  } catch {
    return false;
  }
};

/** What goes on the wire for one value: percent-encoded (the parameter receives it exactly), or raw where HTTP allows. */
const wireValue = fc.oneof(
  fc
    .oneof(anyText, fc.constantFrom('..', '.', 'sales/../../x', 'a/b'))
    .filter((value) => value !== '' && encodable(value))
    // A whole segment of . or .. is a dot segment: URL parsers (and so the Functions host) resolve it away.
    .map((value) => ({ value, wire: encodeURIComponent(value), exact: value !== '.' && value !== '..' })),
  fc
    .oneof(
      injection,
      fc.constantFrom(
        '..',
        '%',
        '%zz',
        '%E0%A4%A',
        '%2e%2e%2f%2e%2e',
        '..%2f..%2fsecrets',
        '%00',
        'a%2Fb',
        '?x=1',
        '#frag',
        '~user',
        'sales;drop',
      ),
      fc.string({ maxLength: 30 }),
    )
    .filter((value) => /^[\x21-\x7e]+$/.test(value))
    .map((value) => ({ value, wire: value, exact: false })),
);

describe('fuzzed route parameters over HTTP', () => {
  it('covers every parameter of every HTTP function with a rule', () => {
    expect(routeParameters.length).toBeGreaterThanOrEqual(12);
    for (const { definition, parameter } of routeParameters)
      expect(parameterSchemas[parameter], `${definition.name}: {${parameter}}`).toBeDefined();
  });

  it('answers any parameter value without a 5xx, refuses bad values naming the parameter, and writes nothing', async () => {
    const p = product();
    // A stored profile, so valid names reach the handlers' real work instead of stopping at "not found".
    expect((await p.call('PUT', 'profiles/sales', sampleProfile(p))).status).toBe(201);
    await assertWritingNothing(
      p,
      fc.asyncProperty(
        fc.constantFrom(...routeParameters),
        wireValue,
        async ({ definition, method, parameter }, { value, wire, exact }) => {
          const path = pathWith(definition.route, parameter, wire);
          // Without the key no value gets past the door, whatever it does to routing (the console's files are
          // anonymous and hold no data: test/console/assets.test.ts).
          if (definition.authLevel !== 'anonymous')
            expect([401, 404]).toContain((await send(p.host, method, path, undefined, null)).status);
          const answer = await send(p.host, method, path);
          const context = `${method} ${definition.route} with {${parameter}} = ${JSON.stringify(value.slice(0, 80))}: ${answer.status} ${answer.text.slice(0, 300)}`;
          expect(answer.status, context).toBeLessThan(500);
          expect(answer.status, context).not.toBe(0);
          const refused = exact && !(parameterSchemas[parameter] as z.ZodType).safeParse(value).success;
          if (refused && answer.status === 400) {
            expect(problemsIn(answer), context).toContainEqual({
              field: parameter,
              reason: expect.stringMatching(/.{10,}/),
            });
          } else if (refused) {
            // Only a value that changes which route matches may end elsewhere, and then as "no such function".
            expect(answer.status, context).toBe(404);
          }
        },
      ),
      250,
    );
  });

  it('refuses an If-Match that is not one ETag with a 400 naming it, answers a wrong one with 412, and writes nothing', async () => {
    const p = product();
    const body = JSON.stringify(sampleProfile(p));
    const ifMatch = fc
      .oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom('"a", "b"', ' , ', 'W/', '"unterminated', 'W/"1", *', '*, "x"', '"x"', 'W/"x"'),
        injection,
      )
      .filter((value) => /^[\x20-\x7e]*$/.test(value) && value.trim() !== '' && value.trim() !== '*');
    await assertWritingNothing(
      p,
      fc.asyncProperty(ifMatch, fc.constantFrom('PUT', 'DELETE'), async (value, method) => {
        const answer = await sendWith(p.host, method, '/api/profiles/sales', method === 'PUT' ? body : undefined, {
          'x-functions-key': TEST_KEY,
          'if-match': value,
        });
        const context = `${method} If-Match: ${value}: ${answer.status} ${answer.text.slice(0, 300)}`;
        expect([400, 412], context).toContain(answer.status);
        if (answer.status === 400)
          expect(problemsIn(answer), context).toEqual([{ field: 'If-Match', reason: expect.stringContaining('ETag') }]);
      }),
      60,
    );
  });

  it('refuses bad failure-listing query values naming the query field, and writes nothing', async () => {
    const p = product();
    const query = fc.record(
      {
        table: fc.oneof(anyText, fc.constant('account')),
        pageSize: fc.oneof(
          fc.integer().map(String),
          anyText,
          fc.constantFrom('1e3', '0x10', '-1', '1.5', 'NaN', 'Infinity'),
        ),
        after: fc.oneof(anyText, fc.constant(validValues.key as string)),
      },
      { requiredKeys: [] },
    );
    await assertWritingNothing(
      p,
      fc.asyncProperty(query, async (values) => {
        const search = new URLSearchParams(Object.entries(values).filter(([, value]) => encodable(value))).toString();
        const answer = await send(p.host, 'GET', `/api/profiles/sales/failures?${search}`);
        const context = `?${search.slice(0, 300)}: ${answer.status} ${answer.text.slice(0, 300)}`;
        expect([200, 400], context).toContain(answer.status);
        if (answer.status === 400) {
          const fields = problemsIn(answer).map((problem) => problem.field);
          expect(fields.length, context).toBeGreaterThan(0);
          for (const field of fields) expect(['table', 'pageSize', 'after'], context).toContain(field);
        }
      }),
      120,
    );
  });

  it('refuses any bad failure-resync body naming the field, and writes nothing', async () => {
    const p = product();
    const body = fc.oneof(
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc
        .record(
          {
            table: fc.oneof(anyText, fc.jsonValue()),
            keys: fc.oneof(fc.array(fc.oneof(anyText, fc.jsonValue()), { maxLength: 3 }), fc.jsonValue()),
          },
          { requiredKeys: [] },
        )
        .map((value) => JSON.stringify(value)),
      anyText,
    );
    await assertWritingNothing(
      p,
      fc.asyncProperty(body, async (text) => {
        // A profile that does not exist: the body is checked before the profile is looked up, and a valid body
        // does not open the profile's destination (seconds for PGlite) on every run.
        const answer = await send(p.host, 'POST', '/api/profiles/nobody/failures/resync', text);
        const context = `${text.slice(0, 200)}: ${answer.status} ${answer.text.slice(0, 300)}`;
        expect(answer.status, context).toBeLessThan(500);
        if (answer.status === 400) {
          const parsed = JSON.parse(answer.text) as { error: { problems?: Problem[]; where?: string } };
          expect(parsed.error.problems?.length ?? (parsed.error.where ? 1 : 0), context).toBeGreaterThan(0);
        }
      }),
      60,
    );
  });
});
