/**
 * Journey: the host process is killed (SIGKILL) in the middle of an initial sync of 20,000 rows and started
 * again on the same storage. The Durable extension resumes a Running instance from its history after a restart;
 * the local host must too, from the page checkpoint, without copying finished pages again, and converge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compareTable, describeDifference, isEqual } from '../../local/verify';
import { createPgConnection } from '../../shared/destinations/sql/pg-connection';
import { createSqlDestination } from '../../shared/destinations/sql/destination';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
import { startProcessProduct, type ProcessProduct } from '../support/product-processes';
import { waitFor } from '../support/wait';

const ACCOUNTS = 20_000;
const PAGE_SIZE = 500;
const TOTAL_PAGES = ACCOUNTS / PAGE_SIZE;

const tableStatus = z.object({
  tables: z.array(z.object({ table: z.string(), phase: z.string(), pages: z.number().nullish() })),
});

let product: ProcessProduct;
beforeAll(async () => {
  product = await startProcessProduct({
    emulator: { seed: 11, accounts: ACCOUNTS, contacts: 10 },
    pageSize: PAGE_SIZE,
  });
}, 60_000);
afterAll(async () => product?.stop(), 60_000);

describe('a host killed in the middle of an initial sync', () => {
  it('resumes from the page checkpoint when started again, and converges', async () => {
    const first = await product.startHost();
    expect((await first.call('PUT', 'profiles/killed', product.postgresProfile('killed'))).status).toBe(201);
    // Slow pages, so the sync is certainly still copying when the host dies.
    product.emulator.faults.set({ latencyMs: 150 });
    expect((await first.call('POST', 'profiles/killed/activate')).status).toBe(202);
    const pagesOf = async (host: typeof first) =>
      tableStatus.parse((await host.call('GET', 'profiles/killed/status')).body).tables[0];
    await waitFor(
      'eight copied pages',
      async () => (((await pagesOf(first))?.pages ?? 0) >= 8 ? true : undefined),
      40_000,
    );

    await first.kill();
    expect(await first.exited).toBe('SIGKILL');
    // A page the dead host had in flight may still be answered; the count starts once it has.
    await new Promise((resolve) => setTimeout(resolve, 300));
    product.emulator.faults.set({ latencyMs: 0 });
    const requestsAtKill = product.emulator.stats.requests;

    const second = await product.startHost();
    const pagesAtKill = (await pagesOf(second))?.pages ?? 0;
    expect(pagesAtKill).toBeGreaterThanOrEqual(8);
    expect(pagesAtKill).toBeLessThan(TOTAL_PAGES);
    const done = await waitFor(
      'account in delta phase after the restart',
      async () => {
        const table = await pagesOf(second);
        return table?.phase === 'delta' ? table : undefined;
      },
      120_000,
    );
    expect(done.pages).toBe(TOTAL_PAGES);
    // Pages read again = requests since the kill beyond the pages that were still to copy (a few delta polls aside).
    const reread = product.emulator.stats.requests - requestsAtKill - (TOTAL_PAGES - pagesAtKill);
    expect(reread).toBeLessThan(pagesAtKill);
    expect(reread).toBeLessThanOrEqual(3);

    const connection = await createPgConnection(product.postgres.connectionString, 1);
    const destination = createSqlDestination(connection, postgresDialect, {
      schema: 'killed',
      prefix: '',
      writeDeleteLog: false,
      widenOverlongStrings: true,
    });
    try {
      const difference = await compareTable(product.emulator, destination, 'account');
      expect(isEqual(difference), describeDifference(difference)).toBe(true);
    } finally {
      await destination.close();
    }
  }, 240_000);
});
