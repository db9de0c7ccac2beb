/**
 * Property-based bad input against the real handlers on Azurite: queue messages of every shape through the
 * applier, and profile bodies through PUT /api/profiles/{name}. Never a crash, never a 500, every rejection
 * names the field and the reason, and nothing is stored or applied.
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { putProfile } from '../../functions/profiles-put';
import type { OrchestrationClient } from '../../shared/orchestration/client';
import { applyChanges } from '../../shared/sync/applier';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();
const noOrchestrations: OrchestrationClient = {
  startNew: () => Promise.reject(new Error('not used')),
  getStatus: () => Promise.resolve(undefined),
  terminate: () => Promise.resolve(),
};
let deps: FunctionDeps | undefined;
const getDeps = () => (deps ??= createFunctionDeps({ AzureWebJobsStorage: azurite.connectionString }, () => noOrchestrations));

const injection = fc.constantFrom("'; DROP TABLE account;--", '../../etc/passwd', '<script>', '${jndi:x}', 'a\u0000b', 'ü'.repeat(300), '[dbo].[x]');
const anyJson = fc.oneof(fc.anything(), fc.jsonValue(), injection);

describe('fuzzed bad input', () => {
  it('parks every unreadable queue message with a reason and applies nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          anyJson,
          fc.record({ schemaVersion: fc.constant(1), profile: injection, table: injection, batchId: fc.string(), watermark: fc.integer(), upserts: anyJson, deletes: anyJson, attempt: fc.integer(), readAt: fc.string() }, { requiredKeys: [] }),
          fc.string().map((text) => `{"schemaVersion":1,${text}`),
        ),
        async (message) => {
          const result = await applyChanges(getDeps().sync, message, { messageId: `fuzz-${Math.random().toString(36).slice(2)}`, deliveryCount: 1 });
          expect(result.outcome).toBe('unprocessable');
          if (result.outcome === 'unprocessable') expect(result.reason.length).toBeGreaterThan(5);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('answers every bad profile body with a 400 naming its fields, never a 500, and stores nothing', async () => {
    const handler = putProfile.handler(getDeps());
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          anyJson,
          fc.record({
            source: fc.oneof(anyJson, fc.record({ environmentUrl: fc.oneof(fc.webUrl(), injection), auth: anyJson })),
            tables: fc.oneof(fc.array(fc.oneof(injection, fc.string())), anyJson),
            destination: fc.oneof(anyJson, fc.record({ kind: fc.constant('sql'), dialect: fc.constantFrom('mssql', 'postgres', 'pglite', 'oracle'), schema: fc.oneof(injection, fc.string()), prefix: fc.oneof(injection, fc.string()) })),
            retryCount: fc.oneof(fc.integer(), fc.double(), anyJson),
            retryIntervalSeconds: fc.oneof(fc.integer(), anyJson),
          }, { requiredKeys: [] }),
        ),
        async (body) => {
          const request = new HttpRequest({ method: 'PUT', url: 'http://localhost/api/profiles/fuzzed', params: { name: 'fuzzed' }, body: { string: JSON.stringify(body) ?? 'null' } });
          const response = await handler(request, new InvocationContext({ logHandler: () => undefined }));
          const init = response as { status?: number; jsonBody?: { error?: { problems?: Array<{ field: string; reason: string }> } } };
          expect(init.status).toBe(400);
          const problems = init.jsonBody?.error?.problems ?? [];
          expect(problems.length).toBeGreaterThan(0);
          for (const problem of problems) {
            expect(problem.field).not.toBe('');
            expect(problem.reason.length).toBeGreaterThan(3);
          }
        },
      ),
      { numRuns: 150 },
    );
    expect(await getDeps().sync.profiles.get('fuzzed')).toBeUndefined();
  });
});
