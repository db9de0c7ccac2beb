/**
 * The change poller over in-memory ports, reading real deltas from the Dataverse emulator (in process, through the
 * product's DataverseClient): what shared/sync/capture/poller.ts promises about leases, the order of send and
 * checkpoint, expired tokens and throttling.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../local/emulator/server';
import type { DataverseClient } from '../../shared/dataverse/client';
import type { TableMetadata } from '../../shared/dataverse/metadata';
import { ExportError } from '../../shared/errors';
import { INITIAL_SYNC_ORCHESTRATION } from '../../shared/sync/admin/activation';
import { applyChanges } from '../../shared/sync/apply/applier';
import { MAX_THROTTLE_MS, pollChanges, pollTable } from '../../shared/sync/capture/poller';
import { recordingOrchestrations } from '../support/direct-sync';
import { recordingDestination, type RecordingDestination } from '../support/in-memory-destination';
import {
  emulatorClient,
  fixedRuntimes,
  inMemorySyncServices,
  testProfile,
  type InMemorySyncServices,
} from '../support/in-memory-sync';

const TOKEN = 'poller-unit-token';
const PROFILE = 'poller';

let emulator: Emulator;
let source: DataverseClient;
let tables: TableMetadata[];

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: 11, accounts: 20, contacts: 20, token: TOKEN });
  source = emulatorClient(emulator.baseUrl, TOKEN);
  tables = await source.readTables(['account', 'contact']);
});
afterAll(async () => {
  await emulator?.close();
});

let services: InMemorySyncServices;
let destination: RecordingDestination;
let started: string[];
const orchestrations = () => recordingOrchestrations(started);

/** The deltaLink the initial load of `table` ends with, as copyPage would save it. */
async function deltaLinkNow(table: string): Promise<{ deltaLink: string; watermark?: number }> {
  const metadata = tables.find((candidate) => candidate.logicalName === table);
  if (!metadata) throw new Error(`no table ${table}`);
  let last: { deltaLink: string; watermark?: number } | undefined;
  for await (const page of source.initialLoad(metadata, { annotations: true }))
    if (page.deltaLink) last = { deltaLink: page.deltaLink, watermark: page.watermark };
  if (!last) throw new Error('the initial load ended without a deltaLink');
  return last;
}

/** Puts an active profile whose tables are in the delta phase at the emulator's current version. */
async function activeProfile(name: string, tableNames: string[], state: 'active' | 'inactive' = 'active') {
  const at = services.now().toISOString();
  await services.profiles.put(name, testProfile(name, { tables: tableNames }));
  await services.snapshots.put(name, { tables, relationships: [], readAt: at });
  await services.activations.put(name, { state, tables: tableNames, activatedAt: at });
  for (const table of tableNames) {
    const link = await deltaLinkNow(table);
    await services.checkpoints.create(name, table, {
      phase: 'delta',
      ...link,
      rowsCopied: 0,
      pages: 1,
      startedAt: at,
    });
  }
}

const accountIds = (count: number): string[] =>
  emulator.store.page('account', -1, count).rows.map((row: { id: string }) => row.id);

beforeEach(async () => {
  services = inMemorySyncServices();
  destination = recordingDestination();
  started = [];
  services.runtimes = fixedRuntimes(services.profiles, () => ({ source, destination }));
  await activeProfile(PROFILE, ['account']);
});
afterEach(() => {
  emulator.faults.set({ throttleRate: 0, expiredTokens: false, latencyMs: 0 });
});

describe('the poll lease', () => {
  it('keeps a second poller off a table another one holds, without reading Dataverse', async () => {
    const [id] = accountIds(1) as [string];
    emulator.store.update('account', id, { name: 'changed while leased' });
    const before = await services.checkpoints.read(PROFILE, 'account');
    const held = await services.leases.tryAcquire(PROFILE, 'account', 15);
    expect(held).toBeDefined();
    const requests = emulator.stats.requests;

    const poll = await pollTable(services, orchestrations(), PROFILE, 'account');

    expect(poll).toMatchObject({ outcome: 'busy', upserts: 0, deletes: 0 });
    expect(emulator.stats.requests).toBe(requests);
    expect(services.queue.sent).toEqual([]);
    expect(await services.checkpoints.read(PROFILE, 'account')).toEqual(before);

    await held?.release();
    expect(await pollTable(services, orchestrations(), PROFILE, 'account')).toMatchObject({
      outcome: 'changes',
      upserts: 1,
    });
  });
});

