// Finds the Bicep CLI for a test file and compiles infra/ with it into a scratch folder. Without a CLI the
// tests skip with the install hint, unless DVX_REQUIRE_TOOLS=1 (.ci/run) makes a missing CLI a failure.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBicepCli, runBicep, type BicepCli, type BicepRun } from '../support/bicep-cli';
import { toolsRequired } from '../support/nuget-package';
import type { ArmTemplate } from './arm-rules';

export const repoRoot = join(__dirname, '..', '..');
export const infraRoot = join(repoRoot, 'infra');

/** The CLI, or undefined after saying why the Bicep tests are skipped. */
export async function bicepForTests(): Promise<BicepCli | undefined> {
  const lookup = await findBicepCli();
  if ('missing' in lookup) {
    if (toolsRequired()) throw new Error(`${lookup.missing} DVX_REQUIRE_TOOLS=1 makes this a failure.`);
    console.warn(`Bicep CLI tests SKIPPED: ${lookup.missing}`);
    return undefined;
  }
  console.log(`${lookup.found.version} (from ${lookup.found.source}: ${lookup.found.path})`);
  return lookup.found;
}

export interface Compiled {
  build: BicepRun;
  /** Compiled ARM JSON per source, keyed by the path relative to the infra folder with `.json` (`modules/lake.json`). */
  read(path: string): ArmTemplate | undefined;
  dispose(): Promise<void>;
}

/** `bicep build` of every `.bicep` under `root` matching `pattern` (one CLI start), output in a scratch folder. */
export async function buildAll(cli: BicepCli, root = infraRoot, pattern = '**/*.bicep'): Promise<Compiled> {
  const outDir = await mkdtemp(join(tmpdir(), 'dvx-bicep-'));
  const build = await runBicep(cli, ['build', '--pattern', pattern, '--outdir', outDir], root);
  return {
    build,
    read: (path) => {
      const file = join(outDir, path);
      return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ArmTemplate) : undefined;
    },
    dispose: () => rm(outDir, { recursive: true, force: true }),
  };
}

export function lintAll(cli: BicepCli, root = infraRoot): Promise<BicepRun> {
  return runBicep(cli, ['lint', '--pattern', '**/*.bicep'], root);
}

/**
 * For a test file's beforeAll: the CLI, and infra/ compiled with it (`main.json` read out), or nothing where no
 * CLI exists and none is required (the tests then skip).
 */
export async function compileInfraForTests(
  pattern?: string,
): Promise<{ cli?: BicepCli; compiled?: Compiled; main?: ArmTemplate }> {
  const cli = await bicepForTests();
  if (!cli) return {};
  const compiled = await buildAll(cli, infraRoot, pattern);
  return { cli, compiled, main: compiled.read('main.json') };
}
