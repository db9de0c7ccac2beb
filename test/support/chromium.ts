/**
 * Debian's Chromium for the console's browser tests, driven by playwright-core (which ships no browser).
 * CHROMIUM_PATH names it, else `chromium` on PATH. Absent, the browser tests are skipped saying how to get it,
 * unless DVX_REQUIRE_TOOLS=1 (CI), where its absence fails them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM_MISSING =
  'Chromium is not installed: install it (`apt-get install chromium`) or set CHROMIUM_PATH to a Chromium or Chrome executable.';

export function findChromium(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.CHROMIUM_PATH) return existsSync(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : undefined;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const found = execFileSync('which', [name], { encoding: 'utf8' }).trim();
      if (found) return found;
    } catch {
      // not on PATH under this name
    }
  }
  return undefined;
}

/** The executable, undefined to skip (with the reason logged), or a thrown error when CI requires the tool. */
export function chromiumOrSkip(env: Record<string, string | undefined> = process.env): string | undefined {
  const found = findChromium(env);
  if (found) return found;
  if (env.DVX_REQUIRE_TOOLS === '1')
    throw new Error(`DVX_REQUIRE_TOOLS=1 requires the console browser tests to run. ${CHROMIUM_MISSING}`);
  console.warn(`The console browser tests are skipped. ${CHROMIUM_MISSING}`);
  return undefined;
}