describe('a poll that finds changes', () => {
  it('sends upserts and deletes, then saves the new deltaLink, and releases its lease', async () => {
    const [updated, deleted] = accountIds(2) as [string, string];
    emulator.store.update('account', updated, { name: 'renamed' });
    emulator.store.delete('account', deleted);
    const before = await services.checkpoints.read(PROFILE, 'account');
    const checkpointAtSend: Array<string | undefined> = [];
    const send = services.queue.send.bind(services.queue);
    services.queue.send = async (batches, options) => {
      checkpointAtSend.push((await services.checkpoints.read(PROFILE, 'account'))?.value.deltaLink);
      return send(batches, options);
    };

    const poll = await pollTable(services, orchestrations(), PROFILE, 'account');

    expect(poll).toEqual({ profile: PROFILE, table: 'account', outcome: 'changes', upserts: 1, deletes: 1 });
    const sent = services.queue.sent.flatMap((send) => send.batches);
    expect(sent.flatMap((batch) => batch.upserts.map((upsert) => upsert.id))).toEqual([updated]);
    expect(sent.flatMap((batch) => batch.deletes.map((remove) => remove.id))).toEqual([deleted]);
    expect(checkpointAtSend).toEqual([before?.value.deltaLink, before?.value.deltaLink]);
    const after = await services.checkpoints.read(PROFILE, 'account');
    expect(after?.value.deltaLink).not.toBe(before?.value.deltaLink);
    expect(after?.value.watermark).toBe(emulator.store.currentVersion);
    // Deletes carry the new token's watermark as their version.
    expect(sent.find((batch) => batch.deletes.length > 0)?.watermark).toBe(after?.value.watermark);
    expect((await services.status.read(PROFILE, 'account'))?.oldestUnappliedChangeAt).toBe(
      services.now().toISOString(),
    );
    expect(services.leases.heldNow).toBe(0);
  });

  it('sends the same batch ids when the same delta is read again after a crash before the checkpoint', async () => {
    const [first, second] = accountIds(2) as [string, string];
    emulator.store.update('account', first, { name: 'first' });
    emulator.store.update('account', second, { name: 'second' });
    const before = await services.checkpoints.read(PROFILE, 'account');
    if (!before) throw new Error('no checkpoint');
    await pollTable(services, orchestrations(), PROFILE, 'account');
    // The crash: the new deltaLink never got saved.
    const moved = await services.checkpoints.read(PROFILE, 'account');
    const { updatedAt: _updatedAt, ...fields } = before.value;
    await services.checkpoints.update(PROFILE, 'account', fields, moved?.etag ?? '');
    services.clock.advance(60_000);

    await pollTable(services, orchestrations(), PROFILE, 'account');

    const [once, again] = services.queue.sent;
    expect(once?.messageIds).toHaveLength(1);
    expect(again?.messageIds).toEqual(once?.messageIds);
  });

  it('leaves the checkpoint where it was when the send fails, so the next poll sends the changes', async () => {
    const [id] = accountIds(1) as [string];
    emulator.store.update('account', id, { name: 'not lost' });
    const before = await services.checkpoints.read(PROFILE, 'account');
    services.queue.failSends = 1;

    const failed = await pollTable(services, orchestrations(), PROFILE, 'account');

    expect(failed).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/change queue/) });
    expect(await services.checkpoints.read(PROFILE, 'account')).toEqual(before);
    expect((await services.status.read(PROFILE, 'account'))?.lastError?.errorClass).toBe('transient');
    expect(services.leases.heldNow).toBe(0);

    const retried = await pollTable(services, orchestrations(), PROFILE, 'account');
    expect(retried).toMatchObject({ outcome: 'changes', upserts: 1 });
    expect(services.queue.sent.flatMap((send) => send.batches.flatMap((batch) => batch.upserts))).toMatchObject([
      { id },
    ]);
  });

  // Issue 16: a poll against the old URL during a restart left "fetch failed" on the table for good, because no later
  // success cleared it; status then showed an error long after the table had caught up.
  it('clears the error a failed poll left once a poll succeeds, and leaves an apply error alone', async () => {
    services.queue.failSends = 1;
    emulator.store.update('account', accountIds(1)[0] ?? '', { name: 'sent on the second poll' });
    expect((await pollTable(services, orchestrations(), PROFILE, 'account')).outcome).toBe('failed');
    expect((await services.status.read(PROFILE, 'account'))?.lastError).toMatchObject({ source: 'poll' });

    expect((await pollTable(services, orchestrations(), PROFILE, 'account')).outcome).toBe('changes');
    expect((await services.status.read(PROFILE, 'account'))?.lastError).toBeUndefined();

    const refused = new ExportError('data', 'The destination refused a row', { where: 'account' });
    await services.status.update(PROFILE, 'account', { lastError: refused, lastErrorSource: 'apply' });
    expect((await pollTable(services, orchestrations(), PROFILE, 'account')).outcome).toBe('no-changes');
    expect((await services.status.read(PROFILE, 'account'))?.lastError).toMatchObject({
      message: 'The destination refused a row',
      source: 'apply',
    });
  });

  it('sends nothing and keeps the lag clear when nothing changed', async () => {
    const poll = await pollTable(services, orchestrations(), PROFILE, 'account');
    expect(poll.outcome).toBe('no-changes');
    expect(services.queue.sent).toEqual([]);
    expect((await services.status.read(PROFILE, 'account'))?.oldestUnappliedChangeAt).toBeUndefined();
  });
});

