/**
 * Small .NET console tools kept under test/tools/ (each a folder with a .csproj) that tests run: found, built
 * once per source version into node_modules/.cache (restored packages too, never under git) and run.
 * Without a .NET SDK the tests that need one are skipped with a message, unless DVX_REQUIRE_TOOLS=1 (set by
 * .ci/run), where a missing SDK fails them: CI must never pass by skipping.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { toolsCacheDir, toolsRequired } from './nuget-package';

const run = promisify(execFile);
const repoRoot = join(__dirname, '..', '..');
const cacheRoot = join(toolsCacheDir(), 'built');
/** A build normally takes 10-40 s; a lock older than this belongs to a run that died mid-build. */
const STALE_LOCK_MS = 10 * 60_000;
const dotnetEnv = {
  ...process.env,
  DOTNET_CLI_TELEMETRY_OPTOUT: '1',
  DOTNET_NOLOGO: '1',
  DOTNET_SKIP_FIRST_TIME_EXPERIENCE: '1',
};

/** The SDK's major version (10 for 10.0.401), or undefined when no `dotnet` SDK runs here. */
function sdkMajor(): number | undefined {
  try {
    const version = execFileSync('dotnet', ['--version'], {
      env: dotnetEnv,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const major = Number(version.trim().split('.')[0]);
    return Number.isInteger(major) && major >= 8 ? major : undefined;
  } catch {
    return undefined;
  }
}

const major = sdkMajor();

export const DOTNET_MISSING =
  'No .NET SDK (8 or newer) on PATH: install one (https://learn.microsoft.com/dotnet/core/install/linux) to run ' +
  'this check. CI sets DVX_REQUIRE_TOOLS=1, where a missing SDK fails the test instead of skipping it.';

/**
 * Whether the tests needing `dotnet` are skipped here: only when it is missing and not required. Where it is
 * required and missing, the tests run and fail in `buildDotnetTool` with the same message.
 */
export function skipWithoutDotnet(): boolean {
  if (major !== undefined || toolsRequired()) return false;
  console.warn(DOTNET_MISSING);
  return true;
}

function sourceHash(projectDir: string, files: string[]): string {
  const hash = createHash('sha256').update(`net${major}.0\n`);
  for (const file of files) hash.update(`${file}\n`).update(readFileSync(join(projectDir, file)));
  return hash.digest('hex').slice(0, 16);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes a directory lock (mkdir is atomic), so two test files starting at once build the tool only once. */
async function withLock<T>(lock: string, work: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - since > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      await sleep(500);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Builds test/tools/<name> (unless this version of its sources is built already) and returns the path of its
 * .dll. Restore and build errors are thrown with dotnet's own output.
 */
export async function buildDotnetTool(name: string): Promise<string> {
  if (major === undefined) throw new Error(DOTNET_MISSING);
  const projectDir = join(repoRoot, 'test', 'tools', name);
  const files = readdirSync(projectDir)
    .filter((file) => /\.(csproj|cs)$/.test(file))
    .sort();
  const buildDir = join(cacheRoot, `${name}-${sourceHash(projectDir, files)}`);
  const dll = join(buildDir, 'out', `${files.find((file) => file.endsWith('.csproj'))!.replace(/\.csproj$/, '')}.dll`);
  const done = join(buildDir, 'built');
  if (existsSync(done)) return dll;
  mkdirSync(cacheRoot, { recursive: true });
  return withLock(`${buildDir}.lock`, async () => {
    if (existsSync(done)) return dll;
    rmSync(buildDir, { recursive: true, force: true });
    // The sources are copied out so bin/ and obj/ never land in the work tree.
    for (const file of files) cpSync(join(projectDir, file), join(buildDir, 'src', file));
    const args = [
      'build',
      join(buildDir, 'src'),
      '-c',
      'Release',
      '-o',
      join(buildDir, 'out'),
      '--packages',
      join(cacheRoot, 'packages'),
      `-p:TargetFramework=net${major}.0`,
      '-nologo',
      '-v',
      'q',
    ];
    try {
      await run('dotnet', args, { env: dotnetEnv, maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`dotnet ${args.join(' ')} failed:\n${stdout}${stderr}`, { cause: error });
    }
    writeFileSync(done, new Date().toISOString());
    return dll;
  });
}

/** Runs a built tool; resolves with its exit code and output instead of throwing on a non-zero exit. */
export async function runDotnetTool(
  dll: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('dotnet', [dll, ...args], { env: dotnetEnv, maxBuffer: 256 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout = '', stderr = '' } = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof code !== 'number') throw error;
    return { code, stdout, stderr };
  }
}
