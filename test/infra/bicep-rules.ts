// Offline checks of infra/*.bicep on the source: parsed with tree-sitter-bicep, the security rules are checked
// on the syntax tree, where a value that comes from a parameter is still visible as one. The same rules run over
// the compiled ARM JSON in arm-rules.ts (bicep-cli.test.ts).
import { createRequire } from 'node:module';
import { posix } from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';

export interface BicepSource {
  /** Path relative to the infra root, with forward slashes (e.g. `modules/lake.bicep`). */
  path: string;
  text: string;
}

export interface Violation {
  rule: string;
  file: string;
  line: number;
  message: string;
}

export async function createBicepParser(): Promise<Parser> {
  const require = createRequire(__filename);
  await Parser.init();
  const language = await Language.load(require.resolve('tree-sitter-bicep/tree-sitter-bicep.wasm'));
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

/** Role definitions the app identity must hold (issue 7, docs/reference/azure-functions-notes.md §3). */
export const requiredRoleIds: Readonly<Record<string, string>> = {
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Azure Service Bus Data Sender': '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
  'Azure Service Bus Data Receiver': '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
};

export const requiredMainOutputs = ['functionAppName', 'apiBaseUrl', 'changesQueueName', 'keyVaultUri'];

interface ParsedFile {
  source: BicepSource;
  root: Node;
}

interface ResourceDeclaration {
  file: ParsedFile;
  node: Node;
  /** Resource type without the API version, e.g. `Microsoft.Storage/storageAccounts`. */
  type: string;
  apiVersion: string;
  body: Node | undefined;
}

type Report = (rule: string, file: ParsedFile, node: Node, message: string) => void;

/** ARM functions that return access keys or secrets of a resource. */
export const keyListingFunctions = [
  'listKeys',
  'listConnectionStrings',
  'listAuthKeys',
  'listSecrets',
  'listCredentials',
];
const keylessFunctions = new RegExp(`(^|\\.)(${keyListingFunctions.join('|')})$`);

export function checkInfra(parser: Parser, sources: BicepSource[], fileExists: (path: string) => boolean): Violation[] {
  const violations: Violation[] = [];
  const report: Report = (rule, file, node, message) =>
    violations.push({ rule, file: file.source.path, line: node.startPosition.row + 1, message });

  const files: ParsedFile[] = sources.map((source) => {
    const tree = parser.parse(source.text);
    if (!tree) throw new Error(`tree-sitter returned no tree for ${source.path}`);
    return { source, root: tree.rootNode };
  });

  for (const file of files) {
    checkSyntax(file, report);
    checkModuleReferences(file, fileExists, report);
    checkNoKeyListing(file, report);
  }
  const resources = files.flatMap(resourceDeclarations);
  for (const resource of resources) {
    checkApiVersion(resource, report);
    checkResourceSettings(resource, report);
  }
  checkRequiredRoles(files, violations);
  checkLake(resources, violations);
  checkMainOutputs(files, violations);
  return violations;
}

function checkSyntax(file: ParsedFile, report: Report): void {
  if (!file.root.hasError) return;
  const broken = findFirst(file.root, (node) => node.type === 'ERROR' || node.isMissing) ?? file.root;
  const message = broken.isMissing ? `missing ${broken.type}` : `syntax error near "${broken.text.slice(0, 40)}"`;
  report('syntax', file, broken, message);
}

function checkModuleReferences(file: ParsedFile, fileExists: (path: string) => boolean, report: Report): void {
  for (const module of file.root.descendantsOfType('module_declaration')) {
    const pathNode = module.namedChildren.find((child) => child.type === 'string');
    const reference = pathNode ? stringLiteral(pathNode) : undefined;
    if (!pathNode || reference === undefined) {
      report('local-modules', file, module, 'module path must be a plain string');
      continue;
    }
    // Registry (br:, br/alias:) and template-spec (ts:) references cannot be restored offline.
    if (/^(br|ts)[:/]/.test(reference)) {
      report('local-modules', file, pathNode, `registry module "${reference}" is not allowed; use a local module`);
      continue;
    }
    const resolved = posix.join(posix.dirname(file.source.path), reference);
    if (!fileExists(resolved)) report('local-modules', file, pathNode, `module file "${resolved}" does not exist`);
  }
}

function checkNoKeyListing(file: ParsedFile, report: Report): void {
  for (const call of file.root.descendantsOfType('call_expression')) {
    const name = call.childForFieldName('function')?.text ?? '';
    if (keylessFunctions.test(name))
      report('keyless', file, call, `${name}() exposes an access key; use role assignments`);
  }
}

function checkApiVersion(resource: ResourceDeclaration, report: Report): void {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(resource.apiVersion)) {
    report(
      'api-version',
      resource.file,
      resource.node,
      `${resource.type} must use a GA API version, not "${resource.apiVersion}"`,
    );
  }
}

type ResourceRule = (resource: ResourceDeclaration, report: Report) => void;

