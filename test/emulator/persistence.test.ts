/** `--state`: the emulator's writes survive a restart, so a local run can stop and resume deltas. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../local/emulator/server';
import { sampleRowId, sampleTable } from '../../local/sample-org';
import { clientFor, collect, TOKEN, write } from '../dataverse/helpers';

const directory = mkdtempSync(join(tmpdir(), 'dataverse-emulator-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('emulator state file', () => {
  it('restores writes, tombstones and the version counter after a restart', async () => {
    const statePath = join(directory, 'writes.json');
    const account = sampleTable('account');
    const first = await startEmulator({ seed: 2, accounts: 300, token: TOKEN, statePath });
    const deltaLink = (await collect(clientFor(first.baseUrl).initialLoad(account))).at(-1)!.deltaLink!;
    await write(first.baseUrl, 'PATCH', `accounts(${sampleRowId(2, 'account', 4)})`, { name: 'Kept across restarts' });
    await write(first.baseUrl, 'DELETE', `accounts(${sampleRowId(2, 'account', 5)})`);
    await write(first.baseUrl, 'POST', 'accounts', {
      accountid: '6f1c1d7e-0000-4000-a000-000000000001',
      name: 'Created',
    });
    const version = first.store.currentVersion;
    await first.close();

    const second = await startEmulator({ seed: 2, accounts: 300, token: TOKEN, statePath });
    try {
      expect(second.store.currentVersion).toBe(version);
      const relinked = deltaLink.replace(first.baseUrl, second.baseUrl);
      const [page] = await collect(clientFor(second.baseUrl).readDelta(account, relinked));
      expect(page!.changes.map((change) => [change.kind, change.id])).toEqual([
        ['upsert', sampleRowId(2, 'account', 4)],
        ['upsert', '6f1c1d7e-0000-4000-a000-000000000001'],
        ['delete', sampleRowId(2, 'account', 5)],
      ]);
      const all = (await collect(clientFor(second.baseUrl).initialLoad(account))).flatMap((p) => p.changes);
      expect(all).toHaveLength(300);
    } finally {
      await second.close();
    }
    await expect(startEmulator({ seed: 3, accounts: 300, statePath })).rejects.toThrow(/seed 2 and 300 accounts/);
    await expect(startEmulator({ seed: 2, accounts: 300, contacts: 10, statePath })).rejects.toThrow(/450 contacts/);
  });
});
