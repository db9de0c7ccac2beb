import { describe, expect, it } from 'vitest';
import { sampleTable } from '../../local/sample-org';
import { applyChanges } from '../../shared/sync/apply/applier';
import { CHANGE_BATCH_SCHEMA_VERSION, type ChangeBatch } from '../../shared/queue/change-batch';
import { sampleProfile, useProduct } from '../support/pipeline';

const product = useProduct({
  env: { DVX_SECRET_UNREACHABLE_DESTINATION: 'postgres://exporter:secret-pw@127.0.0.1:1/nowhere' },
});

describe('applier retries', () => {
  it('schedules another attempt when the destination cannot be reached, following the profile retry rules', async () => {
    const p = product();
    const profile = sampleProfile(p, {
      tables: ['account'],
      relationships: [],
      retryCount: 2,
      retryIntervalSeconds: 30,
      destination: {
        kind: 'sql',
        dialect: 'postgres',
        connection: { appSetting: 'DVX_SECRET_UNREACHABLE_DESTINATION' },
      },
    });
    expect((await p.call('PUT', 'profiles/unreachable', profile)).status).toBe(201);
    // As activation leaves them; activation itself would stop at the unreachable destination.
    const now = new Date().toISOString();
    await p.deps.sync.snapshots.put('unreachable', {
      tables: [sampleTable('account')],
      relationships: [],
      readAt: now,
    });
    await p.deps.sync.activations.put('unreachable', { state: 'active', tables: ['account'], activatedAt: now });
    const batch: ChangeBatch = {
      schemaVersion: CHANGE_BATCH_SCHEMA_VERSION,
      profile: 'unreachable',
      table: 'account',
      batchId: 'u-retry-1',
      watermark: 1,
      upserts: [
        {
          kind: 'upsert',
          id: '00000000-0000-4000-8000-0000000000aa',
          versionNumber: 1,
          row: { name: 'waits for the database' },
        },
      ],
      deletes: [],
      attempt: 0,
      readAt: now,
    };
    const before = Date.now();
    const result = await applyChanges(p.deps.sync, batch, { messageId: 'retry-1', deliveryCount: 1 });
    expect(result).toMatchObject({ outcome: 'retry-scheduled', attempt: 1 });
    if (result.outcome === 'retry-scheduled')
      expect(result.deliverAt.getTime()).toBeGreaterThanOrEqual(before + 30_000);
    expect((await p.deps.sync.failedRecords.list('unreachable')).records).toEqual([]);

    // The last allowed attempt puts the row in the failed-records store instead.
    const last = await applyChanges(p.deps.sync, { ...batch, attempt: 2 }, { messageId: 'retry-3', deliveryCount: 1 });
    expect(last).toMatchObject({ outcome: 'failed', rows: 1 });
    expect((await p.deps.sync.failedRecords.list('unreachable')).records.map((record) => record.id)).toEqual([
      batch.upserts[0]?.id,
    ]);
  });
});
