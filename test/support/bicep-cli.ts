/**
 * Finds the real Bicep CLI the way a user would have it: `bicep` on PATH, then the copy the Azure CLI
 * installs (`az bicep install` puts it in $AZURE_CONFIG_DIR/bin, default ~/.azure/bin), else the NuGet package
 * Azure.Bicep.CommandLine.linux-x64 restored with `dotnet` (its tools/ folder holds the native `bicep`).
 */
import { execFile } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dotnetVersion, restoreNuGetPackage } from './nuget-package';

const run = promisify(execFile);

export const BICEP_PACKAGE = { id: 'Azure.Bicep.CommandLine.linux-x64', version: '0.49.2' } as const;

export interface BicepCli {
  path: string;
  /** First line of `bicep --version`, e.g. `Bicep CLI version 0.49.2 (b34271ac51)`. */
  version: string;
  source: 'PATH' | 'az' | 'nuget';
}

export type BicepLookup = { found: BicepCli } | { missing: string };

export const bicepInstallHint =
  'Install the Bicep CLI (`az bicep install`, or a `bicep` binary on PATH), or the .NET SDK so the test can restore ' +
  `NuGet package ${BICEP_PACKAGE.id} ${BICEP_PACKAGE.version}.`;

async function versionOf(path: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(path, ['--version'], { timeout: 60_000 });
    return stdout.trim().split('\n')[0] || undefined;
  } catch {
    return undefined;
  }
}

async function fromAzureCli(): Promise<string | undefined> {
  try {
    await run('az', ['bicep', 'version'], { timeout: 120_000 });
  } catch {
    return undefined;
  }
  const path = join(process.env.AZURE_CONFIG_DIR ?? join(homedir(), '.azure'), 'bin', 'bicep');
  return existsSync(path) ? path : undefined;
}

async function fromNuGet(): Promise<string | undefined> {
  if (process.platform !== 'linux' || process.arch !== 'x64' || !(await dotnetVersion())) return undefined;
  const folder = await restoreNuGetPackage(BICEP_PACKAGE.id, BICEP_PACKAGE.version);
  const path = join(folder, 'tools', 'bicep');
  // NuGet extracts files without the execute bits the package was built with.
  await chmod(path, 0o755);
  return path;
}

export async function findBicepCli(): Promise<BicepLookup> {
  const onPath = await versionOf('bicep');
  if (onPath) return { found: { path: 'bicep', version: onPath, source: 'PATH' } };
  const az = await fromAzureCli();
  const azVersion = az ? await versionOf(az) : undefined;
  if (az && azVersion) return { found: { path: az, version: azVersion, source: 'az' } };
  const restored = await fromNuGet();
  const restoredVersion = restored ? await versionOf(restored) : undefined;
  if (restored && restoredVersion) return { found: { path: restored, version: restoredVersion, source: 'nuget' } };
  return {
    missing: `No Bicep CLI: not on PATH, not installed by the Azure CLI, and no dotnet to restore it. ${bicepInstallHint}`,
  };
}

export interface BicepDiagnostic {
  file: string;
  line: number;
  column: number;
  level: 'Error' | 'Warning' | 'Info';
  code: string;
  message: string;
}

export interface BicepRun {
  diagnostics: BicepDiagnostic[];
  /** Output lines that are not diagnostics (a crash, a usage error): reported as they are. */
  other: string[];
  exitCode: number;
}

// Default diagnostics format: `<file>(<line>,<col>) : <Level> <code>: <message>`.
const diagnosticLine = /^(.+)\((\d+),(\d+)\) : (Error|Warning|Info) ([^:]+): (.*)$/;

export function parseDiagnostics(output: string): Pick<BicepRun, 'diagnostics' | 'other'> {
  const diagnostics: BicepDiagnostic[] = [];
  const other: string[] = [];
  for (const line of output
    .split('\n')
    .map((text) => text.trimEnd())
    .filter((text) => text !== '')) {
    const match = diagnosticLine.exec(line);
    if (!match) {
      other.push(line);
      continue;
    }
    const [, file = '', row = '0', column = '0', level, code = '', message = ''] = match;
    diagnostics.push({
      file,
      line: Number(row),
      column: Number(column),
      level: level as BicepDiagnostic['level'],
      code,
      message,
    });
  }
  return { diagnostics, other };
}

/** Runs the CLI in `cwd`; a non-zero exit is a result (errors found), not a throw. */
export async function runBicep(cli: BicepCli, args: string[], cwd: string): Promise<BicepRun> {
  try {
    const { stdout, stderr } = await run(cli.path, args, { cwd, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
    return { ...parseDiagnostics(`${stdout}\n${stderr}`), exitCode: 0 };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: number | string };
    if (typeof failed.code !== 'number') throw error;
    return { ...parseDiagnostics(`${failed.stdout ?? ''}\n${failed.stderr ?? ''}`), exitCode: failed.code };
  }
}

export function formatDiagnostic(diagnostic: BicepDiagnostic): string {
  return `${diagnostic.file}(${diagnostic.line},${diagnostic.column}) ${diagnostic.level} ${diagnostic.code}: ${diagnostic.message}`;
}