/** Security settings are required as literals: a parameter could silently turn them off. */
function requireLiteral(
  resource: ResourceDeclaration,
  report: Report,
  rule: string,
  path: string[],
  expected: string,
): void {
  const value = resource.body ? propertyAt(resource.body, path) : undefined;
  const actual = value ? literalText(value) : undefined;
  if (actual !== expected) {
    report(
      rule,
      resource.file,
      value ?? resource.node,
      `${resource.type}: ${path.join('.')} must be ${expected} (found ${actual ?? (value ? value.text : 'nothing')})`,
    );
  }
}

function requirePresent(resource: ResourceDeclaration, report: Report, rule: string, path: string[]): void {
  if (!resource.body || !propertyAt(resource.body, path)) {
    report(rule, resource.file, resource.node, `${resource.type}: ${path.join('.')} must be set`);
  }
}

/** Settings every resource of a type must have, as literals (checked in the Bicep source and in the compiled ARM JSON). */
export interface LiteralRule {
  rule: string;
  type: string;
  path: string[];
  value: boolean | string;
}

export const literalRules: readonly LiteralRule[] = [
  {
    rule: 'servicebus-local-auth',
    type: 'Microsoft.ServiceBus/namespaces',
    path: ['properties', 'disableLocalAuth'],
    value: true,
  },
  { rule: 'tls', type: 'Microsoft.ServiceBus/namespaces', path: ['properties', 'minimumTlsVersion'], value: '1.2' },
  {
    rule: 'queue-dead-lettering',
    type: 'Microsoft.ServiceBus/namespaces/queues',
    path: ['properties', 'deadLetteringOnMessageExpiration'],
    value: true,
  },
  {
    rule: 'queue-duplicate-detection',
    type: 'Microsoft.ServiceBus/namespaces/queues',
    path: ['properties', 'requiresDuplicateDetection'],
    value: true,
  },
  {
    rule: 'storage-shared-key',
    type: 'Microsoft.Storage/storageAccounts',
    path: ['properties', 'allowSharedKeyAccess'],
    value: false,
  },
  {
    rule: 'storage-public-blobs',
    type: 'Microsoft.Storage/storageAccounts',
    path: ['properties', 'allowBlobPublicAccess'],
    value: false,
  },
  {
    rule: 'tls',
    type: 'Microsoft.Storage/storageAccounts',
    path: ['properties', 'minimumTlsVersion'],
    value: 'TLS1_2',
  },
  {
    rule: 'tls',
    type: 'Microsoft.Storage/storageAccounts',
    path: ['properties', 'supportsHttpsTrafficOnly'],
    value: true,
  },
  {
    rule: 'keyvault-rbac',
    type: 'Microsoft.KeyVault/vaults',
    path: ['properties', 'enableRbacAuthorization'],
    value: true,
  },
  {
    rule: 'sql-entra-only',
    type: 'Microsoft.Sql/servers',
    path: ['properties', 'administrators', 'azureADOnlyAuthentication'],
    value: true,
  },
  { rule: 'tls', type: 'Microsoft.Sql/servers', path: ['properties', 'minimalTlsVersion'], value: '1.2' },
  {
    rule: 'appinsights-local-auth',
    type: 'Microsoft.Insights/components',
    path: ['properties', 'DisableLocalAuth'],
    value: true,
  },
  {
    rule: 'loganalytics-local-auth',
    type: 'Microsoft.OperationalInsights/workspaces',
    path: ['properties', 'features', 'disableLocalAuth'],
    value: true,
  },
  { rule: 'tls', type: 'Microsoft.Web/sites', path: ['properties', 'httpsOnly'], value: true },
  { rule: 'tls', type: 'Microsoft.Web/sites', path: ['properties', 'siteConfig', 'minTlsVersion'], value: '1.2' },
  { rule: 'site-ftp', type: 'Microsoft.Web/sites', path: ['properties', 'siteConfig', 'ftpsState'], value: 'Disabled' },
];

/** Settings that must be present (any value). */
export const presenceRules: readonly Omit<LiteralRule, 'value'>[] = [
  {
    rule: 'queue-dead-lettering',
    type: 'Microsoft.ServiceBus/namespaces/queues',
    path: ['properties', 'maxDeliveryCount'],
  },
  {
    rule: 'queue-dead-lettering',
    type: 'Microsoft.ServiceBus/namespaces/queues',
    path: ['properties', 'lockDuration'],
  },
];

const bicepLiteral = (value: boolean | string): string => (typeof value === 'string' ? `'${value}'` : String(value));

const resourceRules: Record<string, ResourceRule> = {
  'Microsoft.Authorization/roleAssignments': (resource, report) => {
    const name = resource.body ? propertyAt(resource.body, ['name']) : undefined;
    const isGuidCall = name?.type === 'call_expression' && name.childForFieldName('function')?.text === 'guid';
    if (!isGuidCall) {
      report(
        'role-assignment-guid',
        resource.file,
        name ?? resource.node,
        'role assignment name must be guid(...) so redeployments are idempotent',
      );
    }
  },
};

