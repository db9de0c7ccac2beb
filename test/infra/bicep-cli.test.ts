/**
 * infra/ through the real Bicep compiler: `bicep build` and `bicep lint` of every `.bicep` file with zero errors
 * and zero warnings, and the security rules of bicep-rules.ts over the ARM JSON it compiled.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { formatDiagnostic, parseDiagnostics, type BicepCli, type BicepRun } from '../support/bicep-cli';
import { checkArm, armResources, type ArmTemplate } from './arm-rules';
import { buildAll, compileInfraForTests, infraRoot, lintAll, type Compiled } from './compiled-infra';

const bicepFiles = readdirSync(infraRoot, { recursive: true, encoding: 'utf8' })
  .filter((path) => path.endsWith('.bicep'))
  .sort();

let cli: BicepCli | undefined;
let compiled: Compiled | undefined;
let main: ArmTemplate | undefined;

beforeAll(async () => {
  ({ cli, compiled, main } = await compileInfraForTests());
}, 600_000);

afterAll(async () => compiled?.dispose());

function needsCli(context: TestContext): BicepCli {
  if (!cli) context.skip('no Bicep CLI (see the warning above for how to get it)');
  return cli;
}

/** Errors and warnings, plus any output line that is not a diagnostic (a crash or usage error). */
const problems = (run: BicepRun): string[] => [
  ...run.diagnostics.filter((diagnostic) => diagnostic.level !== 'Info').map(formatDiagnostic),
  ...run.other,
  ...(run.exitCode === 0 ? [] : [`exit code ${run.exitCode}`]),
];

