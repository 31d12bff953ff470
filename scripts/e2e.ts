// `npm run test:e2e`: the docs page in a real browser. Serves the worker as `npm start` does
// (built bundle on workerd, local state seeded with the admin), opens /docs in Debian's
// Chromium driven by playwright-core (no browser download), and checks what a person would:
// every operation renders, login through "Try it out", "Authorize" with the token, a protected
// operation answers 200, no console error, and nothing loads from another origin.
//   npm run test:e2e                 (CHROMIUM=/path/to/chromium to use another binary)
//   npm run test:e2e -- --screenshot docs.png
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { readDevVars } from './lib.ts';
import { seed } from './seed.ts';
import { serve } from './start.ts';

const { values } = parseArgs({
  options: { screenshot: { type: 'string' }, port: { type: 'string', default: '8790' }, report: { type: 'string' } },
});
const executablePath = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.error(`No Chromium at ${executablePath}: apt-get install -y chromium (or set CHROMIUM).`);
  process.exit(2);
}

interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}
const checks: Check[] = [];
function check(name: string, ok: boolean, detail?: string): void {
  checks.push({ name, ok, ...(detail ? { detail } : {}) });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}

/** Expands an operation, switches it to "Try it out", optionally fills the body, executes; returns the status shown. */
async function tryItOut(page: Page, blockId: string, body?: string): Promise<{ status: string; text: string }> {
  const block = page.locator(`#${blockId}`);
  await block.locator('.opblock-summary').first().click();
  await block.locator('button.try-out__btn').click();
  if (body !== undefined) await block.locator('textarea.body-param__text').fill(body);
  await block.locator('button.execute').click();
  const row = block.locator('.live-responses-table .response').first();
  await row.waitFor({ timeout: 15_000 });
  const status = (await row.locator('.response-col_status').innerText()).trim();
  const text = await row.locator('.response-col_description pre').first().innerText();
  return { status, text };
}

await seed();
const server = await serve({ port: Number(values.port) });
const origin = new URL(server.url).origin;
const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const started = Date.now();
try {
  const page = await browser.newPage();
  const consoleErrors: string[] = [];
  const offSite: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol !== 'data:' && url.origin !== origin) offSite.push(request.url());
  });

  await page.goto(`${origin}/docs`, { waitUntil: 'networkidle' });
  check('page title', (await page.title()) === 'edgeshop API docs', await page.title());

  const document = (await (await fetch(`${origin}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0);
  await page.locator('.opblock').first().waitFor();
  const rendered = await page.locator('.opblock').count();
  check('every operation renders', rendered === documented, `${rendered} rendered, ${documented} documented`);

  const vars = readDevVars();
  const credentials = JSON.stringify({ username: vars['ADMIN_USERNAME'] || 'admin', password: vars['ADMIN_PASSWORD'] || 'admin-password-change-me' });
  const loginResult = await tryItOut(page, 'operations-Auth-login', credentials);
  const access = (JSON.parse(loginResult.text) as { access?: string }).access;
  check('login through "Try it out"', loginResult.status === '200' && typeof access === 'string', `status ${loginResult.status}`);

  await page.locator('.auth-wrapper button.authorize').click();
  const modal = page.locator('.modal-ux');
  await modal.locator('input[type=text], input[type=password]').first().fill(access ?? '');
  await modal.locator('button.authorize').first().click();
  await modal.locator('button.btn-done').click();
  check('"Authorize" with the token', (await page.locator('.auth-wrapper button.authorize.locked').count()) === 1);

  const me = await tryItOut(page, 'operations-Users-getCurrentUser');
  check('"Try it out" on a protected operation', me.status === '200' && /"role":\s*"admin"/.test(me.text), `GET /users/me/ ${me.status}`);

  await page.reload({ waitUntil: 'networkidle' });
  check('authorization persists across a reload', (await page.locator('.auth-wrapper button.authorize.locked').count()) === 1);

  if (values.screenshot) await page.screenshot({ path: values.screenshot, fullPage: false });
  check('no console errors', consoleErrors.length === 0, consoleErrors.slice(0, 3).join(' | '));
  check('nothing loads from another origin', offSite.length === 0, offSite.slice(0, 3).join(' '));
} catch (error) {
  check('the browser run completed', false, error instanceof Error ? error.message.split('\n')[0] : String(error));
} finally {
  await browser.close();
  await server.stop();
}
const failed = checks.filter((c) => !c.ok).length;
console.log(`e2e (${((Date.now() - started) / 1000).toFixed(1)} s in the browser)`);
console.log(`e2e: ${checks.length - failed} passed, ${failed} failed`);
// For .ci/run, which sums these with the unit tests into its closing line.
if (values.report) writeFileSync(values.report, JSON.stringify({ passed: checks.length - failed, failed }));
process.exit(failed > 0 ? 1 : 0);
