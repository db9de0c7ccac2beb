/**
 * `npm run bench [-- <name>…]`: runs the named benchmarks (all when none is named). Each benchmark module
 * `test/bench/<name>.ts` exports `run(args)` returning its figures; the runner prints them as one JSON
 * object on the last output line and appends them to BENCHMARKS.md with the date, machine, commit and
 * the exact command, so every figure there can be reproduced.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const benchmarkNames = [
  'source',
  'initial-sync',
  'initial-sync-dataverse-like',
  'apply',
  'delta-latency',
  'memory',
  'scale-out',
  'lake',
  'queue',
  'state',
] as const;
type BenchmarkName = (typeof benchmarkNames)[number];
type Figures = Record<string, unknown>;

const repoRoot = path.resolve(__dirname, '../..');
const benchmarksFile = path.join(repoRoot, 'BENCHMARKS.md');

function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

function commit(): string {
  try {
    const hash = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: repoRoot,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${hash} (with uncommitted changes)` : hash;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

// Figures are numbers, strings, flags or objects (JSON); nothing else is recorded.
const formatValue = (value: unknown): string =>
  typeof value === 'object' ? JSON.stringify(value) : `${value as string | number | boolean}`;

async function record(name: BenchmarkName, figures: Figures, args: string[]): Promise<void> {
  if (!existsSync(benchmarksFile)) {
    await writeFile(
      benchmarksFile,
      '# Benchmarks\n\nAppended by `npm run bench`; newest last. Each entry names the command that reproduces it.\n',
    );
  }
  const command = ['npm run bench --', name, ...args].join(' ');
  const rows = Object.entries(figures).map(([key, value]) => `| ${key} | ${formatValue(value)} |`);
  const entry = [
    '',
    `## ${name} — ${new Date().toISOString()}`,
    '',
    `- Command: \`${command}\``,
    `- Machine: ${machine()}`,
    `- Commit: ${commit()}`,
    '',
    '| figure | value |',
    '|---|---|',
    ...rows,
    '',
  ];
  const existing = await readFile(benchmarksFile, 'utf8');
  await appendFile(benchmarksFile, (existing.endsWith('\n') ? '' : '\n') + entry.join('\n'));
}

async function main(): Promise<void> {
  const [first, ...rest] = process.argv.slice(2);
  const requested = first === undefined ? [...benchmarkNames] : [first];
  const args = first === undefined ? [] : rest;
  const unknown = requested.filter((name) => !(benchmarkNames as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(`Unknown benchmark '${unknown.join(', ')}'. Known: ${benchmarkNames.join(', ')}.`);
  }
  const results: Record<string, Figures> = {};
  const missing: string[] = [];
  for (const name of requested as BenchmarkName[]) {
    const modulePath = path.join(__dirname, `${name}.ts`);
    if (!existsSync(modulePath)) {
      missing.push(name);
      continue;
    }
    const benchmark = (await import(modulePath)) as { run(args: string[]): Promise<Figures> };
    process.stderr.write(`running benchmark '${name}'…\n`);
    const figures = await benchmark.run(args);
    await record(name, figures, args);
    results[name] = figures;
  }
  if (missing.length > 0) process.stderr.write(`not built yet, so not run: ${missing.join(', ')}\n`);
  process.stdout.write(
    `${JSON.stringify(requested.length === 1 ? (results[requested[0] as string] ?? {}) : results)}\n`,
  );
  if (missing.length === requested.length) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
