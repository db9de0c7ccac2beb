/**
 * Run as a child process by state-file.test.ts: an emulator with `--state` whose store already holds
 * `ROWS` changed accounts (so every save writes megabytes), written to over HTTP in a loop until it is killed.
 */
import { startEmulator } from '../../local/emulator/server';
import { sampleRowId } from '../../local/sample-org';

async function main(): Promise<void> {
  const [statePath = '', rows = '3000'] = process.argv.slice(2);
  const emulator = await startEmulator({ seed: 4, accounts: Number(rows), token: 'writer', statePath });
  for (let index = 0; index < Number(rows); index++)
    emulator.store.update('account', sampleRowId(4, 'account', index), { name: 'x'.repeat(500) });
  for (let write = 0; ; write++) {
    const response = await fetch(`${emulator.baseUrl}accounts(${sampleRowId(4, 'account', write % Number(rows))})`, {
      method: 'PATCH',
      headers: { Authorization: 'Bearer writer', 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: `Write ${write}` }),
    });
    if (!response.ok) throw new Error(`write ${write} failed: ${response.status}`);
    if (write === 0) process.stdout.write('written\n');
  }
}

void main();