describe('an expired change-tracking token', () => {
  it('starts the table over as a full resync and says why in the table status', async () => {
    emulator.faults.set({ expiredTokens: true });

    const poll = await pollTable(services, orchestrations(), PROFILE, 'account');

    expect(poll).toMatchObject({ outcome: 'rebaselining' });
    const checkpoint = await services.checkpoints.read(PROFILE, 'account');
    expect(checkpoint?.value).toMatchObject({ phase: 'resync', rowsCopied: 0, pages: 0 });
    expect(checkpoint?.value.deltaLink).toBeUndefined();
    expect(started).toEqual([INITIAL_SYNC_ORCHESTRATION]);
    expect(destination.resyncStarted).toEqual(['account']);
    expect(await services.status.read(PROFILE, 'account')).toMatchObject({
      phase: 'resync',
      lastError: { errorClass: 'expired-token' },
    });
    expect(services.queue.sent).toEqual([]);
    // The table is out of the delta phase: the next poll leaves it to the resync.
    expect((await pollTable(services, orchestrations(), PROFILE, 'account')).outcome).toBe('no-changes');
  });
});

describe('throttling (429 with Retry-After)', () => {
  it('marks the table throttled until Retry-After, skips it until then, and polls again after', async () => {
    const [id] = accountIds(1) as [string];
    emulator.store.update('account', id, { name: 'read after the throttle' });
    const before = await services.checkpoints.read(PROFILE, 'account');
    emulator.faults.set({ throttleRate: 1, retryAfterSeconds: 120 });

    const throttled = await pollTable(services, orchestrations(), PROFILE, 'account');

    const until = new Date(services.now().getTime() + 120_000).toISOString();
    expect(throttled).toMatchObject({ outcome: 'throttled', error: expect.stringContaining(until) });
    expect(await services.status.read(PROFILE, 'account')).toMatchObject({
      throttledUntil: until,
      lastError: { errorClass: 'throttled' },
    });
    expect(await services.checkpoints.read(PROFILE, 'account')).toEqual(before);
    expect(services.metrics.calls).toContainEqual(['throttled', PROFILE]);

    const requests = emulator.stats.requests;
    expect((await pollTable(services, orchestrations(), PROFILE, 'account')).outcome).toBe('throttled');
    expect(emulator.stats.requests).toBe(requests);

    emulator.faults.set({ throttleRate: 0 });
    services.clock.advance(121_000);
    expect(await pollTable(services, orchestrations(), PROFILE, 'account')).toMatchObject({
      outcome: 'changes',
      upserts: 1,
    });
    expect((await services.status.read(PROFILE, 'account'))?.throttledUntil).toBeUndefined();
  });

  it('waits at most MAX_THROTTLE_MS however long Retry-After asks for', async () => {
    emulator.faults.set({ throttleRate: 1, retryAfterSeconds: 86_400 });
    await pollTable(services, orchestrations(), PROFILE, 'account');
    expect((await services.status.read(PROFILE, 'account'))?.throttledUntil).toBe(
      new Date(services.now().getTime() + MAX_THROTTLE_MS).toISOString(),
    );
  });
});

