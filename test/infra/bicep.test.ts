import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { Parser } from 'web-tree-sitter';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkInfra, createBicepParser, type BicepSource } from './bicep-rules';

const repoRoot = join(__dirname, '..', '..');
const infraRoot = join(repoRoot, 'infra');

function readInfra(): BicepSource[] {
  const files = readdirSync(infraRoot, { recursive: true, encoding: 'utf8' }).filter((path) => path.endsWith('.bicep'));
  return files
    .sort()
    .map((path) => ({ path: path.split(sep).join('/'), text: readFileSync(join(infraRoot, path), 'utf8') }));
}

const infraFileExists = (path: string): boolean => existsSync(join(infraRoot, path));

/** The real sources with one file's text edited; the edit must apply, or the test would prove nothing. */
function withEdit(sources: BicepSource[], path: string, from: string | RegExp, to: string): BicepSource[] {
  return sources.map((source) => {
    if (source.path !== path) return source;
    const text = source.text.replace(from, to);
    if (text === source.text) throw new Error(`edit ${String(from)} did not apply to ${path}`);
    return { ...source, text };
  });
}

let parser: Parser;
let sources: BicepSource[];

beforeAll(async () => {
  parser = await createBicepParser();
  sources = readInfra();
});

describe('infra/*.bicep', () => {
  it('includes main.bicep and every module it references', () => {
    expect(sources.map((source) => source.path)).toEqual(
      expect.arrayContaining([
        'main.bicep',
        'modules/functionapp.bicep',
        'modules/host-storage.bicep',
        'modules/lake.bicep',
        'modules/servicebus.bicep',
        'modules/keyvault.bicep',
        'modules/sql.bicep',
        'modules/monitoring.bicep',
        'modules/alerts.bicep',
        'modules/identity.bicep',
      ]),
    );
  });

  it('parses without syntax errors and satisfies every security rule', () => {
    expect(checkInfra(parser, sources, infraFileExists)).toEqual([]);
  });

  const brokenVariants: { name: string; rule: string; file: string; from: string | RegExp; to: string }[] = [
    {
      name: 'a missing closing brace',
      rule: 'syntax',
      file: 'modules/servicebus.bicep',
      from: /\n}\n\nresource roleAssignments/,
      to: '\n\nresource roleAssignments',
    },
    {
      name: 'a registry (br:) module',
      rule: 'local-modules',
      file: 'main.bicep',
      from: "module identity 'modules/identity.bicep'",
      to: "module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1'",
    },
    {
      name: 'a module file that does not exist',
      rule: 'local-modules',
      file: 'main.bicep',
      from: "'modules/lake.bicep'",
      to: "'modules/datalake.bicep'",
    },
    {
      name: 'a role assignment named without guid()',
      rule: 'role-assignment-guid',
      file: 'modules/keyvault.bicep',
      from: 'name: guid(vault.id, principalId, keyVaultSecretsUserRoleId)',
      to: "name: 'kv-secrets-user'",
    },
    {
      name: 'Service Bus local auth enabled',
      rule: 'servicebus-local-auth',
      file: 'modules/servicebus.bicep',
      from: 'disableLocalAuth: true',
      to: 'disableLocalAuth: false',
    },
    {
      name: 'Service Bus local auth from a parameter',
      rule: 'servicebus-local-auth',
      file: 'modules/servicebus.bicep',
      from: 'disableLocalAuth: true',
      to: 'disableLocalAuth: disableLocalAuthParam',
    },
    {
      name: 'Application Insights local auth enabled',
      rule: 'appinsights-local-auth',
      file: 'modules/monitoring.bicep',
      from: 'DisableLocalAuth: true',
      to: 'DisableLocalAuth: false',
    },
    {
      name: 'shared-key access on the lake',
      rule: 'storage-shared-key',
      file: 'modules/lake.bicep',
      from: 'allowSharedKeyAccess: false',
      to: 'allowSharedKeyAccess: true',
    },
    {
      name: 'TLS 1.0 on the host storage',
      rule: 'tls',
      file: 'modules/host-storage.bicep',
      from: "minimumTlsVersion: 'TLS1_2'",
      to: "minimumTlsVersion: 'TLS1_0'",
    },
    {
      name: 'Key Vault access policies instead of RBAC',
      rule: 'keyvault-rbac',
      file: 'modules/keyvault.bicep',
      from: 'enableRbacAuthorization: true',
      to: 'enableRbacAuthorization: false',
    },
    {
      name: 'SQL logins allowed',
      rule: 'sql-entra-only',
      file: 'modules/sql.bicep',
      from: 'azureADOnlyAuthentication: true',
      to: 'azureADOnlyAuthentication: false',
    },
    {
      name: 'a queue without dead-lettering on expiry',
      rule: 'queue-dead-lettering',
      file: 'modules/servicebus.bicep',
      from: /\n\s*deadLetteringOnMessageExpiration: true/,
      to: '',
    },
    {
      name: 'a queue without maxDeliveryCount',
      rule: 'queue-dead-lettering',
      file: 'modules/servicebus.bicep',
      from: /\n\s*maxDeliveryCount: maxDeliveryCount/,
      to: '',
    },
    {
      name: 'a queue without duplicate detection',
      rule: 'queue-duplicate-detection',
      file: 'modules/servicebus.bicep',
      from: 'requiresDuplicateDetection: true',
      to: 'requiresDuplicateDetection: false',
    },
    {
      name: 'FTP publishing enabled on the app',
      rule: 'site-ftp',
      file: 'modules/functionapp.bicep',
      from: "ftpsState: 'Disabled'",
      to: "ftpsState: 'AllAllowed'",
    },
    {
      name: 'a storage key read with listKeys()',
      rule: 'keyless',
      file: 'modules/host-storage.bicep',
      from: 'output name string = account.name',
      to: 'output name string = account.name\nvar key = account.listKeys().keys[0].value',
    },
    {
      name: 'a preview API version',
      rule: 'api-version',
      file: 'modules/keyvault.bicep',
      from: 'Microsoft.KeyVault/vaults@2023-07-01',
      to: 'Microsoft.KeyVault/vaults@2024-12-01-preview',
    },
    {
      name: 'a missing role (Service Bus sender)',
      rule: 'required-roles',
      file: 'modules/servicebus.bicep',
      from: /\n\s*serviceBusDataSender: '[^']+'/,
      to: '',
    },
    {
      name: 'a lake without hierarchical namespace',
      rule: 'lake',
      file: 'modules/lake.bicep',
      from: 'isHnsEnabled: true',
      to: 'isHnsEnabled: false',
    },
    {
      name: 'a missing keyVaultUri output',
      rule: 'outputs',
      file: 'main.bicep',
      from: /\noutput keyVaultUri string = [^\n]+/,
      to: '',
    },
  ];

  it.each(brokenVariants)('fails on $name ($rule)', ({ rule, file, from, to }) => {
    const broken = withEdit(sources, file, from, to);
    const violations = checkInfra(parser, broken, infraFileExists);
    expect(violations.map((violation) => violation.rule)).toContain(rule);
  });
});

