/**
 * The emulator's `--state` file: loaded once at start, replaced after every write.
 *
 * Replaced, never rewritten in place: the new content goes to a temporary file in the same folder, is
 * flushed to disk, and is renamed over the old one (rename within one file system replaces atomically, as
 * POSIX rename(2) specifies). A process killed at any moment leaves either the previous or the new file,
 * never a truncated one. A file that is still unreadable (edited by hand, or cut short by a disk failure)
 * stops the start with what to do: silently starting from the generated org instead would lose the writes
 * a destination already holds and make its deltas disagree with it.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExportError } from '../../shared/errors';
import { OrgStore, type StoreOptions } from './store';
import { storeSnapshotSchema, type StoreSnapshot } from './store-snapshot';

export interface StateFileOptions extends Omit<StoreOptions, 'now'> {
  now?: () => number;
  statePath?: string;
}

function unreadable(statePath: string, reason: string, cause: unknown): ExportError {
  return new ExportError('config', `The emulator state file ${statePath} cannot be read: ${reason}`, {
    cause,
    where: statePath,
    fix: 'Delete the file to start from the generated sample org (the writes it held are lost; resync the profiles that read from this emulator), or start without --state.',
  });
}

function readSnapshot(statePath: string): StoreSnapshot {
  const text = readFileSync(statePath, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = text.trim() === '' ? 'it is empty' : `it is not JSON (${(error as Error).message})`;
    throw unreadable(statePath, reason, error);
  }
  const snapshot = storeSnapshotSchema.safeParse(parsed);
  if (!snapshot.success) throw unreadable(statePath, `it holds no emulator writes (${snapshot.error.message})`, null);
  return snapshot.data;
}

/** The store a start begins with: the generated org, plus the writes in `statePath` when that file exists. */
export function openStore(options: StateFileOptions): OrgStore {
  const fresh = new OrgStore({
    seed: options.seed,
    accounts: options.accounts,
    contacts: options.contacts,
    now: options.now,
  });
  if (options.statePath === undefined || !existsSync(options.statePath)) return fresh;
  const saved = OrgStore.restore(readSnapshot(options.statePath), options.now);
  if (
    saved.seed !== fresh.seed ||
    saved.counts.account !== fresh.counts.account ||
    saved.counts.contact !== fresh.counts.contact
  ) {
    throw new Error(
      `${options.statePath} holds writes for seed ${saved.seed} and ${saved.counts.account} accounts, ${saved.counts.contact} contacts; start with those, or delete the file`,
    );
  }
  return saved;
}

/** Replaces `statePath` with the store's writes: temporary file, fsync, rename, then fsync of the folder. */
export function saveStore(statePath: string, store: OrgStore): void {
  const folder = dirname(statePath);
  const temporary = join(folder, `.${basename(statePath)}.${process.pid}.tmp`);
  const descriptor = openSync(temporary, 'w');
  try {
    writeFileSync(descriptor, JSON.stringify(store.snapshot()));
    fsyncSync(descriptor);
  } catch (error) {
    closeSync(descriptor);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(descriptor);
  renameSync(temporary, statePath);
  // The rename itself is only durable once the folder's entry is flushed (fsync(2) on Linux says so); Windows
  // cannot open a folder for that, and its MoveFileEx replace is journaled by NTFS.
  if (process.platform === 'win32') return;
  const folderDescriptor = openSync(folder, 'r');
  try {
    fsyncSync(folderDescriptor);
  } finally {
    closeSync(folderDescriptor);
  }
}
