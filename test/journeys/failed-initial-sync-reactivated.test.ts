/**
 * Journey: the source refuses every request for longer than the initial sync's page retries last, so the
 * orchestration fails. The tables it was copying must say why (lastError), and `activate` must start the
 * orchestration again (Durable lets a Failed instance's id be reused) from the page checkpoints, then converge.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sampleCounts } from '../../local/sample-org';
import { clearFaults, sampleProfile, useProduct, waitForConvergence } from '../support/pipeline';
import { waitFor } from '../support/wait';

const ACCOUNTS = 300;
const PAGE_SIZE = 25;
const product = useProduct({ emulator: { accounts: ACCOUNTS }, sync: { pageSize: PAGE_SIZE, fanOut: 1 } });

const statusBody = z.object({
  initialSync: z.object({ runtimeStatus: z.string() }).nullable(),
  tables: z.array(
    z.object({
      table: z.string(),
      phase: z.string(),
      pages: z.number(),
      initialRowsCopied: z.number(),
      lastError: z.object({ message: z.string() }).nullable(),
    }),
  ),
});

describe('an initial sync that failed', () => {
  it('shows its error on the tables, and activate continues it from the checkpoint until it converges', async () => {
    const p = product();
    const accounts = sampleCounts(ACCOUNTS).account;
    const profile = sampleProfile(p, { tables: ['account'], relationships: [] });
    expect((await p.call('PUT', 'profiles/refused', profile)).status).toBe(201);
    const status = async () => statusBody.parse((await p.call('GET', 'profiles/refused/status')).body);

    p.emulator.faults.set({ latencyMs: 100 });
    expect((await p.call('POST', 'profiles/refused/activate')).status).toBe(202);
    await waitFor('three copied pages', async () => ((await status()).tables[0]?.pages ?? 0) >= 3 || undefined);
    // The source refuses from now on: every page copy fails, through all its retries.
    p.emulator.faults.set({ forbidden: true, latencyMs: 0 });

    const failed = await waitFor(
      'the initial sync to fail',
      async () => {
        const body = await status();
        return body.initialSync?.runtimeStatus === 'Failed' ? body : undefined;
      },
      80_000,
    );
    const [table] = failed.tables;
    expect(table?.phase).toBe('initial');
    expect(table?.lastError?.message).toMatch(/initial sync stopped/i);
    expect(table?.lastError?.message).toMatch(/not a member of the organization/);
    const pagesAtFailure = table?.pages ?? 0;
    expect(pagesAtFailure).toBeGreaterThanOrEqual(3);

    clearFaults(p.emulator);
    expect((await p.call('POST', 'profiles/refused/activate')).status).toBe(202);
    const done = await waitFor(
      'account in delta phase',
      async () => {
        const body = await status();
        return body.tables[0]?.phase === 'delta' ? body : undefined;
      },
      40_000,
    );
    // Continued from the checkpoint: each page copied once, not again from the first page.
    expect(done.tables[0]).toMatchObject({
      pages: Math.ceil(accounts / PAGE_SIZE),
      initialRowsCopied: accounts,
      lastError: null,
    });
    await waitForConvergence(p, 'refused', ['account']);
  }, 280_000);
});
