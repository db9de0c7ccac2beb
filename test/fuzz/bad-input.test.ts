/**
 * Property-based bad input against the real handlers on Azurite: queue messages of every shape (and any
 * message id) through the applier, and profile bodies through PUT /api/profiles/{name}. Never a crash, never
 * a 500, every rejection names the field and the reason, nothing is applied or stored — except the unreadable
 * message itself, parked with its reason.
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { putProfile } from '../../functions/profiles-put';
import type { OrchestrationClient } from '../../shared/orchestration/client';
import { applyChanges } from '../../shared/sync/apply/applier';
import { STATE_CONTAINER } from '../../shared/state/names';
import {
  UNPROCESSABLE_ROOT,
  unprocessableMessageFileName,
  type StoredUnprocessableMessage,
} from '../../shared/state/unprocessable-messages';
import { useAzurite } from '../support/azurite';
import { injection } from './arbitraries';

const azurite = useAzurite();
const noOrchestrations: OrchestrationClient = {
  startNew: () => Promise.reject(new Error('not used')),
  getStatus: () => Promise.resolve(undefined),
  terminate: () => Promise.resolve(),
};
let deps: FunctionDeps | undefined;
const getDeps = () =>
  (deps ??= createFunctionDeps({ AzureWebJobsStorage: azurite.connectionString }, () => noOrchestrations));

const anyJson = fc.oneof(fc.anything(), fc.jsonValue(), injection);

/** What the unprocessable-message store holds for a message id. */
async function parkedMessages(messageId: string): Promise<StoredUnprocessableMessage[]> {
  const container = getDeps().storage.blobs.getContainerClient(STATE_CONTAINER);
  const parked: StoredUnprocessableMessage[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: `${UNPROCESSABLE_ROOT}/` })) {
    if (!blob.name.endsWith(`/${unprocessableMessageFileName(messageId)}`)) continue;
    // Azure's limit on blob names, which Azurite does not enforce.
    expect(blob.name.length).toBeLessThanOrEqual(1024);
    parked.push(
      JSON.parse(
        (await container.getBlobClient(blob.name).downloadToBuffer()).toString('utf8'),
      ) as StoredUnprocessableMessage,
    );
  }
  return parked;
}

describe('fuzzed bad input', () => {
  it('parks every unreadable queue message with a reason and applies nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          anyJson,
          fc.record(
            {
              schemaVersion: fc.constant(1),
              profile: injection,
              table: injection,
              batchId: fc.string(),
              watermark: fc.integer(),
              upserts: anyJson,
              deletes: anyJson,
              attempt: fc.integer(),
              readAt: fc.string(),
            },
            { requiredKeys: [] },
          ),
          fc.string().map((text) => `{"schemaVersion":1,${text}`),
        ),
        // Message ids are the sender's choice (Service Bus allows 128 characters of anything).
        fc.oneof(
          fc.uuid(),
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 128 }),
          injection.filter((text) => text !== '').map((text) => text.slice(0, 128)),
          fc.string({ unit: fc.constantFrom('ü', '€', '漢', '🦀'), minLength: 100, maxLength: 128 }),
        ),
        async (message, messageId) => {
          const result = await applyChanges(getDeps().sync, message, { messageId, deliveryCount: 1 });
          expect(result.outcome).toBe('unprocessable');
          if (result.outcome !== 'unprocessable') return;
          expect(result.reason.length).toBeGreaterThan(5);
          const parked = await parkedMessages(messageId);
          expect(parked.map((stored) => stored.reason)).toContain(result.reason);
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
          fc.record(
            {
              source: fc.oneof(anyJson, fc.record({ environmentUrl: fc.oneof(fc.webUrl(), injection), auth: anyJson })),
              tables: fc.oneof(fc.array(fc.oneof(injection, fc.string())), anyJson),
              destination: fc.oneof(
                anyJson,
                fc.record({
                  kind: fc.constant('sql'),
                  dialect: fc.constantFrom('mssql', 'postgres', 'pglite', 'oracle'),
                  schema: fc.oneof(injection, fc.string()),
                  prefix: fc.oneof(injection, fc.string()),
                }),
              ),
              retryCount: fc.oneof(fc.integer(), fc.double(), anyJson),
              retryIntervalSeconds: fc.oneof(fc.integer(), anyJson),
            },
            { requiredKeys: [] },
          ),
        ),
        async (body) => {
          const request = new HttpRequest({
            method: 'PUT',
            url: 'http://localhost/api/profiles/fuzzed',
            params: { name: 'fuzzed' },
            body: { string: JSON.stringify(body) ?? 'null' },
          });
          const response = await handler(request, new InvocationContext({ logHandler: () => undefined }));
          const init = response as {
            status?: number;
            jsonBody?: { error?: { problems?: Array<{ field: string; reason: string }> } };
          };
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
