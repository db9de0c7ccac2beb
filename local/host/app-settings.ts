import { triggerSettingDefaults } from '../../shared/config/settings';
import { ExportError } from '../../shared/errors';

/**
 * Resolves `%Setting%` references in trigger options the way the Functions host does, except that a setting
 * with a documented default (shared/config/settings.ts) falls back to it: in Azure the deployment sets every one,
 * locally an older local.settings.json may not have a newer setting yet.
 */
export function resolveAppSettingReferences(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const resolved = env[name] || triggerSettingDefaults[name];
    if (resolved === undefined || resolved === '') {
      throw new ExportError('config', `App setting '${name}' is referenced as %${name}% but is not set`, {
        where: name,
        fix: `Set ${name} in local.settings.json ("Values") or the environment.`,
      });
    }
    return resolved;
  });
}
