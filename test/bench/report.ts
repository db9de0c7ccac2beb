/**
 * How a benchmark's figures are written down: one section of BENCHMARKS.md per run, naming the commit, the
 * machine (with its load at the start and the end, as the machine is often shared), the exact command and
 * whether the target was met, so every figure there can be reproduced and weighed.
 */
import os from 'node:os';

export interface MachineFacts {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  /** One-minute load averages when the benchmark started and ended. */
  loadAtStart: number;
  loadAtEnd: number;
}

export interface BenchmarkEntry {
  name: string;
  /** ISO time of the end of the run. */
  date: string;
  command: string;
  commit: string;
  machine: MachineFacts;
  figures: Record<string, unknown>;
}

/** `abc1234`, or `abc1234-dirty` when tracked files had uncommitted changes (the figures are then not that commit's). */
export const commitLabel = (hash: string, dirty: boolean): string => (dirty ? `${hash}-dirty` : hash);

export const oneMinuteLoad = (): number => Number((os.loadavg()[0] ?? 0).toFixed(2));

/** This machine, with the load averages the caller measured around the run. */
export function machineFacts(loadAtStart: number, loadAtEnd: number): MachineFacts {
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAtStart,
    loadAtEnd,
  };
}

export function machineLine(machine: MachineFacts): string {
  return (
    `${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}; ` +
    `load average ${machine.loadAtStart} at the start, ${machine.loadAtEnd} at the end`
  );
}

/**
 * The target and whether it was met: a benchmark states its target as `target` (text) and, where it can
 * judge it from its own figures, `targetMet` (a flag); otherwise the entry says it was not judged.
 */
export function targetLine(figures: Record<string, unknown>): string {
  const target = typeof figures.target === 'string' ? figures.target : undefined;
  if (target === undefined) return 'none stated';
  if (figures.targetMet === true) return `${target} — met`;
  if (figures.targetMet === false) return `${target} — NOT met`;
  return `${target} — not judged by the benchmark (compare the figures)`;
}

// Figures are numbers, strings, flags or objects (JSON); nothing else is recorded.
const formatValue = (value: unknown): string =>
  typeof value === 'object' ? JSON.stringify(value) : `${value as string | number | boolean}`;

/** A table cell: a `|` or a line break in a value would end the cell or the table. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** One BENCHMARKS.md section, starting and ending with a blank line. */
export function formatEntry(entry: BenchmarkEntry): string {
  const rows = Object.entries(entry.figures).map(([key, value]) => `| ${cell(key)} | ${cell(formatValue(value))} |`);
  return [
    '',
    `## ${entry.name} — ${entry.date}`,
    '',
    `- Command: \`${entry.command}\``,
    `- Machine: ${machineLine(entry.machine)}`,
    `- Commit: ${entry.commit}`,
    `- Target: ${targetLine(entry.figures)}`,
    '',
    '| figure | value |',
    '|---|---|',
    ...rows,
    '',
  ].join('\n');
}
