// Builds the deployable zip from a copy of the project (so the repository's own dist/ is untouched)
// and checks what is inside it against package.json and package-lock.json.
import { readdirSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, symlink, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { z } from 'zod';
import { buildPackage, type PackageResult } from '../../scripts/package';

const repoRoot = join(__dirname, '..', '..');

const lockfileSchema = z.object({
  packages: z.record(
    z.string(),
    z.object({ dev: z.boolean().optional(), optional: z.boolean().optional(), devOptional: z.boolean().optional() }),
  ),
});
const manifestSchema = z.object({ main: z.string() });

interface ZipListing {
  names: string[];
  packageJson: string;
}

function listZip(path: string): Promise<ZipListing> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true }, (openError, zip) => {
      if (openError) return reject(openError);
      const names: string[] = [];
      let packageJson = '';
      zip.on('error', reject);
      zip.on('end', () => resolve({ names, packageJson }));
      zip.on('entry', (entry: yauzl.Entry) => {
        names.push(entry.fileName);
        if (entry.fileName !== 'package.json') return zip.readEntry();
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          text(stream).then((content) => {
            packageJson = content;
            zip.readEntry();
          }, reject);
        });
      });
      zip.readEntry();
    });
  });
}

let workDir: string;
let projectRoot: string;
let result: PackageResult;
let listing: ZipListing;
let names: Set<string>;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dvexport-package-'));
  projectRoot = join(workDir, 'project');
  await mkdir(projectRoot);
  // test/, local/, infra/ and scripts/ are copied too, so their absence from the zip means something.
  for (const entry of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'host.json',
    'functions',
    'shared',
    'local',
    'test',
    'infra',
    'scripts',
    'console',
  ]) {
    await cp(join(repoRoot, entry), join(projectRoot, entry), { recursive: true });
  }
  // The build needs the compiler and type packages; the staged production install does not use these.
  await symlink(join(repoRoot, 'node_modules'), join(projectRoot, 'node_modules'), 'junction');

  result = await buildPackage({
    projectRoot,
    outputZip: join(workDir, 'out', 'dataverse-export.zip'),
    stagingDir: join(workDir, 'staging'),
    log: () => undefined,
  });
  listing = await listZip(result.zipPath);
  names = new Set(listing.names);
  // About 100 s alone (tsc, a production npm ci, the zip); several times that while the other suites load both cores.
}, 900_000);

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('npm run package', () => {
  it('writes a zip whose listing matches the reported entry count', () => {
    expect(listing.names).toHaveLength(result.entryCount);
    expect(result.bytes).toBeGreaterThan(0);
  });

  it('has host.json and package.json at the root and only console/, dist/ and node_modules/ beside them', () => {
    expect(names).toContain('host.json');
    expect(names).toContain('package.json');
    const topLevel = new Set(listing.names.map((name) => name.split('/')[0]));
    expect([...topLevel].sort()).toEqual(['console', 'dist', 'host.json', 'node_modules', 'package.json']);
  });

  it('ships every file of the admin console beside package.json, where functions/console.ts looks for them', () => {
    const files = readdirSync(join(projectRoot, 'console'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map(
        (entry) =>
          `console/${relative(join(projectRoot, 'console'), join(entry.parentPath, entry.name)).split(sep).join('/')}`,
      );
    expect(files).toContain('console/index.html');
    expect(listing.names.filter((name) => name.startsWith('console/')).sort()).toEqual(files.sort());
  });

  it('contains the package.json "main" entry and a compiled file for every source in functions/ and shared/', () => {
    const manifest = manifestSchema.parse(JSON.parse(listing.packageJson));
    expect(names).toContain(manifest.main);
    const compiled = ['functions', 'shared']
      .flatMap((folder) =>
        readdirSync(join(projectRoot, folder), { recursive: true, encoding: 'utf8' }).map(
          (path) => `${folder}/${path.split('\\').join('/')}`,
        ),
      )
      .filter((path) => path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.endsWith('.d.ts'))
      .map((path) => `dist/${path.replace(/\.ts$/, '.js')}`);
    expect(compiled.length).toBeGreaterThan(0);
    expect(listing.names).toEqual(expect.arrayContaining(compiled));
  });

  it('holds compiled JavaScript only under dist/, with no tests, local host, emulator, infra or scripts', () => {
    const dist = listing.names.filter((name) => name.startsWith('dist/'));
    expect(dist.filter((name) => !name.endsWith('.js'))).toEqual([]);
    expect(dist.filter((name) => /^dist\/(test|local|infra|scripts)\//.test(name) || /\.test\.js$/.test(name))).toEqual(
      [],
    );
  });

  it('contains every locked production dependency and no dev-only package', async () => {
    const lockfile = lockfileSchema.parse(JSON.parse(await readFile(join(projectRoot, 'package-lock.json'), 'utf8')));
    const installed = Object.entries(lockfile.packages).filter(([path]) => path.startsWith('node_modules/'));
    const devOnly = installed.filter(([, entry]) => entry.dev).map(([path]) => `${path}/package.json`);
    const production = installed
      .filter(([, entry]) => !entry.dev && !entry.optional && !entry.devOptional)
      .map(([path]) => `${path}/package.json`);
    expect(devOnly.length).toBeGreaterThan(0);
    expect(devOnly.filter((manifest) => names.has(manifest))).toEqual([]);
    expect(production.filter((manifest) => !names.has(manifest))).toEqual([]);
  });

  // Some devDependencies (e.g. @types/node) are also needed by production packages, so the lockfile test
  // above is the precise one; this one names the tools that must never ship.
  it("leaves out the development tools and npm's .bin links", () => {
    const tools = ['vitest', 'azurite', 'typescript', 'eslint', 'tsx', 'yazl', 'tree-sitter-bicep', 'web-tree-sitter'];
    expect(tools.filter((tool) => names.has(`node_modules/${tool}/package.json`))).toEqual([]);
    expect(listing.names.some((name) => name.startsWith('node_modules/.bin/'))).toBe(false);
  });

  // Flex Consumption runs Linux; a native addon built on the packaging machine could not load there.
  it('contains no native addons, so a zip built on any OS runs on Linux', () => {
    expect(listing.names.filter((name) => name.endsWith('.node'))).toEqual([]);
  });
});
