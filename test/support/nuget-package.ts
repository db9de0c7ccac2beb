/**
 * Restores one NuGet package with the machine's own `dotnet` into a cache folder and returns the package's
 * folder (`<cache>/<id lower case>/<version>/`), for tests that need a tool shipped as a NuGet package
 * (the Bicep CLI, ScriptDom). Nothing is downloaded by hand: `dotnet restore` does what a .NET user's
 * build would do, from the NuGet sources the machine is configured with.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Git-ignored (node_modules/), next to the other tool caches; DVX_TOOLS_CACHE moves it. */
export function toolsCacheDir(): string {
  return process.env.DVX_TOOLS_CACHE ?? join(__dirname, '..', '..', 'node_modules', '.cache', 'dvx-tools');
}

/** Set by .ci/run: a verification tool that cannot be found fails the test instead of skipping it. */
export function toolsRequired(): boolean {
  return process.env.DVX_REQUIRE_TOOLS === '1';
}

export async function dotnetVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await run('dotnet', ['--version'], { timeout: 60_000 });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * `PackageDownload` fetches the package without resolving it for a target framework (the package may hold only
 * native tools); the exact-version range `[x]` is what PackageDownload requires.
 */
function restoreProject(id: string, version: string): string {
  return [
    '<Project Sdk="Microsoft.NET.Sdk">',
    '  <PropertyGroup><TargetFramework>netstandard2.0</TargetFramework></PropertyGroup>',
    `  <ItemGroup><PackageDownload Include="${id}" Version="[${version}]" /></ItemGroup>`,
    '</Project>',
    '',
  ].join('\n');
}

/**
 * Test files run in parallel processes: each restores into its own scratch folder and renames the result into
 * place; a rename that loses the race leaves the winner's identical copy.
 */
export async function restoreNuGetPackage(id: string, version: string, cacheDir = toolsCacheDir()): Promise<string> {
  const packagesDir = join(cacheDir, 'nuget');
  const folder = join(packagesDir, id.toLowerCase(), version);
  const complete = join(folder, '.nupkg.metadata');
  if (existsSync(complete)) return folder;
  await mkdir(packagesDir, { recursive: true });
  const scratch = await mkdtemp(join(cacheDir, 'restore-'));
  try {
    const project = join(scratch, 'restore.csproj');
    await writeFile(project, restoreProject(id, version));
    try {
      await run(
        'dotnet',
        ['restore', project, '--packages', join(scratch, 'packages'), '--nologo', '--verbosity', 'quiet'],
        {
          timeout: 300_000,
          maxBuffer: 16 * 1024 * 1024,
          env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' },
        },
      );
    } catch (error) {
      const output = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `dotnet restore of ${id} ${version} failed: ${(output.stdout ?? '') + (output.stderr ?? '') || output.message}`,
        { cause: error },
      );
    }
    const restored = join(scratch, 'packages', id.toLowerCase(), version);
    if (!existsSync(join(restored, '.nupkg.metadata')))
      throw new Error(`dotnet restore did not produce ${id} ${version} in ${restored}`);
    await mkdir(join(packagesDir, id.toLowerCase()), { recursive: true });
    try {
      await rename(restored, folder);
    } catch (error) {
      if (!existsSync(complete)) throw error;
    }
    return folder;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
