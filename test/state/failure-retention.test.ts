import { InvocationContext, type Timer } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { createFunctionDeps } from '../../functions/deps';
import { failureRetention } from '../../functions/failure-retention';
import { functionTable } from '../../functions/table';
import type { FailedRecord } from '../../shared/state/failed-records';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();
const DAY = 86_400_000;
const timer: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: { last: '', next: '', lastUpdated: '' },
};

const failure = (index: number, failedAt: Date): FailedRecord => ({
  profile: 'retention',
  table: 'account',
  id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
  changeType: 'delete',
  failedAt: failedAt.toISOString(),
  reason: 'row rejected',
  errorClass: 'data',
  attempt: 1,
  batchId: `batch-${index}`,
});

describe('the failureRetention timer', () => {
  it('is in the function table on its own schedule setting', () => {
    expect(functionTable).toContain(failureRetention);
    expect(failureRetention.schedule).toBe('%FAILURE_RETENTION_SCHEDULE%');
  });

  it('deletes failed records older than FAILED_RECORD_RETENTION_DAYS and keeps newer ones', async () => {
    const deps = createFunctionDeps(
      { AzureWebJobsStorage: azurite.connectionString, FAILED_RECORD_RETENTION_DAYS: '10' },
      () => {
        throw new Error('the timer starts no orchestration');
      },
    );
    const now = new Date('2026-11-21T12:00:00.000Z');
    await deps.sync.failedRecords.record([
      failure(1, new Date(now.getTime() - 11 * DAY)),
      failure(2, new Date(now.getTime() - 9 * DAY)),
    ]);
    const context = new InvocationContext({ functionName: failureRetention.name, invocationId: 'retention-test' });
    await failureRetention.handler({ ...deps, sync: { ...deps.sync, now: () => now } })(timer, context);
    const left = (await deps.sync.failedRecords.list('retention', {})).records.map((record) => record.id);
    expect(left).toEqual([failure(2, now).id]);
  });
});
