/**
 * One initial-sync page reaches the destination in bounded chunks while it arrives (shared/dataverse/page-stream.ts,
 * shared/sync/capture/apply-copied-rows.ts), and the checkpoint moves only after the whole page: a body that breaks
 * off mid-page, after some chunks were applied, leaves the checkpoint where it was, and the repeat counts the page once.
 * Real parts: the emulator over HTTP, Azurite for the state, PGlite as the destination; between the client and the
 * emulator a proxy that can cut a body short, as a dropped connection does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFunctionDeps, type FunctionDeps } from '../../functions/deps';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import { destinationVersions } from '../../local/verify';
import { ExportError } from '../../shared/errors';
import type { SyncServices } from '../../shared/sync/wiring/services';
import { copyPage } from '../../shared/sync/capture/copy-page';
import { useAzurite } from '../support/azurite';
import { activateAccountProfile, aroundApplyBatch, recordingOrchestrations } from '../support/direct-sync';

const TOKEN = 'copy-page-chunks-token';
const ACCOUNTS = 1_200;
const azurite = useAzurite();
let emulator: Emulator;
let deps: FunctionDeps;
let proxy: Server;
let proxyUrl: string;
/** The share of each page body the proxy sends before it drops the connection; 1 sends it whole. */
let sendShare = 1;
const orchestrations = recordingOrchestrations();

/** Forwards to the emulator, rewriting its links to the proxy's origin, and sends only `sendShare` of a page body. */
function startProxy(): Promise<Server> {
  const server = createServer((request, response) => {
    void (async () => {
      const upstream = await fetch(new URL(request.url ?? '/', emulator.baseUrl), {
        headers: Object.fromEntries(
          Object.entries(request.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
        ),
      });
      const text = (await upstream.text()).replaceAll(new URL(emulator.baseUrl).origin, new URL(proxyUrl).origin);
      const body = Buffer.from(text);
      const cut = sendShare < 1 && request.url?.includes('accounts');
      response.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/json',
        'content-length': String(body.length),
      });
      if (!cut) return void response.end(body);
      response.write(body.subarray(0, Math.floor(body.length * sendShare)), () => response.socket?.destroy());
    })();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: 11, accounts: ACCOUNTS, token: TOKEN });
  proxy = await startProxy();
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api/data/v9.2/`;
  deps = createFunctionDeps(
    { AzureWebJobsStorage: azurite.connectionString, DVX_SECRET_DV_TOKEN: TOKEN, DVX_LOCAL_MODE: '1' },
    () => orchestrations,
    // Page by page: this is about the chunks of one change-tracked page (partitions read by id elsewhere).
    { pageSize: ACCOUNTS, readStreams: 1 },
  );
}, 60_000);
afterAll(async () => {
  await deps.sync.runtimes.closeAll();
  await new Promise((resolve) => proxy.close(resolve));
  await emulator.close();
});

/** The services with every destination batch's size recorded. */
function recordingBatches(sizes: number[]): SyncServices {
  return aroundApplyBatch(deps.sync, (apply, table, batch) => {
    sizes.push(batch.upserts.length);
    return apply(table, batch);
  });
}

const rowsIn = async (profile: string) =>
  (await destinationVersions((await deps.sync.runtimes.get(profile)).destination, 'account')).size;

describe('an initial-sync page in chunks', () => {
  it('applies 1,000 + 200 rows of a 1,200-row page; a body cut after the first chunk leaves the checkpoint, the repeat counts the page once', async () => {
    await activateAccountProfile(deps, orchestrations, 'chunked', proxyUrl);
    const before = (await deps.sync.checkpoints.read('chunked', 'account'))?.value;
    sendShare = 0.9;
    const cutSizes: number[] = [];
    const failure = await copyPage(recordingBatches(cutSizes), 'chunked', 'account').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ExportError);
    expect((failure as ExportError).errorClass).toBe('transient');
    // Part of the page was applied before the cut, and the checkpoint did not move.
    expect(cutSizes).toEqual([1_000]);
    expect(await rowsIn('chunked')).toBe(1_000);
    expect((await deps.sync.checkpoints.read('chunked', 'account'))?.value).toEqual(before);

    sendShare = 1;
    const sizes: number[] = [];
    const copied = await copyPage(recordingBatches(sizes), 'chunked', 'account');
    expect(sizes).toEqual([1_000, 200]);
    expect(copied).toMatchObject({ pageRows: ACCOUNTS, rowsCopied: ACCOUNTS, pages: 1 });
    expect(await rowsIn('chunked')).toBe(ACCOUNTS);
  }, 80_000);
});
