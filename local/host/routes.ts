/**
 * Azure Functions route templates (`profiles/{name}/activate`, `{name?}`, `{name:alpha}`, `{*rest}`),
 * matched the way the host does: literal segments case-insensitively, one value per parameter.
 */
import { decodeOrKeep } from '../../shared/percent-encoding';

type Segment =
  | { kind: 'literal'; text: string }
  | { kind: 'param'; name: string; optional: boolean }
  | { kind: 'catchAll'; name: string };

export type RouteMatcher = (path: string) => Record<string, string> | undefined;

const PARAM = /^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]+)?(\?)?\}$/;

export function compileRoute(template: string): RouteMatcher {
  const segments: Segment[] = template
    .split('/')
    .filter((part) => part !== '')
    .map((part) => {
      const match = PARAM.exec(part);
      if (!match) return { kind: 'literal', text: part.toLowerCase() };
      const [, star, name, optional] = match as unknown as [string, string, string, string | undefined];
      return star ? { kind: 'catchAll', name } : { kind: 'param', name, optional: optional === '?' };
    });
  return (path) => {
    // Like ASP.NET Core under the Functions host: a segment that is not valid percent-encoding stays as sent.
    const parts = path
      .split('/')
      .filter((part) => part !== '')
      .map(decodeOrKeep);
    const params: Record<string, string> = {};
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as Segment;
      const part = parts[i];
      if (segment.kind === 'catchAll') {
        params[segment.name] = parts.slice(i).join('/');
        return params;
      }
      if (part === undefined) {
        if (segment.kind === 'param' && segment.optional) continue;
        return undefined;
      }
      if (segment.kind === 'literal') {
        if (part.toLowerCase() !== segment.text) return undefined;
      } else {
        params[segment.name] = part;
      }
    }
    return parts.length <= segments.length ? params : undefined;
  };
}
