/**
 * Malformed Dataverse pages through the real sync path: the initial sync's page copy and the change poller,
 * on Azurite and PGlite, reading the emulator through a pass-through server that breaks the account table's
 * pages on demand. Whatever a page looks like, nothing of it is written: no destination row, no failed
 * record, no queued batch, no checkpoint moved — the failure is an ExportError a retry or a person can act on.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { destinationVersions } from '../../local/verify';
import { ExportError } from '../../shared/errors';
import { copyPage } from '../../shared/sync/capture/copy-page';
import { pollTable } from '../../shared/sync/capture/poller';
import { useAzurite } from '../support/azurite';
import { activateAccountProfile, recordingOrchestrations } from '../support/direct-sync';
import { malformedPageAnswer } from './arbitraries';
import { startCannedDataverse, type CannedDataverse } from './dataverse-server';
import { storageState } from './storage-state';

const TOKEN = 'malformed-pages-token';
const PROFILE = 'malformed';
const azurite = useAzurite();
let emulator: Emulator;
let dataverse: CannedDataverse;
let deps: FunctionDeps;
const started: string[] = [];
const orchestrations = recordingOrchestrations(started);

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: 5, accounts: 30, token: TOKEN });
  dataverse = await startCannedDataverse(emulator.baseUrl);
  deps = createFunctionDeps(
    { AzureWebJobsStorage: azurite.connectionString, DVX_SECRET_DV_TOKEN: TOKEN, DVX_LOCAL_MODE: '1' },
    () => orchestrations,
    // Page by page: malformed pages of the change-tracked load, whose first page copies rows.
    { pageSize: 10, readStreams: 1 },
  );
  await activateAccountProfile(deps, orchestrations, PROFILE, dataverse.baseUrl);
});
afterAll(async () => {
  await deps.sync.runtimes.closeAll();
  await dataverse.close();
  await emulator.close();
});

/** The account table's pages (initial and delta) are answered with `answer`; everything else is the emulator's. */
const breakAccountPages = (answer: { contentType: string; body: string } | undefined) =>
  dataverse.answer((path) =>
    answer && /\/api\/data\/v9\.2\/accounts(\?|$)/.test(path) ? { status: 200, ...answer } : undefined,
  );

async function written() {
  const { destination } = await deps.sync.runtimes.get(PROFILE);
  return {
    storage: await storageState(deps.storage),
    rows: [...(await destinationVersions(destination, 'account')).entries()].sort(),
  };
}

describe('malformed pages through the sync path', () => {
  it('copies nothing of a malformed initial-sync page and leaves its checkpoint where it was', async () => {
    // One good page first, so the checkpoint holds a nextLink and the destination holds rows.
    breakAccountPages(undefined);
    expect((await copyPage(deps.sync, PROFILE, 'account')).rowsCopied).toBe(10);
    const before = await written();
    expect(before.rows).toHaveLength(10);
    await fc.assert(
      fc.asyncProperty(
        malformedPageAnswer(() => dataverse.baseUrl),
        async (answer) => {
          breakAccountPages(answer);
          const error = await copyPage(deps.sync, PROFILE, 'account').then(
            () => undefined,
            (caught: unknown) => caught,
          );
          expect(error).toBeInstanceOf(ExportError);
          expect(['schema', 'config']).toContain((error as ExportError).errorClass);
          expect(await written()).toEqual(before);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('queues nothing of a malformed delta and keeps its deltaLink', async () => {
    breakAccountPages(undefined);
    while (!(await copyPage(deps.sync, PROFILE, 'account')).done);
    const checkpoint = await deps.sync.checkpoints.read(PROFILE, 'account');
    expect(checkpoint?.value.phase).toBe('delta');
    const queue = deps.storage.queues.getQueueClient(deps.settings.changeQueue.queueName);
    const queued = async () =>
      (await queue.exists()) ? ((await queue.getProperties()).approximateMessagesCount ?? 0) : 0;
    const rowsBefore = (await written()).rows;
    await fc.assert(
      fc.asyncProperty(
        malformedPageAnswer(() => dataverse.baseUrl),
        async (answer) => {
          breakAccountPages(answer);
          const poll = await pollTable(deps.sync, orchestrations, PROFILE, 'account');
          expect(poll.outcome, JSON.stringify(poll)).toBe('failed');
          expect(poll.error).toBeTruthy();
          expect(await deps.sync.checkpoints.read(PROFILE, 'account')).toEqual(checkpoint);
          expect(await queued()).toBe(0);
          expect((await written()).rows).toEqual(rowsBefore);
          expect((await deps.sync.status.read(PROFILE, 'account'))?.lastError?.message).toBe(poll.error);
        },
      ),
      { numRuns: 40 },
    );
    expect(started).toEqual(['initialSync']);
  });

  it('queues no deletes from a delta whose new token carries no version watermark, and keeps its deltaLink', async () => {
    breakAccountPages(undefined);
    const checkpoint = await deps.sync.checkpoints.read(PROFILE, 'account');
    const deltaLink = checkpoint?.value.deltaLink;
    if (!deltaLink) throw new Error('account is not in delta phase');
    const [gone] = [
      ...(await destinationVersions((await deps.sync.runtimes.get(PROFILE)).destination, 'account')).keys(),
    ];
    const removed = await fetch(`${emulator.baseUrl}accounts(${gone})`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(removed.status).toBe(204);
    // The emulator's real answer to this delta, with the new token's version taken out.
    const real = await fetch(deltaLink.replace(new URL(dataverse.baseUrl).origin, new URL(emulator.baseUrl).origin), {
      headers: { authorization: `Bearer ${TOKEN}`, prefer: 'odata.track-changes, odata.include-annotations="*"' },
    });
    const body = (await real.text())
      .replaceAll(new URL(emulator.baseUrl).origin, new URL(dataverse.baseUrl).origin)
      .replace(/\$deltatoken=[^"&]+/, '$deltatoken=opaque');
    expect(body).toContain('$deletedEntity');
    breakAccountPages({ contentType: 'application/json', body });
    const poll = await pollTable(deps.sync, orchestrations, PROFILE, 'account');
    expect(poll).toMatchObject({ outcome: 'failed', error: expect.stringContaining('carries no version watermark') });
    expect(await deps.sync.checkpoints.read(PROFILE, 'account')).toEqual(checkpoint);
    expect(
      (await destinationVersions((await deps.sync.runtimes.get(PROFILE)).destination, 'account')).has(gone ?? ''),
    ).toBe(true);
  });
});