function checkResourceSettings(resource: ResourceDeclaration, report: Report): void {
  for (const rule of literalRules.filter((candidate) => candidate.type === resource.type)) {
    requireLiteral(resource, report, rule.rule, rule.path, bicepLiteral(rule.value));
  }
  for (const rule of presenceRules.filter((candidate) => candidate.type === resource.type)) {
    requirePresent(resource, report, rule.rule, rule.path);
  }
  resourceRules[resource.type]?.(resource, report);
}

function checkRequiredRoles(files: ParsedFile[], violations: Violation[]): void {
  const literals = new Set(files.flatMap((file) => file.root.descendantsOfType('string').map(stringLiteral)));
  for (const [role, id] of Object.entries(requiredRoleIds)) {
    if (!literals.has(id))
      violations.push({
        rule: 'required-roles',
        file: '*',
        line: 0,
        message: `no role assignment for ${role} (${id})`,
      });
  }
}

function checkLake(resources: ResourceDeclaration[], violations: Violation[]): void {
  const hnsAccount = resources.some(
    (resource) =>
      resource.type === 'Microsoft.Storage/storageAccounts' &&
      resource.body &&
      literalText(propertyAt(resource.body, ['properties', 'isHnsEnabled'])) === 'true',
  );
  if (!hnsAccount)
    violations.push({
      rule: 'lake',
      file: '*',
      line: 0,
      message: 'no storage account with isHnsEnabled: true (ADLS Gen2 lake)',
    });
  const deletesOldBlobs = resources.some(
    (resource) =>
      resource.type === 'Microsoft.Storage/storageAccounts/managementPolicies' &&
      resource.body &&
      resource.body
        .descendantsOfType('object_property')
        .some((property) => propertyKey(property) === 'daysAfterModificationGreaterThan'),
  );
  if (!deletesOldBlobs)
    violations.push({ rule: 'lake', file: '*', line: 0, message: 'no lifecycle policy deleting failed-record logs' });
}

function checkMainOutputs(files: ParsedFile[], violations: Violation[]): void {
  const main = files.find((file) => file.source.path === 'main.bicep');
  const outputs = new Set(
    (main?.root.descendantsOfType('output_declaration') ?? []).map(
      (output) => output.namedChildren.find((c) => c.type === 'identifier')?.text,
    ),
  );
  for (const name of requiredMainOutputs) {
    if (!outputs.has(name))
      violations.push({ rule: 'outputs', file: 'main.bicep', line: 0, message: `main.bicep must output ${name}` });
  }
}

function resourceDeclarations(file: ParsedFile): ResourceDeclaration[] {
  // An `existing` resource only refers to one declared elsewhere, where the rules check it.
  const declared = file.root
    .descendantsOfType('resource_declaration')
    .filter((node) => !/^resource\s+\w+\s+'[^']*'\s+existing\b/.test(node.text));
  return declared.map((node) => {
    const typeNode = node.namedChildren.find((child) => child.type === 'string');
    const [type = '', apiVersion = ''] = (typeNode ? (stringLiteral(typeNode) ?? '') : '').split('@');
    return { file, node, type, apiVersion, body: resourceBody(node) };
  });
}

/** The object after `=`, also when wrapped in `if (...)` or `[for ...: ...]`. */
function resourceBody(node: Node): Node | undefined {
  let current: Node | undefined = node.namedChildren.find(
    (child) => child.type === 'object' || child.type === 'if_statement' || child.type === 'for_statement',
  );
  while (current && current.type !== 'object') {
    current =
      current.type === 'for_statement'
        ? (current.childForFieldName('body') ?? undefined)
        : current.namedChildren.find((child) => child.type === 'object');
  }
  return current;
}

function propertyKey(property: Node): string | undefined {
  const key = property.namedChildren.find((child) => child.type !== 'comment');
  if (!key) return undefined;
  return key.type === 'string' ? stringLiteral(key) : key.text;
}

function propertyAt(object: Node, path: string[]): Node | undefined {
  let current: Node | undefined = object;
  for (const key of path) {
    if (current?.type !== 'object') return undefined;
    const property: Node | undefined = current.namedChildren.find(
      (child) => child.type === 'object_property' && propertyKey(child) === key,
    );
    current = property?.namedChildren.filter((child) => child.type !== 'comment').at(-1);
  }
  return current;
}

/** Text of a literal value (`true`, `'1.2'`, `10`), or undefined for expressions. */
function literalText(value: Node | undefined): string | undefined {
  if (!value) return undefined;
  if (value.type === 'boolean' || value.type === 'number') return value.text;
  if (value.type === 'string' && stringLiteral(value) !== undefined) return value.text;
  return undefined;
}

/** Content of a string without interpolation, or undefined when it has any. */
function stringLiteral(node: Node): string | undefined {
  if (node.namedChildren.some((child) => child.type === 'interpolation')) return undefined;
  return node.text.startsWith("'''") ? node.text.slice(3, -3) : node.text.slice(1, -1);
}

function findFirst(node: Node, predicate: (node: Node) => boolean): Node | undefined {
  if (predicate(node)) return node;
  for (const child of node.children) {
    if (!child) continue;
    const found = findFirst(child, predicate);
    if (found) return found;
  }
  return undefined;
}
