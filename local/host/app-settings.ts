import { ExportError } from '../../shared/errors';

/** Resolves `%Setting%` references in trigger options the way the Functions host does. */
export function resolveAppSettingReferences(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const resolved = env[name];
    if (resolved === undefined || resolved === '') {
      throw new ExportError('config', `App setting '${name}' is referenced as %${name}% but is not set`, {
        where: name,
        fix: `Set ${name} in local.settings.json ("Values") or the environment.`,
      });
    }
    return resolved;
  });
}
