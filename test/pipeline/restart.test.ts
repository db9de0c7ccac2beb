import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleCounts } from '../../local/sample-org';
import { clearFaults, sampleProfile, useProduct, waitForConvergence } from '../support/pipeline';
import { waitFor } from '../support/wait';

const ACCOUNTS = 400;
// On disk: an in-memory PGlite would die with the host, as a real destination does not.
const dataDir = mkdtempSync(join(tmpdir(), 'dvexport-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const product = useProduct({
  emulator: { accounts: ACCOUNTS },
  sync: { pageSize: 25, fanOut: 1 },
  env: { DVX_DATA_DIR: dataDir },
});

describe('a host killed in the middle of an initial sync', () => {
  it('resumes the running orchestration from the checkpoint after a restart, without copying finished pages again, and converges', async () => {
    const p = product();
    const accounts = sampleCounts(ACCOUNTS).account;
    expect(accounts).toBeGreaterThan(25 * 6);
    expect(
      (
        await p.call(
          'PUT',
          'profiles/crash',
          sampleProfile(p, { tables: ['account'], relationships: [], destination: { kind: 'sql', dialect: 'pglite' } }),
        )
      ).status,
    ).toBe(201);

    // Slow enough that the sync is certainly still copying when the host goes down.
    p.emulator.faults.set({ latencyMs: 150 });
    expect((await p.call('POST', 'profiles/crash/activate')).status).toBe(202);
    await waitFor('two copied pages of account', async () => {
      const checkpoint = await p.deps.sync.checkpoints.read('crash', 'account');
      return checkpoint && checkpoint.value.pages >= 2 ? true : undefined;
    });

    await p.host.close();
    await p.deps.sync.runtimes.closeAll();
    // Let a request the old host had in flight finish, so the checkpoint below is the one the new host starts from.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const atStop = await p.deps.sync.checkpoints.read('crash', 'account');
    expect(atStop?.value.phase).toBe('initial');
    const pagesAtStop = atStop?.value.pages ?? 0;
    expect(pagesAtStop).toBeGreaterThanOrEqual(2);
    expect(atStop?.value.rowsCopied).toBe(pagesAtStop * 25);
    const instance = await p.call('GET', 'profiles/crash/status').catch(() => undefined);
    expect(instance, 'the host is down').toBeUndefined();

    const requestsBefore = p.emulator.stats.requests;
    await p.restartHost();
    const done = await waitFor(
      'account in delta phase after the restart',
      async () => {
        const checkpoint = await p.deps.sync.checkpoints.read('crash', 'account');
        return checkpoint?.value.phase === 'delta'
          ? { checkpoint: checkpoint.value, requests: p.emulator.stats.requests - requestsBefore }
          : undefined;
      },
      40_000,
    );
    clearFaults(p.emulator);

    const totalPages = Math.ceil(accounts / 25);
    expect(done.checkpoint.pages).toBe(totalPages);
    expect(done.checkpoint.rowsCopied).toBe(accounts);
    // One request per page not yet copied, plus at most one more (the old host's in-flight page or a first delta poll).
    expect(done.requests).toBeGreaterThanOrEqual(totalPages - pagesAtStop);
    expect(done.requests).toBeLessThanOrEqual(totalPages - pagesAtStop + 1);

    const status = await waitFor('the resumed orchestration completes', async () => {
      const response = await p.call('GET', 'profiles/crash/status');
      const body = response.body as {
        initialSync: { runtimeStatus: string } | null;
        tables: Array<{ table: string; phase: string; rowsInDestination: number | null }>;
      };
      return body.initialSync?.runtimeStatus === 'Completed' ? body : undefined;
    });
    expect(status.tables).toEqual([
      expect.objectContaining({ table: 'account', phase: 'delta', rowsInDestination: accounts }),
    ]);
    await waitForConvergence(p, 'crash', ['account']);
  }, 60_000);
});
