/**
 * The admin console in a real browser (Debian's Chromium through playwright-core) against the real local host,
 * the Dataverse emulator's sample org and a PostgreSQL destination: sign in with the key, create a profile through
 * the form (a validation error from the API shown at its field), activate it, watch the tables reach delta, see a
 * row the destination rejects appear as a failed record, download it, resync it and see it go. Screenshots of each
 * page go to DVX_SCREENSHOTS_DIR (`npm run screenshots` sets docs/screenshots) or a temp folder.
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromiumOrSkip } from '../support/chromium';
import { EMULATOR_TOKEN, sourceVersions, TEST_KEY, usePostgresServer, useProduct } from '../support/pipeline';

const executablePath = chromiumOrSkip();
const screenshots = process.env.DVX_SCREENSHOTS_DIR ?? mkdtempSync(join(tmpdir(), 'dvx-console-screens-'));
const PROFILE = 'console-demo';

describe.skipIf(executablePath === undefined)('the admin console in a browser', () => {
  const product = useProduct({ sync: { pageSize: 25, fanOut: 2 } });
  const postgres = usePostgresServer();
  let browser: Browser;
  let page: Page;
  const requestedUrls: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    // Refresh the profile page every half second instead of every three, so the test sees changes sooner.
    await context.addInitScript({ content: "sessionStorage.setItem('dvx-refresh-ms', '500');" });
    page = await context.newPage();
    page.on('request', (request) => requestedUrls.push(request.url()));
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // HTTP error statuses are the API's answers, asserted where they matter; anything else is a fault.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        pageErrors.push(message.text());
    });
  }, 60_000);
  afterAll(async () => browser?.close());
  // A script error or a resource the policy refused (CSP) shows in the browser's console; none is expected.
  afterEach(() => expect(pageErrors.splice(0)).toEqual([]));

  // Generous: under `npm test` the other suites share the cores with the browser and the host.
  const WAIT = { timeout: 60_000 };
  const profileRow = () => page.getByRole('row', { name: new RegExp(PROFILE) });
  const shot = (name: string) => page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
  const destinationSql = async (sql: string) => {
    const client = new Client({ connectionString: postgres() });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };

  it('signs in with the key, refusing a wrong one, and never puts the key in a URL', async () => {
    await page.goto(`${product().host.baseUrl}/console/`);
    await page.getByLabel('Function key').fill('not-the-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#key-error').textContent()).toContain('refused');
    await shot('sign-in');
    await page.getByLabel('Function key').fill(TEST_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Export profiles' }).waitFor();
    expect(await page.locator('tbody').textContent()).toContain('No profiles yet');
    expect(requestedUrls.filter((url) => url.includes(TEST_KEY) || url.includes('code='))).toEqual([]);
  });

  it('creates a profile through the form, showing the API validation error next to its field', async () => {
    const p = product();
    p.env.DVX_SECRET_CONSOLE_DESTINATION = postgres();
    await page.getByRole('link', { name: 'Create a profile' }).click();
    await page.getByLabel('Name').fill(PROFILE);
    await page.getByLabel('Dataverse Web API URL').fill(p.emulator.baseUrl);
    await page
      .getByLabel('Source authentication (JSON)')
      .fill(JSON.stringify({ kind: 'static-token', token: { appSetting: 'DVX_SECRET_DV_TOKEN' } }));
    await page.getByLabel('Tables').fill('account, contact');
    await page.getByLabel('Destination', { exact: true }).selectOption('postgres');
    await page.getByLabel('Connection (SQL)').fill('DVX_SECRET_CONSOLE_DESTINATION');
    await page.getByLabel('Schema (SQL)').fill('not-a-schema');
    await page.getByLabel('Retries of a failing batch').fill('2');
    await page.getByLabel('Seconds between retries').fill('0');
    await page.getByRole('button', { name: 'Create' }).click();
    const schemaError = page.locator('#schema-error');
    await expect.poll(() => schemaError.textContent(), WAIT).toContain('must be alphanumeric');
    expect(await page.getByLabel('Schema (SQL)').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#tables-error').isHidden()).toBe(true);
    await shot('profile-form-error');
    expect((await p.call('GET', `profiles/${PROFILE}`)).status).toBe(404);

    await page.getByLabel('Schema (SQL)').fill('console');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Export profiles' }).waitFor();
    expect(await profileRow().textContent()).toContain('never activated');
    expect((await p.call('GET', `profiles/${PROFILE}`)).body).toMatchObject({
      tables: ['account', 'contact'],
      destination: { kind: 'sql', dialect: 'postgres', schema: 'console' },
    });
  });

  it('activates it and shows every table reaching delta with its progress bar full', async () => {
    await page.getByRole('button', { name: `Activate ${PROFILE}` }).click();
    await expect
      .poll(async () => `${await page.locator('#notice').textContent()} | ${await profileRow().textContent()}`, WAIT)
      .toMatch(/activated \|.*console-demo\s*active/);
    await shot('profiles');
    await page.getByRole('link', { name: PROFILE, exact: true }).click();
    await page.getByRole('heading', { name: `Profile ${PROFILE}` }).waitFor();
    for (const table of ['account', 'contact']) {
      const row = page.locator(`tr[data-table="${table}"]`);
      await expect.poll(() => row.locator('.phase').textContent(), { timeout: 90_000 }).toBe('delta');
      const bar = row.locator('progress');
      expect(await bar.getAttribute('value')).toBe('1');
      expect(await bar.getAttribute('max')).toBe('1');
    }
    const accounts = sourceVersions(product().emulator, 'account').size;
    await expect
      .poll(() => page.locator('tr[data-table="account"] td.number').first().textContent(), WAIT)
      .toBe(String(accounts));
    expect(await page.locator('#charts svg').count()).toBe(2);
    await shot('profile');
  }, 240_000);

  it('shows a row the destination rejects as a failed record, downloads it, resyncs it and sees it go', async () => {
    const p = product();
    // A real data error: the destination refuses this name, as a constraint added by a DBA would.
    await destinationSql(`ALTER TABLE console.account ADD CONSTRAINT no_rejected CHECK (name NOT LIKE 'rejected%')`);
    const [id] = [...sourceVersions(p.emulator, 'account').keys()];
    if (!id) throw new Error('the sample org has no accounts');
    const patched = await fetch(`${p.emulator.baseUrl}accounts(${id})`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'rejected by the destination' }),
    });
    expect(patched.status).toBe(204);
    const failedCell = page.locator('tr[data-table="account"] td.number').nth(2);
    await expect.poll(() => failedCell.textContent(), WAIT).toBe('1');

    await failedCell.getByRole('link').click();
    await page.getByRole('heading', { name: `Failed records of ${PROFILE}` }).waitFor();
    expect(await page.locator('#table-filter').textContent()).toContain('account (1)');
    await page.getByRole('button', { name: `View ${id}` }).click();
    await expect.poll(() => page.locator('#detail').textContent(), WAIT).toContain('no_rejected');
    await shot('failures');

    const [json] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download JSON' }).click(),
    ]);
    const records = JSON.parse(readFileSync(await json.path(), 'utf8')) as Array<Record<string, unknown>>;
    expect(records).toEqual([
      expect.objectContaining({ profile: PROFILE, table: 'account', id, errorClass: 'data', changeType: 'upsert' }),
    ]);
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const lines = readFileSync(await csv.path(), 'utf8')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('key,profile,table,id,changeType,failedAt,attempt,reason');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`,account,${id},upsert,`);

    await destinationSql('ALTER TABLE console.account DROP CONSTRAINT no_rejected');
    await page.getByRole('checkbox', { name: `Select account ${id}` }).check();
    await page.getByRole('button', { name: 'Resync selected' }).click();
    await expect.poll(() => page.locator('#notice').textContent(), WAIT).toContain('1 resolved, 0 still failing');
    await expect.poll(() => page.locator('tbody').textContent(), WAIT).toContain('No failed records.');
    expect((await p.call('GET', `profiles/${PROFILE}/failures`)).body).toEqual({ countsByTable: {}, records: [] });
  }, 240_000);

  it('shows each dependency on the health page', async () => {
    await page.getByRole('link', { name: 'Health' }).click();
    await page.getByRole('heading', { name: 'Health' }).waitFor();
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBeGreaterThan(0);
    expect(await page.locator('main').textContent()).toContain('Overall: ok');
    await shot('health');
  });

  it('edits the profile in the form filled from the stored one, then deactivates and deletes it after confirmation', async () => {
    await page.getByRole('link', { name: 'Profiles' }).click();
    await page.getByRole('link', { name: `Edit ${PROFILE}` }).click();
    await page.getByRole('heading', { name: `Edit ${PROFILE}` }).waitFor();
    expect(await page.getByLabel('Schema (SQL)').inputValue()).toBe('console');
    expect(await page.getByLabel('Tables').inputValue()).toBe('account, contact');
    await page.getByLabel('Description').fill('edited in the console');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Export profiles' }).waitFor();
    expect((await product().call('GET', `profiles/${PROFILE}`)).body).toMatchObject({
      description: 'edited in the console',
      tables: ['account', 'contact'],
      destination: { kind: 'sql', dialect: 'postgres', schema: 'console' },
    });

    await page.getByRole('button', { name: `Deactivate ${PROFILE}` }).click();
    await page.getByRole('button', { name: `Activate ${PROFILE}` }).waitFor();
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: `Delete ${PROFILE}` }).click();
    expect((await product().call('GET', `profiles/${PROFILE}`)).status).toBe(200);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: `Delete ${PROFILE}` }).click();
    await expect.poll(() => page.locator('tbody').textContent(), WAIT).toContain('No profiles yet');
    expect((await product().call('GET', `profiles/${PROFILE}`)).status).toBe(404);
  });
});
