import { describe, expect, it } from 'vitest';
import { commitLabel, formatEntry, targetLine, type MachineFacts } from '../bench/report';

const machine: MachineFacts = {
  cpuModel: 'Test CPU',
  cores: 2,
  memoryGiB: 24,
  node: 'v20.20.2',
  platform: 'linux 6.1',
  loadAtStart: 1.5,
  loadAtEnd: 3.25,
};

describe('BENCHMARKS.md entries', () => {
  it('marks a commit with uncommitted changes as dirty', () => {
    expect(commitLabel('abc1234', false)).toBe('abc1234');
    expect(commitLabel('abc1234', true)).toBe('abc1234-dirty');
  });

  it('says whether the target was met, not met, or not judged', () => {
    expect(targetLine({ target: 'p99 <= 2000 ms', targetMet: true })).toBe('p99 <= 2000 ms — met');
    expect(targetLine({ target: 'p99 <= 2000 ms', targetMet: false })).toBe('p99 <= 2000 ms — NOT met');
    expect(targetLine({ target: 'ratio >= 0.7' })).toBe(
      'ratio >= 0.7 — not judged by the benchmark (compare the figures)',
    );
    expect(targetLine({})).toBe('none stated');
  });

  it('writes command, machine with its load, commit, target and one table row per figure', () => {
    const entry = formatEntry({
      name: 'delta-latency',
      date: '2026-12-02T01:00:00.000Z',
      command: 'npm run bench -- delta-latency --rate 1000',
      commit: 'abc1234-dirty',
      machine,
      figures: { p99: 1800, latencyMs: { p50: 900 }, note: 'a | b', target: 'p99 <= 2000 ms', targetMet: true },
    });
    expect(entry.split('\n')).toEqual([
      '',
      '## delta-latency — 2026-12-02T01:00:00.000Z',
      '',
      '- Command: `npm run bench -- delta-latency --rate 1000`',
      '- Machine: 2 cores (Test CPU), 24 GiB, Node v20.20.2, linux 6.1; load average 1.5 at the start, 3.25 at the end',
      '- Commit: abc1234-dirty',
      '- Target: p99 <= 2000 ms — met',
      '',
      '| figure | value |',
      '|---|---|',
      '| p99 | 1800 |',
      '| latencyMs | {"p50":900} |',
      '| note | a \\| b |',
      '| target | p99 <= 2000 ms |',
      '| targetMet | true |',
      '',
    ]);
  });
});