describe('a busy state store (Table storage 503) while saving the checkpoint', () => {
  // Issue 16: storageFailure classes a storage 503 as 'throttled' (Storage's Server Busy), and pollTable's catch used
  // to take every throttled error for Dataverse's: it counted a Dataverse 429 (metrics: "Dataverse 429 answers") and
  // set throttledUntil, which shared/state/table-status.ts defines as Dataverse's Retry-After for this table.
  it('is neither counted nor shown as Dataverse throttling the table', async () => {
    const [id] = accountIds(1) as [string];
    emulator.store.update('account', id, { name: 'saved later' });
    services.checkpoints.update = () =>
      Promise.reject(
        new ExportError('throttled', 'Updating the checkpoint failed (HTTP 503 ServerBusy)', { retryAfterMs: 1_000 }),
      );

    const poll = await pollTable(services, orchestrations(), PROFILE, 'account');

    expect(poll.outcome).toBe('failed');
    expect(services.metrics.calls.filter(([name]) => name === 'throttled')).toEqual([]);
    const status = await services.status.read(PROFILE, 'account');
    expect(status?.throttledUntil).toBeUndefined();
    // The failed poll is on record, so the table turns degraded if it keeps failing (admin/table-health.ts).
    expect(status?.lastError?.message).toMatch(/^Updating the checkpoint failed \(HTTP 503 ServerBusy\)$/);
  });
});

describe('polling every active profile', () => {
  it('polls every table of the active profiles, several at once but never more than 8', async () => {
    for (const name of ['fanone', 'fantwo', 'fanthree', 'fanfour', 'fanfive'])
      await activeProfile(name, ['account', 'contact']);
    await activeProfile('sleeping', ['account'], 'inactive');
    emulator.faults.set({ latencyMs: 50 });

    const polls = await pollChanges(services, orchestrations());

    const polled = polls.map((poll) => `${poll.profile}/${poll.table}`).sort();
    expect(polled).toHaveLength(11);
    expect(polled).not.toContain('sleeping/account');
    expect(polls.every((poll) => poll.outcome === 'no-changes')).toBe(true);
    expect(services.leases.mostHeldAtOnce).toBeGreaterThan(1);
    expect(services.leases.mostHeldAtOnce).toBeLessThanOrEqual(8);
    expect(services.leases.heldNow).toBe(0);
  });
});

describe('the lag the poller and the applier keep together', () => {
  // Issue 16: the poller set oldestUnappliedChangeAt only when it was empty, and the applier cleared it when a batch
  // read at or after it was applied. Two polls before an apply (the queue behind the poller) left it at the first
  // poll's time; applying the first poll's batch cleared it while the second poll's batch was still queued, so the
  // status showed no lag (shared/state/table-status.ts: "the oldest change ... not applied yet").
  it('still shows the lag of a batch that is queued after an earlier one was applied', async () => {
    await destination.ensureTables(tables, []);
    const [first, second] = accountIds(2) as [string, string];
    emulator.store.update('account', first, { name: 'first poll' });
    await pollTable(services, orchestrations(), PROFILE, 'account');
    const firstPollAt = services.now().toISOString();
    services.clock.advance(60_000);
    emulator.store.update('account', second, { name: 'second poll' });
    await pollTable(services, orchestrations(), PROFILE, 'account');
    const secondPollAt = services.now().toISOString();
    const [earlier, later] = services.queue.sent.flatMap((send) => send.batches);
    expect(earlier?.readAt).toBe(firstPollAt);
    expect((await services.status.read(PROFILE, 'account'))?.oldestUnappliedChangeAt).toBe(firstPollAt);

    const delivery = { messageId: 'm', deliveryCount: 1 };
    expect(await applyChanges(services, earlier, delivery)).toMatchObject({ outcome: 'applied', upserted: 1 });
    expect((await services.status.read(PROFILE, 'account'))?.oldestUnappliedChangeAt).toBe(secondPollAt);

    await applyChanges(services, later, delivery);
    expect((await services.status.read(PROFILE, 'account'))?.oldestUnappliedChangeAt).toBeUndefined();
  });

  // The applier may take a batch the moment it is queued, before the poll that sent it has finished: the lag the
  // poll then recorded used to stay, growing, until a later poll's batch was applied (never, on a quiet table).
  it('is clear after a poll whose batch was applied before the poll finished', async () => {
    await destination.ensureTables(tables, []);
    const [id] = accountIds(1) as [string];
    emulator.store.update('account', id, { name: 'applied at once' });
    const send = services.queue.send.bind(services.queue);
    services.queue.send = async (batches, options) => {
      await send(batches, options);
      for (const batch of batches) await applyChanges(services, batch, { messageId: batch.batchId, deliveryCount: 1 });
    };

    expect(await pollTable(services, orchestrations(), PROFILE, 'account')).toMatchObject({ outcome: 'changes' });

    expect(destination.versions('account').has(id.toLowerCase())).toBe(true);
    expect((await services.status.read(PROFILE, 'account'))?.oldestUnappliedChangeAt).toBeUndefined();
  });
});
