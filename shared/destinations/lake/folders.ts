/**
 * Incremental mode's time folders: `Changelog/changelog.info` names the folder changes go to now; finished
 * folders stay beside it, oldest first by name.
 */
import { ExportError } from '../../errors';
import { isConflict } from './manifest';
import { CHANGELOG, parseTimeFolderName, timeFolderName } from './paths';
import type { LakeState } from './state';
import { guarded, readText, writeText } from './storage';

/** The folder changes go to now, with the changelog's etag (a rollover moves it on only if nobody else did). */
export async function currentFolder(
  state: Pick<LakeState, 'container' | 'containerName'>,
): Promise<{ folder: string; etag: string }> {
  const changelog = await readText(state.container, CHANGELOG);
  const folder = changelog?.text.trim();
  if (!changelog || !folder || !parseTimeFolderName(folder)) {
    throw new ExportError('config', `${CHANGELOG} is missing or does not name a folder.`, {
      where: `${state.containerName}/${CHANGELOG}`,
      fix: 'Activate the profile (ensureTables), which starts the first folder.',
    });
  }
  return { folder, etag: changelog.etag };
}

/** Names the first folder unless a changelog exists already (another instance may create it at the same time). */
export async function startChangelog(state: Pick<LakeState, 'container' | 'clock'>): Promise<void> {
  if (await readText(state.container, CHANGELOG)) return;
  await writeText(state.container, CHANGELOG, timeFolderName(state.clock()), null).catch((error: unknown) => {
    if (!isConflict(error)) throw error;
  });
}

/** The time folders, oldest first, the one being written included. */
export async function timeFolders(state: Pick<LakeState, 'container' | 'containerName'>): Promise<string[]> {
  return guarded(state.containerName, async () => {
    const folders: string[] = [];
    for await (const item of state.container.listBlobsByHierarchy('/')) {
      const name = item.name.replace(/\/$/, '');
      if (item.kind === 'prefix' && parseTimeFolderName(name)) folders.push(name);
    }
    return folders.sort();
  });
}
