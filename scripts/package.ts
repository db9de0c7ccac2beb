// `npm run package`: builds the zip that is published to the Flex Consumption function app.
// Contents: host.json, package.json, the compiled JavaScript under dist/, the admin console's files (console/,
// served by functions/console.ts from beside package.json), and the production
// dependencies installed fresh from package-lock.json with `npm ci --omit=dev` in a staging folder.
// A fresh install (rather than pruning the working node_modules) guarantees the zip holds exactly the
// locked production tree, nothing that happened to be installed locally, and no devDependencies.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { z } from 'zod';
import { ExportError } from '../shared/errors';

export interface PackageOptions {
  projectRoot: string;
  outputZip: string;
  /** Emptied and reused; holds the production install that goes into the zip. */
  stagingDir: string;
  log: (line: string) => void;
}

export interface PackageResult {
  zipPath: string;
  entryCount: number;
  bytes: number;
}

const packageJsonSchema = z.object({ main: z.string().min(1) });

// A fixed entry timestamp keeps rebuilds of unchanged sources from differing by build time alone.
const entryTime = new Date('2020-01-01T00:00:00Z');

export async function buildPackage(options: PackageOptions): Promise<PackageResult> {
  const { projectRoot, stagingDir, log } = options;
  const manifest = packageJsonSchema.parse(JSON.parse(await readFile(join(projectRoot, 'package.json'), 'utf8')));
  for (const required of ['host.json', 'package-lock.json']) {
    if (!existsSync(join(projectRoot, required))) {
      throw new ExportError('config', `${required} is missing, so the package cannot be built`, {
        where: join(projectRoot, required),
        fix:
          required === 'host.json'
            ? 'add host.json at the repository root'
            : 'run `npm install` to create the lockfile',
      });
    }
  }

  log('building (npm run build) ...');
  // Stale output of deleted sources must not end up in the zip.
  await rm(join(projectRoot, 'dist'), { recursive: true, force: true });
  await run('npm', ['run', 'build'], projectRoot);
  const entryPoint = join(projectRoot, manifest.main);
  if (!existsSync(entryPoint)) {
    throw new ExportError('config', `package.json "main" (${manifest.main}) was not produced by the build`, {
      where: 'package.json main',
      fix: 'point "main" at the compiled composition root (functions/index.ts compiles to dist/functions/index.js)',
    });
  }

  log('installing production dependencies (npm ci --omit=dev) ...');
  await rm(stagingDir, { recursive: true, force: true });
  await mkdir(stagingDir, { recursive: true });
  for (const file of ['package.json', 'package-lock.json', 'host.json']) {
    await copyFile(join(projectRoot, file), join(stagingDir, file));
  }
  // No production dependency needs an install script, and skipping them keeps the install offline-safe.
  await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], stagingDir);

  const entries = [
    { path: 'host.json', source: join(stagingDir, 'host.json') },
    { path: 'package.json', source: join(stagingDir, 'package.json') },
    ...(await listFiles(join(projectRoot, 'dist')))
      .filter((path) => path.endsWith('.js'))
      .map((path) => ({ path: `dist/${path}`, source: join(projectRoot, 'dist', path) })),
    ...(await listFiles(join(projectRoot, 'console'))).map((path) => ({
      path: `console/${path}`,
      source: join(projectRoot, 'console', path),
    })),
    // .bin holds symlinks to CLIs; the function app never runs them.
    ...(await listFiles(join(stagingDir, 'node_modules')))
      .filter((path) => !path.startsWith('.bin/'))
      .map((path) => ({ path: `node_modules/${path}`, source: join(stagingDir, 'node_modules', path) })),
  ];

  log(`writing ${options.outputZip} (${entries.length} files) ...`);
  await mkdir(dirname(options.outputZip), { recursive: true });
  const zip = new ZipFile();
  for (const entry of entries) zip.addFile(entry.source, entry.path, { mtime: entryTime });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(options.outputZip));
  const { size } = await stat(options.outputZip);
  return { zipPath: options.outputZip, entryCount: entries.length, bytes: size };
}

/** Regular files below `root`, as sorted forward-slash paths relative to it; symlinks are skipped. */
async function listFiles(root: string): Promise<string[]> {
  const dirents = await readdir(root, { recursive: true, withFileTypes: true });
  return dirents
    .filter((dirent) => dirent.isFile())
    .map((dirent) => relative(root, join(dirent.parentPath, dirent.name)).split(sep).join('/'))
    .sort();
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // npm is a .cmd script on Windows, which only a shell can start.
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    let output = '';
    const keepTail = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keepTail);
    child.stderr.on('data', keepTail);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new ExportError('config', `\`${command} ${args.join(' ')}\` failed with exit code ${code}:\n${output}`, {
            where: cwd,
          }),
        );
    });
  });
}

if (require.main === module) {
  const projectRoot = join(__dirname, '..');
  buildPackage({
    projectRoot,
    outputZip: join(projectRoot, '.package', 'dataverse-export.zip'),
    stagingDir: join(projectRoot, '.package', 'staging'),
    log: (line) => console.log(line),
  }).then(
    (result) =>
      console.log(
        `package ready: ${result.zipPath} (${result.entryCount} files, ${(result.bytes / 1048576).toFixed(1)} MiB)`,
      ),
    (error: unknown) => {
      console.error(error instanceof ExportError ? JSON.stringify(error.toJSON()) : error);
      process.exitCode = 1;
    },
  );
}
