/**
 * `npm run bench [-- <name> [args…]]`: runs the named benchmark (all when none is named). Each benchmark
 * module `test/bench/<name>.ts` exports `run(args)` returning its figures; the runner adds what the run
 * would cost on Flex Consumption per million rows (test/bench/cost.ts), prints the figures as one JSON
 * object on the last output line and appends them to BENCHMARKS.md with the date, machine and load, commit,
 * the exact command and the target's verdict (test/bench/report.ts), so every figure there can be reproduced.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { costPerMillionRows, meterThisProcess, takeRecordedHostUsage, type ProcessUsage } from './cost';
import { commitLabel, formatEntry, machineFacts, oneMinuteLoad } from './report';

export const benchmarkNames = [
  'source',
  'initial-sync',
  'initial-sync-dataverse-like',
  'apply',
  'delta-latency',
  'memory',
  'start-memory',
  'scale-out',
  'lake',
  'queue',
  'state',
] as const;
type BenchmarkName = (typeof benchmarkNames)[number];
type Figures = Record<string, unknown>;

const repoRoot = path.resolve(__dirname, '../..');
const benchmarksFile = path.join(repoRoot, 'BENCHMARKS.md');

/** Benchmarks that run the product's own code inside this process: the process itself is what would be billed. */
const IN_PROCESS: ReadonlySet<BenchmarkName> = new Set(['apply', 'lake', 'source', 'queue']);

function commit(): string {
  try {
    const hash = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    // BENCHMARKS.md itself is left out: the entries this runner appends would make every later run dirty.
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!BENCHMARKS.md'], {
      cwd: repoRoot,
      encoding: 'utf8',
    }).trim();
    return commitLabel(hash, dirty !== '');
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** The rows a run synced, from its figures: `rows`, the delta writes, or the memory benchmark's two syncs. */
function rowsSynced(figures: Figures): number | undefined {
  const number = (value: unknown) => (typeof value === 'number' ? value : undefined);
  const nestedRows = (key: string) => number((figures[key] as Figures | undefined)?.rows);
  if (number(figures.rows) !== undefined) return number(figures.rows);
  if (number(figures.writesCommitted) !== undefined) return number(figures.writesCommitted);
  const small = nestedRows('small');
  const large = nestedRows('large');
  if (small !== undefined && large !== undefined) return small + large;
  if (number(figures.batches) !== undefined && number(figures.rowsPerBatch) !== undefined)
    return (figures.batches as number) * (figures.rowsPerBatch as number);
  return undefined;
}

/** The cost figures for a run, unless the benchmark measured its own (delta-latency meters its window only). */
function costOf(name: BenchmarkName, figures: Figures, hosts: ProcessUsage[], self: ProcessUsage): unknown {
  if (figures.cost !== undefined) return figures.cost;
  const rows = rowsSynced(figures);
  if (rows === undefined) return { notMeasured: 'the benchmark reports no rows synced' };
  if (hosts.length > 0) return costPerMillionRows(rows, `${hosts.length} host process(es)`, hosts);
  if (IN_PROCESS.has(name))
    return costPerMillionRows(rows, 'the benchmark process (the product code runs in it)', [self]);
  return { notMeasured: 'the product runs in processes this benchmark does not meter' };
}

async function record(name: BenchmarkName, figures: Figures, args: string[], loadAtStart: number): Promise<void> {
  if (!existsSync(benchmarksFile)) {
    await writeFile(
      benchmarksFile,
      '# Benchmarks\n\nAppended by `npm run bench`; newest last. Each entry names the command that reproduces it.\n',
    );
  }
  const entry = formatEntry({
    name,
    date: new Date().toISOString(),
    command: ['npm run bench --', name, ...args].join(' '),
    commit: commit(),
    machine: machineFacts(loadAtStart, oneMinuteLoad()),
    figures,
  });
  const existing = await readFile(benchmarksFile, 'utf8');
  await appendFile(benchmarksFile, (existing.endsWith('\n') ? '' : '\n') + entry);
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
    const loadAtStart = oneMinuteLoad();
    takeRecordedHostUsage();
    const self = meterThisProcess();
    const measured = await benchmark.run(args);
    const figures = { ...measured, cost: costOf(name, measured, takeRecordedHostUsage(), self.stop()) };
    await record(name, figures, args, loadAtStart);
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
