/**
 * Picks the data folder of an `npm start` run (Azurite, PGlite, the emulator's writes): the persistent
 * `<root>/local`, so a restarted run finds its checkpoints and data again, unless another running start holds it —
 * then a folder of this run's own, so two runs never share files.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface DataFolder {
  location: string;
  shared: boolean;
  release(): Promise<void>;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Folders of runs that were killed before they could remove their own. */
async function removeAbandonedRunFolders(root: string): Promise<void> {
  for (const name of await readdir(root)) {
    const pid = /^run-(\d+)$/.exec(name)?.[1];
    if (pid !== undefined && !isAlive(Number(pid))) await rm(path.join(root, name), { recursive: true, force: true });
  }
}

export async function claimDataFolder(root: string): Promise<DataFolder> {
  const location = path.join(root, 'local');
  await mkdir(location, { recursive: true });
  await removeAbandonedRunFolders(root);
  const lock = path.join(location, '.owner-pid');
  const owner = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
    const own = path.join(root, `run-${process.pid}`);
    await mkdir(own, { recursive: true });
    return { location: own, shared: false, release: () => rm(own, { recursive: true, force: true }) };
  }
  await writeFile(lock, String(process.pid));
  return { location, shared: true, release: () => rm(lock, { force: true }) };
}