describe('infra/main.parameters.json', () => {
  it('sets only parameters that main.bicep declares', async () => {
    const parameters = JSON.parse(readFileSync(join(infraRoot, 'main.parameters.json'), 'utf8')) as {
      parameters: Record<string, unknown>;
    };
    const main = parser.parse(readFileSync(join(infraRoot, 'main.bicep'), 'utf8'));
    const declared = (main?.rootNode.descendantsOfType('parameter_declaration') ?? []).map(
      (declaration) => declaration.namedChildren.find((child) => child.type === 'identifier')?.text,
    );
    expect(declared.length).toBeGreaterThan(0);
    expect(declared).toEqual(expect.arrayContaining(Object.keys(parameters.parameters)));
  });
});

describe('monitoring', () => {
  const metricNames = [
    'dvexport.rows.applied',
    'dvexport.records.failed',
    'dvexport.dataverse.throttled',
    'dvexport.e2e.latency',
    'dvexport.poll.duration',
    'dvexport.queue.lag',
    'dvexport.deadletter.count',
  ];
  const referencedMetrics = (text: string): string[] =>
    [...text.matchAll(/name == '([^']+)'/g)].map((match) => match[1] ?? '');

  it('the workbook is valid JSON and charts every dvexport metric, and only those', () => {
    const workbook = readFileSync(join(infraRoot, 'monitoring', 'workbook.json'), 'utf8');
    expect(() => JSON.parse(workbook) as unknown).not.toThrow();
    const used = new Set(referencedMetrics(workbook));
    expect([...used].sort()).toEqual([...metricNames].sort());
  });

  it('alert queries use the dvexport metric names', () => {
    const alerts = readFileSync(join(infraRoot, 'modules', 'alerts.bicep'), 'utf8');
    const used = referencedMetrics(alerts);
    expect(used).toEqual(['dvexport.queue.lag', 'dvexport.records.failed']);
    expect(alerts).toContain("metricName: 'DeadletteredMessages'");
  });

  it('every app setting the infra sets is documented in docs/notes/infra.md', () => {
    const functionApp = parser.parse(readFileSync(join(infraRoot, 'modules', 'functionapp.bicep'), 'utf8'));
    const settings = functionApp?.rootNode
      .descendantsOfType('resource_declaration')
      .find((resource) => resource.text.includes("'Microsoft.Web/sites/config@"));
    const body = settings?.namedChildren.find((child) => child.type === 'object');
    const propertiesObject = body?.namedChildren
      .find((child) => child.type === 'object_property' && child.namedChildren[0]?.text === 'properties')
      ?.namedChildren.find((child) => child.type === 'object');
    const properties = (propertiesObject?.namedChildren ?? [])
      .filter((child) => child.type === 'object_property')
      .map((property) => property.namedChildren[0]?.text ?? '');
    expect(properties).toContain('AzureWebJobsStorage__credential');
    const notes = readFileSync(join(repoRoot, 'docs', 'notes', 'infra.md'), 'utf8');
    const undocumented = properties.filter((name) => !notes.includes(`\`${name}\``));
    expect(undocumented).toEqual([]);
  });
});
