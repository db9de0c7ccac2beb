import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLAIM_CHECK_CONTAINER } from '../../shared/queue/claim-checks';
import { FAILED_RECORDS_ROOT } from '../../shared/state/failed-records';
import { STATE_CONTAINER } from '../../shared/state/names';
import { UNPROCESSABLE_ROOT } from '../../shared/state/unprocessable-messages';

describe('host storage lifecycle rules', () => {
  const bicep = readFileSync(path.join(__dirname, '../../infra/modules/host-storage.bicep'), 'utf8');

  it('delete exactly the folders the code writes failed records, unprocessable messages and claim checks to', () => {
    expect(bicep).toContain(`'${STATE_CONTAINER}/${FAILED_RECORDS_ROOT}/'`);
    expect(bicep).toContain(`'${STATE_CONTAINER}/${UNPROCESSABLE_ROOT}/'`);
    expect(bicep).toContain(`'${CLAIM_CHECK_CONTAINER}/'`);
  });

  it('never match checkpoints, leases, profiles or activation snapshots', () => {
    const prefixes = [...bicep.matchAll(/'([a-z0-9-]+\/[a-z0-9-]*\/?)'/g)].map((match) => match[1] as string);
    for (const kept of ['profiles/', 'activations/', 'metadata/', 'leases/']) {
      for (const prefix of prefixes)
        expect(`${STATE_CONTAINER}/${kept}`.startsWith(prefix), `${prefix} would delete ${kept}`).toBe(false);
    }
  });
});
