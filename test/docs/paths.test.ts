// Every repository path that docs/architecture.md, README.md and docs/notes/ name (in backticks or as a relative link) exists,
// so the map stays true when files move. A placeholder (`<kind>`, `*`, `{name}`) ends the part that is checked.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const DOCUMENTS = [
  'docs/architecture.md',
  'README.md',
  ...readdirSync(join(ROOT, 'docs', 'notes')).map((name) => `docs/notes/${name}`),
];
const TOP_FOLDERS = /^(shared|functions|local|test|docs|scripts|infra|console|\.ci)\//;
const ROOT_FILES = new Set([
  '.dependency-cruiser.cjs',
  'eslint.config.mjs',
  'local.settings.sample.json',
  'package.json',
  'host.json',
  'BENCHMARKS.md',
  'README.md',
]);
/** Output folders the docs name that are git-ignored, so absent from a fresh checkout. */
const GENERATED = new Set(['docs/screenshots/']);

/** The repository paths a markdown text names, each cut before its first placeholder segment. */
export function namedPaths(markdown: string): string[] {
  const candidates = [
    ...[...markdown.matchAll(/`([^`\s]+)`/g)].map((match) => match[1] ?? ''),
    ...[...markdown.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)].map((match) => match[1] ?? ''),
  ];
  const paths = new Set<string>();
  for (const candidate of candidates) {
    const path = candidate.replace(/:\d+$/, '').replace(/[.,;:]+$/, '');
    if ((!TOP_FOLDERS.test(path) && !ROOT_FILES.has(path)) || GENERATED.has(path)) continue;
    const segments = path.split('/');
    const placeholder = segments.findIndex((segment) => /[<*{]/.test(segment));
    paths.add(placeholder === -1 ? path : segments.slice(0, placeholder).join('/'));
  }
  return [...paths];
}

describe('paths named in the docs', () => {
  it('finds backticked paths and relative links, cut at placeholders', () => {
    const text =
      'See `shared/sync/nowhere.ts`, `shared/destinations/<kind>/config.ts`, [notes](docs/notes/x.md#part), ' +
      '`test/support/wait.ts:12`, `npm start`, `.data/local` and [web](https://example.com).';
    expect(namedPaths(text)).toEqual([
      'shared/sync/nowhere.ts',
      'shared/destinations',
      'test/support/wait.ts',
      'docs/notes/x.md',
    ]);
  });

  it('reads the paths of the map (the check below is not vacuous)', () => {
    for (const map of ['docs/architecture.md', 'README.md'])
      expect(namedPaths(readFileSync(join(ROOT, map), 'utf8')).length).toBeGreaterThan(20);
  });

  for (const document of DOCUMENTS) {
    it(`${document} names only paths that exist`, () => {
      const paths = namedPaths(readFileSync(join(ROOT, document), 'utf8'));
      expect(paths.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
    });
  }
});
