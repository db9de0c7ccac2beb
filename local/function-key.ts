/**
 * The function key of `npm start`, kept in the data folder (mode 0600, like an SSH key) so a restarted run answers
 * to the same key as before and scripts and bookmarks keep working.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface StoredFunctionKey {
  key: string;
  /** True when this run made the key (and wrote it), false when an earlier run's key was read. */
  isNew: boolean;
  file: string;
}

export const FUNCTION_KEY_FILE = 'function-key';

export async function loadOrCreateFunctionKey(folder: string): Promise<StoredFunctionKey> {
  const file = path.join(folder, FUNCTION_KEY_FILE);
  const stored = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (stored !== '') {
    // An older copy may have been written with wider permissions (copied, restored from a backup): narrow them.
    await chmod(file, 0o600);
    return { key: stored, isNew: false, file };
  }
  const key = randomBytes(24).toString('base64url');
  // 'wx': never overwrite a key another run wrote in the meantime; mode applies when the file is created.
  await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, isNew: true, file };
}
