// `npm run screenshots`: runs the console's browser test with its screenshots written to docs/screenshots/
// (git-ignored: regenerated, not committed by hand). Needs Chromium, as the test does.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const projectRoot = join(__dirname, '..');
const result = spawnSync('npx', ['vitest', 'run', 'test/console/browser.test.ts'], {
  cwd: projectRoot,
  stdio: 'inherit',
  // npx is a .cmd script on Windows, which only a shell can start.
  shell: process.platform === 'win32',
  env: { ...process.env, DVX_SCREENSHOTS_DIR: join(projectRoot, 'docs', 'screenshots'), DVX_REQUIRE_TOOLS: '1' },
});
process.exitCode = result.status ?? 1;
