/**
 * The admin console's static files (the top-level `console/` folder, shipped in the deploy zip by
 * scripts/package.ts). Only files that exist there when the catalogue is built are served, looked up by exact
 * name, so no request path can reach anything else; paths are also checked by a strict schema first.
 * The files hold no data: every figure the console shows comes from the admin API, with its own key and role checks.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join, relative, sep } from 'node:path';
import { z } from 'zod';

/** `pages/profile.js`: segments of letters, digits, `-`, `_` and inner dots; never `..`, `\`, `%` or a leading dot. */
export const consoleAssetPathSchema = z
  .string()
  .max(200)
  .regex(
    /^([A-Za-z0-9_-][A-Za-z0-9_.-]{0,80}\/){0,3}[A-Za-z0-9_-][A-Za-z0-9_.-]{0,80}$/,
    'must name a console file: letters, digits, - and _ in up to 4 segments, no .. or leading dot',
  )
  .refine((path) => !path.split('/').some((segment) => segment.includes('..')), 'must not contain ..');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Strict headers for every asset: scripts only from this origin as files (no inline script, no eval), data only
 * fetched from this origin, never framed, no referrer to other sites, no MIME sniffing.
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
};

export interface ConsoleAsset {
  contentType: string;
  body: Buffer;
}

export interface ConsoleAssets {
  /** The file for a request path ('' is the start page), or undefined when there is no such console file. */
  get(path: string): ConsoleAsset | undefined;
  names(): string[];
}

/** The repository (or deployed package) root: the nearest folder above `from` holding package.json. */
export function packageRoot(from: string): string {
  let folder = from;
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) return from;
    folder = parent;
  }
  return folder;
}

/** Reads every servable file of `folder` once; the catalogue is the allow-list. */
export async function loadConsoleAssets(folder: string): Promise<ConsoleAssets> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const files = new Map<string, ConsoleAsset>();
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const contentType = CONTENT_TYPES[extname(entry.name)];
    if (contentType === undefined) continue;
    const path = relative(folder, join(entry.parentPath, entry.name)).split(sep).join('/');
    files.set(path, { contentType, body: await readFile(join(entry.parentPath, entry.name)) });
  }
  return {
    get: (path) => files.get(path === '' ? 'index.html' : path),
    names: () => [...files.keys()].sort(),
  };
}
