/**
 * The small pieces of OData/Dataverse syntax the emulator reads and writes: comma lists that respect
 * parentheses and quotes, `$expand` items with nested `$select`, `Prefer` preferences, paging cookies
 * and change-tracking tokens.
 */

/** Splits on `separator` outside parentheses and double quotes. */
export function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === '(') depth++;
    else if (!quoted && char === ')') depth--;
    else if (!quoted && depth === 0 && char === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

export interface ExpandItem {
  name: string;
  /** Nested `$select`; undefined when absent. */
  select?: string[];
  /** Nested options other than `$select`, which the emulator does not implement. */
  unsupported: string[];
}

export const parseSelect = (text: string | null): string[] | undefined =>
  text === null ? undefined : splitTopLevel(text, ',');

/** `Attributes($select=LogicalName,SchemaName),OptionSet` → items. */
export function parseExpand(text: string | null): ExpandItem[] {
  if (text === null) return [];
  return splitTopLevel(text, ',').map((item) => {
    const open = item.indexOf('(');
    if (open < 0) return { name: item, unsupported: [] };
    const result: ExpandItem = { name: item.slice(0, open), unsupported: [] };
    for (const option of splitTopLevel(item.slice(open + 1, -1), ';')) {
      const [key, value = ''] = option.split(/=(.*)/s);
      if (key === '$select') result.select = splitTopLevel(value, ',');
      else result.unsupported.push(key ?? option);
    }
    return result;
  });
}

export interface Preferences {
  trackChanges: boolean;
  maxPageSize?: number;
  annotations?: string;
}

/** `Prefer: odata.track-changes,odata.maxpagesize=100,odata.include-annotations="*"`. */
export function parsePrefer(header: string | string[] | undefined): Preferences {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const result: Preferences = { trackChanges: false };
  for (const preference of splitTopLevel(text, ',')) {
    const [name = '', value] = preference.split(/=(.*)/s).map((part) => part.trim());
    switch (name.toLowerCase()) {
      case 'odata.track-changes':
        result.trackChanges = true;
        break;
      case 'odata.maxpagesize': {
        const size = Number(value);
        if (Number.isInteger(size) && size > 0) result.maxPageSize = size;
        break;
      }
      case 'odata.include-annotations':
        if (value) result.annotations = value;
        break;
    }
  }
  return result;
}

/** Lower-case percent escapes, as Dataverse writes them (`%2f`, `%3a`, `%253c`). */
const encodeLower = (text: string): string =>
  encodeURIComponent(text).replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());

export interface PagingCookie {
  pageNumber: number;
  /** The version the load or delta is a snapshot of; fixed on its first page. */
  versionStamp: number;
  /** Initial load: the last slot served. Delta: the last version served. */
  position: number;
  tracking: boolean;
}

/**
 * The `$skiptoken` value, shaped like Dataverse's (`<cookie pagenumber=… pagingcookie=… istracking=… />`
 * with the inner cookie percent-encoded). Clients treat it as opaque; the emulator keeps its snapshot
 * version and position in the inner cookie.
 */
export function encodeSkipToken(cookie: PagingCookie, primaryKey: string, firstId: string, lastId: string): string {
  const braces = (id: string): string => `{${id.toUpperCase()}}`;
  const inner =
    `<cookie page="${cookie.pageNumber - 1}" versionstamp="${cookie.versionStamp}">` +
    `<${primaryKey} last="${braces(lastId)}" first="${braces(firstId)}" position="${cookie.position}" /></cookie>`;
  const outer = `<cookie pagenumber="${cookie.pageNumber}" pagingcookie="${encodeLower(inner)}" istracking="${cookie.tracking ? 'True' : 'False'}" />`;
  return encodeURIComponent(outer).replace(/%3D/g, '=').replace(/%2F/g, '/');
}

/** Reads a decoded `$skiptoken`; undefined when it is not one of ours. */
export function parseSkipToken(skipToken: string): PagingCookie | undefined {
  const pageNumber = /pagenumber="(\d+)"/.exec(skipToken)?.[1];
  const encodedInner = /pagingcookie="([^"]*)"/.exec(skipToken)?.[1];
  const tracking = /istracking="(\w+)"/.exec(skipToken)?.[1];
  if (pageNumber === undefined || encodedInner === undefined) return undefined;
  const inner = decodeURIComponent(encodedInner);
  const versionStamp = /versionstamp="(\d+)"/.exec(inner)?.[1];
  const position = /position="(-?\d+)"/.exec(inner)?.[1];
  if (versionStamp === undefined || position === undefined) return undefined;
  return {
    pageNumber: Number(pageNumber),
    versionStamp: Number(versionStamp),
    position: Number(position),
    tracking: tracking === 'True',
  };
}

const two = (value: number): string => String(value).padStart(2, '0');

/** `<version>!<MM/dd/yyyy HH:mm:ss>` in UTC, as Dataverse writes `$deltatoken` values. */
export function formatToken(version: number, at: number): string {
  const date = new Date(at);
  const day = `${two(date.getUTCMonth() + 1)}/${two(date.getUTCDate())}/${date.getUTCFullYear()}`;
  return `${version}!${day} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
}

/** As Dataverse writes it in links: `919042%2108%2f22%2f2017%2008%3a10%3a44` (encodeURIComponent leaves `!` alone). */
export const encodeToken = (token: string): string => encodeLower(token).replace(/!/g, '%21');

export function parseToken(token: string): { version: number; issuedAt: number } | undefined {
  const match = /^(\d+)!(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})$/.exec(token);
  if (!match) return undefined;
  const [, version, month, day, year, hours, minutes, seconds] = match.map(Number);
  return {
    version: version as number,
    issuedAt: Date.UTC(year as number, (month as number) - 1, day, hours, minutes, seconds),
  };
}
