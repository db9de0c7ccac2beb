// The layering rules in .dependency-cruiser.cjs, run through scripts/check-layers.ts exactly as `npm run lint` runs
// them, over small synthetic trees that mirror the repository's folder names: each forbidden import is reported
// under the rule named for it, and a tree that follows the layers passes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeViolation, findLayerViolations } from '../../scripts/check-layers';

const trees: string[] = [];

afterEach(() => {
  for (const tree of trees.splice(0)) rmSync(tree, { recursive: true, force: true });
});

/** Writes `files` (path → source) under a fresh temporary directory and returns the rules' findings for it. */
async function violationsIn(files: Record<string, string>) {
  const tree = mkdtempSync(join(tmpdir(), 'dvx-layers-'));
  trees.push(tree);
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(tree, path)), { recursive: true });
    writeFileSync(join(tree, path), source);
  }
  const roots = [...new Set(Object.keys(files).map((path) => path.split('/')[0] ?? path))];
  const violations = await findLayerViolations(tree, roots);
  return violations.map(({ rule, from, to }) => ({ rule, from, to }));
}

const ERRORS = { 'shared/errors.ts': 'export class ExportError extends Error {}\n' };

describe('layering rules', () => {
  it('pass a tree in which every import points down the layers', async () => {
    const violations = await violationsIn({
      ...ERRORS,
      'functions/poll.ts': "import { poll } from '../shared/sync/poller';\nexport const run = poll;\n",
      'shared/sync/poller.ts': [
        "import { enqueue } from '../queue/messages';",
        "import { save } from '../state/checkpoints';",
        "import { write } from '../destinations/sql/destination';",
        'export const poll = () => [enqueue, save, write];',
        '',
      ].join('\n'),
      'shared/queue/messages.ts': "import { ExportError } from '../errors';\nexport const enqueue = ExportError;\n",
      'shared/state/checkpoints.ts': "import { days } from '../config/settings';\nexport const save = days;\n",
      'shared/destinations/sql/destination.ts':
        "import { model } from '../../schema/model';\nexport const write = model;\n",
      'shared/schema/model.ts': "import { read } from '../dataverse/client';\nexport const model = read;\n",
      'shared/dataverse/client.ts': "import { encode } from '../percent-encoding';\nexport const read = encode;\n",
      'shared/percent-encoding.ts': 'export const encode = encodeURIComponent;\n',
      'shared/config/settings.ts': "import { shape } from '../destinations/lake/config';\nexport const days = shape;\n",
      'shared/destinations/lake/config.ts': 'export const shape = 7;\n',
      'local/host.ts': "import { run } from '../functions/poll';\nexport const host = run;\n",
    });
    expect(violations).toEqual([]);
  });

  it('report queue importing sync, type-only imports included', async () => {
    const violations = await violationsIn({
      'shared/sync/change-batch.ts': 'export interface ChangeBatch { rows: number }\n',
      'shared/queue/messages.ts':
        "import type { ChangeBatch } from '../sync/change-batch';\nexport type M = ChangeBatch;\n",
    });
    expect(violations).toEqual([
      { rule: 'queue-not-to-sync', from: 'shared/queue/messages.ts', to: 'shared/sync/change-batch.ts' },
    ]);
  });

  it('report a two-file cycle under no-circular (once per cycle)', async () => {
    const violations = await violationsIn({
      'shared/schema/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
      'shared/schema/b.ts': "import { a } from './a';\nexport const b = () => a;\n",
    });
    expect(violations).toEqual([{ rule: 'no-circular', from: 'shared/schema/a.ts', to: 'shared/schema/b.ts' }]);
  });

  it('report a functions file importing shared/state', async () => {
    const violations = await violationsIn({
      'shared/state/failed-records.ts': 'export const list = () => [];\n',
      'functions/failures-list.ts':
        "import { list } from '../shared/state/failed-records';\nexport const run = list;\n",
    });
    expect(violations).toEqual([
      { rule: 'functions-not-to-state', from: 'functions/failures-list.ts', to: 'shared/state/failed-records.ts' },
    ]);
  });

  it.each([
    ['destinations-not-to-sync-or-state', 'shared/destinations/lake/writer.ts', 'shared/state/checkpoints.ts'],
    ['destinations-not-to-sync-or-state', 'shared/destinations/sql/writer.ts', 'shared/sync/runtime.ts'],
    ['state-not-to-sync', 'shared/state/checkpoints.ts', 'shared/sync/runtime.ts'],
    ['shared-not-to-functions-local-test', 'shared/sync/runtime.ts', 'functions/deps.ts'],
    ['shared-not-to-functions-local-test', 'shared/queue/create.ts', 'local/host/host.ts'],
    ['shared-not-to-functions-local-test', 'shared/schema/model.ts', 'test/support/pipeline.ts'],
    ['functions-not-to-local-test', 'functions/deps.ts', 'local/host/host.ts'],
    ['foundation-not-to-upper-layers', 'shared/storage/clients.ts', 'shared/state/names.ts'],
    ['foundation-not-to-upper-layers', 'shared/dataverse/client.ts', 'shared/sync/runtime.ts'],
    ['settings-not-to-upper-layers', 'shared/profile/profile.ts', 'shared/destinations/lake/destination.ts'],
    ['settings-not-to-upper-layers', 'shared/config/settings.ts', 'shared/storage/clients.ts'],
    ['destination-config-shapes-are-leaves', 'shared/destinations/lake/config.ts', 'shared/security/hosts.ts'],
    ['support-not-to-domain', 'shared/telemetry/logger.ts', 'shared/config/settings.ts'],
    ['leaves-import-nothing-of-ours', 'shared/errors.ts', 'shared/telemetry/logger.ts'],
  ])('report %s for %s importing %s', async (rule, from, to) => {
    const specifier = relativeSpecifier(from, to);
    const violations = await violationsIn({
      [to]: 'export const target = 1;\n',
      [from]: `import { target } from '${specifier}';\nexport const source = target;\n`,
    });
    expect(violations).toEqual([{ rule, from, to }]);
  });

  it('find nothing in the repository itself', async () => {
    const violations = await findLayerViolations(join(__dirname, '..', '..'));
    expect(violations.map(describeViolation)).toEqual([]);
  });
});

/** The relative import from one repository path to another, without the extension. */
function relativeSpecifier(from: string, to: string): string {
  const up = from.split('/').length - 1;
  return `${'../'.repeat(up)}${to.replace(/[.]ts$/, '')}`;
}
