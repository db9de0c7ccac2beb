/**
 * `npm run bench -- start-memory [--seconds S] [--keep-data]`: `npm start` as an admin runs it first (the
 * default sample org, a fresh `--data` folder, so the embedded database is created), sampled every second
 * from /proc for `--seconds` (default 100, at least 100): the resident set of the npm start process itself, of
 * every process under it (Azurite, tsx's esbuild service, the embedded database's initdb while it runs, and
 * anything those start) and their sum, at 100 s, at the end and at their peak. Target: the whole tree ≤ 500 MB
 * at 100 s (and still at the end), with the initial sync done.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runStart } from '../support/start-process';
import { meterProcess } from './cost';
import { maxOf } from './stats';
import { option } from './sample-upserts';

const TARGET_MB = 500;
const TARGET_AT_SECONDS = 100;

/** Resident set (VmRSS) in MB and the command's name, from /proc; undefined once the process has gone. */
function residentMb(pid: number): { mb: number; name: string } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    // The script (or binary) a process runs says what it is: start-initdb.cjs, run-azurite.cjs, esbuild.
    const script = args.find((arg, index) => index > 0 && /\.(c?js|ts)$/.test(arg)) ?? args[0] ?? '?';
    return kb === undefined ? undefined : { mb: Number(kb) / 1024, name: path.basename(script) };
  } catch {
    return undefined;
  }
}

/** Every process under `pid` (children, their children, …), from the parent pid in /proc/<pid>/stat. */
function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const parent = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      parents.set(Number(entry), parent);
    } catch {
      // Gone between the listing and the read.
    }
  }
  const found: number[] = [];
  const under = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [child, parent] of parents)
      if (under.has(parent) && !under.has(child)) {
        under.add(child);
        found.push(child);
        grew = true;
      }
  }
  return found;
}

interface Sample {
  atSeconds: number;
  mainMb: number;
  treeMb: number;
  children: Record<string, number>;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const seconds = Math.max(TARGET_AT_SECONDS, option(args, 'seconds', TARGET_AT_SECONDS));
  const data = await mkdtemp(path.join(os.tmpdir(), 'dvx-start-memory-'));
  const start = runStart(['--data', data, '--port', '0', '--psql-port', '0']);
  const pid = start.child.pid as number;
  const cpu = meterProcess(pid);
  const samples: Sample[] = [];
  const started = performance.now();
  try {
    while ((performance.now() - started) / 1000 < seconds) {
      await sleep(1_000);
      if (start.child.exitCode !== null)
        throw new Error(`npm start exited with ${start.child.exitCode}:\n${start.stderr()}`);
      const main = residentMb(pid);
      if (!main) continue;
      const children: Record<string, number> = {};
      for (const child of descendantsOf(pid)) {
        const usage = residentMb(child);
        if (usage) children[usage.name] = Math.round((children[usage.name] ?? 0) + usage.mb);
      }
      const childrenMb = Object.values(children).reduce((sum, mb) => sum + mb, 0);
      samples.push({
        atSeconds: Math.round((performance.now() - started) / 1000),
        mainMb: Math.round(main.mb),
        treeMb: Math.round(main.mb + childrenMb),
        children,
      });
    }
  } finally {
    const usage = cpu.stop();
    start.child.kill('SIGINT');
    await Promise.race([start.exited, sleep(30_000)]);
    if (start.child.exitCode === null) start.child.kill('SIGKILL');
    if (!args.includes('--keep-data')) await rm(data, { recursive: true, force: true });
    samples.push({ atSeconds: -1, mainMb: NaN, treeMb: NaN, children: { cpuSeconds: usage.cpuSeconds } });
  }
  const cpuSeconds = samples.pop()?.children.cpuSeconds ?? NaN;
  const last = samples.at(-1);
  if (!last) throw new Error('npm start was never sampled');
  const syncDone = start.stdout().includes('Initial sync done');
  const atTarget = samples.find((sample) => sample.atSeconds >= TARGET_AT_SECONDS) ?? last;
  return {
    benchmark: 'start-memory',
    command: 'npm start -- --data <fresh temp folder> --port 0 --psql-port 0 (default sample org)',
    seconds,
    initialSyncDone: syncDone,
    [`treeRssMbAt${TARGET_AT_SECONDS}s`]: atTarget.treeMb,
    [`mainRssMbAt${TARGET_AT_SECONDS}s`]: atTarget.mainMb,
    [`childrenRssMbAt${TARGET_AT_SECONDS}s`]: atTarget.children,
    mainRssMbAtEnd: last.mainMb,
    treeRssMbAtEnd: last.treeMb,
    childrenRssMbAtEnd: last.children,
    mainRssMbPeak: maxOf(
      samples.map((sample) => sample.mainMb),
      0,
    ),
    treeRssMbPeak: maxOf(
      samples.map((sample) => sample.treeMb),
      0,
    ),
    treeRssMbEvery10Seconds: samples.filter((sample) => sample.atSeconds % 10 === 0).map((sample) => sample.treeMb),
    mainProcessCpuSeconds: cpuSeconds,
    target: `the whole npm start process tree <= ${TARGET_MB} MB at ${TARGET_AT_SECONDS} s and at the end (${seconds} s), initial sync done`,
    targetMet: syncDone && atTarget.treeMb <= TARGET_MB && last.treeMb <= TARGET_MB,
  };
}
