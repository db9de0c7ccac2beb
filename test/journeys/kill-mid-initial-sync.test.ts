/**
 * Journey: the host (local/host/main.ts as a child process) is killed with SIGKILL in the middle of the initial
 * sync of 20,000 accounts and started again on the same storage. It must resume from the table's checkpoint, not
 * from the first page: the emulator counts which pages are read, and the pages read again after the restart must
 * be fewer than the pages copied before the kill (one page in flight at most, with one table copying). Then the
 * PostgreSQL destination, which outlives the host, must equal the source row by row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compareTable, describeDifference, isEqual } from '../../local/verify';
import { createPgConnection } from '../../shared/destinations/sql/pg-connection';
import { createSqlDestination } from '../../shared/destinations/sql/destination';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
import { createTableCheckpointStore } from '../../shared/state/checkpoints';
import { createStorageClients } from '../../shared/storage/clients';
import { startProcessProduct, type ProcessProduct } from '../support/product-processes';
import { waitFor } from '../support/wait';

const ACCOUNTS = 20_000;
const PAGE_SIZE = 500;
const PROFILE = 'killed';
let product: ProcessProduct;
beforeAll(async () => {
  product = await startProcessProduct({
    emulator: { seed: 11, accounts: ACCOUNTS, contacts: 0 },
    pageSize: PAGE_SIZE,
    fanOut: 1,
    // Page by page: this counts change-tracked pages read again (kill-mid-partitioned-copy.test.ts: partitions).
    readStreams: 1,
    // A host's first start compiles the app with tsx, which takes over a minute on a loaded two-core machine.
    startTimeoutMs: 180_000,
  });
}, 90_000);
afterAll(async () => product?.stop(), 60_000);

const statusBody = z.object({ tables: z.array(z.object({ phase: z.string(), pages: z.number() })) });

/** Every initial-load page the emulator serves, by where it starts: the same start twice is the same page read again. */
function countPageReads(): { reads: string[] } {
  const store = product.emulator.store;
  const page = store.page.bind(store);
  const counted = { reads: [] as string[] };
  store.page = (logicalName, afterSlot, limit) => {
    if (logicalName === 'account') counted.reads.push(`${afterSlot}/${limit}`);
    return page(logicalName, afterSlot, limit);
  };
  return counted;
}

describe('the host killed (SIGKILL) during an initial sync of 20,000 rows', () => {
  it('resumes from its checkpoint on the next start and converges', async () => {
    const counted = countPageReads();
    const first = await product.startHost();
    const profile = product.postgresProfile('killed');
    expect((await first.call('PUT', `profiles/${PROFILE}`, profile)).status).toBe(201);
    // Slow pages, so the kill lands in the middle of the copy.
    product.emulator.faults.set({ latencyMs: 150 });
    expect((await first.call('POST', `profiles/${PROFILE}/activate`)).status).toBe(202);
    await waitFor(
      'ten pages copied',
      async () => {
        const parsed = statusBody.safeParse((await first.call('GET', `profiles/${PROFILE}/status`)).body);
        return parsed.success && (parsed.data.tables[0]?.pages ?? 0) >= 10 ? true : undefined;
      },
      60_000,
    );
    await first.kill();
    expect(await first.exited).toBe('SIGKILL');
    product.emulator.faults.set({ latencyMs: 0 });

    const checkpoints = createTableCheckpointStore(
      createStorageClients({ kind: 'connectionString', connectionString: product.azurite.connectionString }),
    );
    const atKill = (await checkpoints.read(PROFILE, 'account'))?.value;
    expect(atKill?.phase).toBe('initial');
    const copiedBeforeKill = atKill?.pages ?? 0;
    expect(copiedBeforeKill).toBeGreaterThanOrEqual(10);
    const readBeforeKill = new Set(counted.reads);
    counted.reads.length = 0;

    const second = await product.startHost();
    // The new host takes the killed host's orchestration over once nobody has marked it alive for a while.
    await waitFor(
      'the table in delta phase',
      async () => {
        const parsed = statusBody.safeParse((await second.call('GET', `profiles/${PROFILE}/status`)).body);
        return parsed.success && parsed.data.tables[0]?.phase === 'delta' ? true : undefined;
      },
      90_000,
    );
    const readAgain = counted.reads.filter((read) => readBeforeKill.has(read));
    expect(readAgain.length, `pages read again: ${readAgain.join(', ')}`).toBeLessThan(copiedBeforeKill);
    expect(readAgain.length, 'at most the page in flight at the kill').toBeLessThanOrEqual(1);
    const done = await checkpoints.read(PROFILE, 'account');
    expect(done?.value.pages, 'every page counted once').toBe(ACCOUNTS / PAGE_SIZE);
    expect(done?.value.rowsCopied).toBe(ACCOUNTS);

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
  }, 480_000);
});