describe('bicep build / bicep lint', () => {
  it('builds every .bicep file with zero errors and zero warnings', (context) => {
    needsCli(context);
    expect(problems(compiled!.build)).toEqual([]);
    const missing = bicepFiles.filter((path) => !compiled!.read(path.replace(/\.bicep$/, '.json')));
    expect(missing).toEqual([]);
  });

  // The CLI is a .NET program that starts in seconds on a quiet machine and in tens of seconds on a loaded one.
  it('lints every .bicep file with zero errors and zero warnings', async (context) => {
    expect(problems(await lintAll(needsCli(context)))).toEqual([]);
  }, 600_000);

  it('reports the errors and warnings of a broken copy (the check can fail)', async (context) => {
    const bicep = needsCli(context);
    const copy = await mkdtemp(join(tmpdir(), 'dvx-infra-'));
    try {
      await cp(infraRoot, copy, { recursive: true });
      const identity = join(copy, 'modules', 'identity.bicep');
      await writeFile(
        identity,
        (await readFile(identity, 'utf8')).replace('output id string = identity.id', 'output id int = identity.id'),
      );
      const mainFile = join(copy, 'main.bicep');
      await writeFile(mainFile, `${await readFile(mainFile, 'utf8')}\nparam notUsed string = ''\n`);
      // One CLI start: `build` reports the linter's warnings as well as the compiler's errors.
      const broken = await buildAll(bicep, copy);
      await broken.dispose();
      const codes = broken.build.diagnostics.map((diagnostic) => `${diagnostic.level} ${diagnostic.code}`);
      expect(codes).toContain('Error BCP033');
      expect(codes).toContain('Warning no-unused-params');
      expect(broken.build.exitCode).not.toBe(0);
      expect(problems(broken.build).length).toBeGreaterThan(0);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  }, 600_000);

  it('every suppression says why on its own line', () => {
    const bare = bicepFiles.flatMap((path) =>
      readFileSync(join(infraRoot, path), 'utf8')
        .split('\n')
        .map((line, index) => ({ line: line.trim(), at: `${path}:${index + 1}` }))
        .filter(({ line }) => /^#disable-(next-line|diagnostics)\b/.test(line) && !/\/\/\s*\S{3,}/.test(line))
        .map(({ at }) => at),
    );
    expect(bare).toEqual([]);
  });
});

describe('diagnostic parsing', () => {
  it('reads the CLI default format and keeps unknown lines', () => {
    const parsed = parseDiagnostics(
      [
        '/x/infra/main.bicep(242,46) : Warning BCP318: The value of type "module | null" may be null. [https://aka.ms/bicep/core-diagnostics#BCP318]',
        '/x/infra/t.bicep(3,7) : Error no-unused-params: Parameter "u" is declared but never used.',
        'Unhandled exception. System.Exception: boom',
      ].join('\n'),
    );
    expect(parsed.diagnostics.map((diagnostic) => [diagnostic.line, diagnostic.level, diagnostic.code])).toEqual([
      [242, 'Warning', 'BCP318'],
      [3, 'Error', 'no-unused-params'],
    ]);
    expect(parsed.other).toEqual(['Unhandled exception. System.Exception: boom']);
  });
});

describe('security rules over the compiled ARM JSON', () => {
  it('the compiled main.json satisfies every rule', (context) => {
    needsCli(context);
    expect(main).toBeDefined();
    expect(armResources(main!).length).toBeGreaterThan(20);
    expect(checkArm(main!)).toEqual([]);
  });

  type Edit = (template: ArmTemplate) => void;
  const inResources =
    (type: string, edit: (resource: Record<string, unknown>) => void): Edit =>
    (template) => {
      const found = armResources(template).filter(({ resource }) => resource.type === type);
      if (found.length === 0) throw new Error(`no ${type} in the compiled template`);
      for (const { resource } of found) edit(resource);
    };
  const props = (resource: Record<string, unknown>) => resource.properties as Record<string, unknown>;
  const variants: { name: string; rule: string; edit: Edit }[] = [
    {
      name: 'Service Bus local auth from a parameter',
      rule: 'servicebus-local-auth',
      edit: inResources('Microsoft.ServiceBus/namespaces', (r) => {
        props(r).disableLocalAuth = "[parameters('disableLocalAuth')]";
      }),
    },
    {
      name: 'shared-key access on a storage account',
      rule: 'storage-shared-key',
      edit: inResources('Microsoft.Storage/storageAccounts', (r) => {
        props(r).allowSharedKeyAccess = true;
      }),
    },
    {
      name: 'FTP enabled on the app',
      rule: 'site-ftp',
      edit: inResources('Microsoft.Web/sites', (r) => {
        (props(r).siteConfig as Record<string, unknown>).ftpsState = 'AllAllowed';
      }),
    },
    {
      name: 'a queue without lockDuration',
      rule: 'queue-dead-lettering',
      edit: inResources('Microsoft.ServiceBus/namespaces/queues', (r) => {
        delete props(r).lockDuration;
      }),
    },
    {
      name: 'a role assignment with a fixed name',
      rule: 'role-assignment-guid',
      edit: inResources('Microsoft.Authorization/roleAssignments', (r) => {
        r.name = 'kv-secrets-user';
      }),
    },
    {
      name: 'a preview API version',
      rule: 'api-version',
      edit: inResources('Microsoft.KeyVault/vaults', (r) => {
        r.apiVersion = '2024-12-01-preview';
      }),
    },
    {
      name: 'a listKeys() expression',
      rule: 'keyless',
      edit: inResources('Microsoft.Web/sites/config', (r) => {
        props(r).KEY = "[listKeys(resourceId('Microsoft.Storage/storageAccounts', 'x'), '2023-05-01').keys[0].value]";
      }),
    },
    {
      name: 'no hierarchical namespace',
      rule: 'lake',
      edit: inResources('Microsoft.Storage/storageAccounts', (r) => {
        props(r).isHnsEnabled = false;
      }),
    },
    {
      name: 'a missing output',
      rule: 'outputs',
      edit: (template) => {
        delete template.outputs?.keyVaultUri;
      },
    },
    {
      name: 'an app that does not wait for the vault role',
      rule: 'app-waits-for-roles',
      edit: inResources('Microsoft.Resources/deployments', (r) => {
        if (r.name === 'functionapp')
          r.dependsOn = (r.dependsOn as string[]).filter((entry) => !entry.includes("'keyvault'"));
      }),
    },
  ];

  it.for(variants)('fails on $name ($rule)', ({ rule, edit }, context) => {
    needsCli(context);
    const broken = structuredClone(main!);
    edit(broken);
    expect(checkArm(broken).map((violation) => violation.rule)).toContain(rule);
  });
});
