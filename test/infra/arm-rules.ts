// The security rules of bicep-rules.ts, checked again over the ARM JSON the real Bicep compiler produced:
// that is what Azure Resource Manager deploys, so a rule the source seems to satisfy but the compiled template
// does not (a default from a module parameter, a value computed at compile time) still fails here.
import {
  keyListingFunctions,
  literalRules,
  presenceRules,
  requiredMainOutputs,
  requiredRoleIds,
  type Violation,
} from './bicep-rules';

export interface ArmTemplate {
  resources: ArmResourceJson[] | Record<string, ArmResourceJson>;
  outputs?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ArmResourceJson {
  type: string;
  apiVersion: string;
  name: string;
  properties?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ArmResource {
  /** Module path of the (nested) template that declares it, e.g. `main/functionapp`. */
  template: string;
  resource: ArmResourceJson;
}

const DEPLOYMENTS = 'Microsoft.Resources/deployments';

/** Every resource of the template and of the module templates nested in it (Bicep inlines modules as deployments). */
export function armResources(template: ArmTemplate, at = 'main'): ArmResource[] {
  // Templates with symbolic names (languageVersion 2.0) keep resources in an object instead of an array.
  const list = Array.isArray(template.resources) ? template.resources : Object.values(template.resources);
  return list.flatMap((resource) => {
    const nested =
      resource.type === DEPLOYMENTS ? (resource.properties?.template as ArmTemplate | undefined) : undefined;
    const name = typeof resource.name === 'string' ? resource.name : '?';
    return [{ template: at, resource }, ...(nested ? armResources(nested, `${at}/${name}`) : [])];
  });
}

export function valueAt(object: unknown, path: readonly string[]): unknown {
  let current = object;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([key, inner]) => [key, ...allStrings(inner)]);
  return [];
}

const keylessCall = new RegExp(`\\b(${keyListingFunctions.join('|')})\\(`);

export function checkArm(main: ArmTemplate): Violation[] {
  const violations: Violation[] = [];
  const report = (rule: string, where: ArmResource | string, message: string): void => {
    const file = typeof where === 'string' ? where : `${where.template} ${where.resource.type}`;
    violations.push({ rule, file, line: 0, message });
  };
  const resources = armResources(main);
  for (const entry of resources) {
    const { resource } = entry;
    if (resource.type !== DEPLOYMENTS && !/^\d{4}-\d{2}-\d{2}$/.test(resource.apiVersion)) {
      report('api-version', entry, `${resource.type} must use a GA API version, not "${resource.apiVersion}"`);
    }
    for (const rule of literalRules.filter((candidate) => candidate.type === resource.type)) {
      const actual = valueAt(resource, rule.path);
      if (actual !== rule.value) {
        report(
          rule.rule,
          entry,
          `${rule.path.join('.')} must be ${JSON.stringify(rule.value)} (compiled: ${JSON.stringify(actual) ?? 'nothing'})`,
        );
      }
    }
    for (const rule of presenceRules.filter((candidate) => candidate.type === resource.type)) {
      if (valueAt(resource, rule.path) === undefined) report(rule.rule, entry, `${rule.path.join('.')} must be set`);
    }
    if (resource.type === 'Microsoft.Authorization/roleAssignments' && !/^\[guid\(/.test(resource.name)) {
      report('role-assignment-guid', entry, `role assignment name must be guid(...), compiled: ${resource.name}`);
    }
  }
  const strings = allStrings(main);
  for (const text of strings.filter((candidate) => keylessCall.test(candidate))) {
    report('keyless', 'main', `an expression reads an access key: ${text.slice(0, 120)}`);
  }
  for (const [role, id] of Object.entries(requiredRoleIds)) {
    if (!strings.some((text) => text.includes(id)))
      report('required-roles', 'main', `no role assignment for ${role} (${id})`);
  }
  checkLake(resources, report);
  checkAppWaitsForRoles(main, report);
  for (const name of requiredMainOutputs) {
    if (!main.outputs || !(name in main.outputs)) report('outputs', 'main', `the template must output ${name}`);
  }
  return violations;
}

function checkLake(resources: ArmResource[], report: (rule: string, where: string, message: string) => void): void {
  const hns = resources.some(
    ({ resource }) =>
      resource.type === 'Microsoft.Storage/storageAccounts' &&
      valueAt(resource, ['properties', 'isHnsEnabled']) === true,
  );
  if (!hns) report('lake', 'main', 'no storage account with isHnsEnabled: true (ADLS Gen2 lake)');
  const policy = resources.some(
    ({ resource }) =>
      resource.type === 'Microsoft.Storage/storageAccounts/managementPolicies' &&
      JSON.stringify(resource.properties ?? {}).includes('"daysAfterModificationGreaterThan"'),
  );
  if (!policy) report('lake', 'main', 'no lifecycle policy deleting failed-record logs');
}

/**
 * The host must start with its permissions in place: the module deploying the function app depends on every
 * module that assigns it a role (a setting that uses a module's output makes that dependency implicitly).
 */
function checkAppWaitsForRoles(
  main: ArmTemplate,
  report: (rule: string, where: string, message: string) => void,
): void {
  const modules = (Array.isArray(main.resources) ? main.resources : Object.values(main.resources)).filter(
    (resource) => resource.type === DEPLOYMENTS,
  );
  const contains = (module: ArmResourceJson, type: string): boolean =>
    armResources(module.properties?.template as ArmTemplate).some(({ resource }) => resource.type === type);
  const app = modules.find((module) => contains(module, 'Microsoft.Web/sites'));
  if (!app) return report('app-waits-for-roles', 'main', 'no module deploys the function app');
  const waitsFor = ((app.dependsOn ?? []) as string[]).join(' ');
  for (const module of modules.filter(
    (candidate) => candidate !== app && contains(candidate, 'Microsoft.Authorization/roleAssignments'),
  )) {
    if (!waitsFor.includes(`'${module.name}'`)) {
      report(
        'app-waits-for-roles',
        'main',
        `module ${app.name} must depend on module ${module.name}, which grants the app a role`,
      );
    }
  }
}
