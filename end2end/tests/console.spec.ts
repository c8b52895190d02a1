// The console in a browser: hydration, catalog, running requests, the token badge, environments.
import { readFileSync } from 'node:fs';

import { type ConsoleMessage, type Response } from '@playwright/test';
import { expect, test } from './support/fixtures';

import {
  chooseEnvironment,
  consoleLogLines,
  fingerprintOf,
  issuedSandboxTokens,
  openConsole,
  parseCountdown,
  pickEndpoint,
  rawText,
  responseJson,
  runRequest,
} from './support/console';
import { SANDBOX_PORT } from './support/paths';

test('the page hydrates, shows the simulator environment and lists the catalog grouped by tag', async ({ page }) => {
  await openConsole(page);

  const envSelect = page.getByTestId('env-select');
  await expect(envSelect).toHaveValue('simulator');
  await expect(envSelect.locator('option')).toHaveText([
    'Simulator (simulator)',
    'Simulator (token badge test) (simulator)',
    'Simulator (64 KB cap) (simulator)',
    'Sandbox (test) (sandbox)',
    'Sandbox (wrong secret) (sandbox)',
    'Simulator (production data) (production)',
  ]);
  await expect(page.getByTestId('env-kind')).toHaveText('SIMULATOR');
  await expect(page.getByTestId('token-badge')).toBeVisible();

  const groups = page.locator('.catalog-group');
  const tags = await groups.locator('h2').allTextContents();
  expect(tags).toEqual(expect.arrayContaining(['Wallets', 'Charges', 'Payouts', 'Public']));
  expect(new Set(tags).size, `each tag heads one group: ${tags.join(', ')}`).toBe(tags.length);

  const endpoints = page.locator('[data-testid^="endpoint-"]');
  expect(await endpoints.count()).toBeGreaterThanOrEqual(10);
  const group = (tag: string) => groups.filter({ has: page.getByRole('heading', { name: tag, exact: true }) });
  await expect(group('Charges').getByTestId('endpoint-listCharges')).toBeVisible();
  await expect(group('Charges').getByTestId('endpoint-createCharge')).toBeVisible();
  await expect(group('Wallets').getByTestId('endpoint-listWallets')).toBeVisible();
  await expect(group('Public').getByTestId('endpoint-getPublicCharge')).toBeVisible();
  await expect(group('Payouts').getByTestId('endpoint-listPayouts')).toBeVisible();
});

test('listing charges with limit 3 shows 200 OK, a time, a size and exactly three pretty-printed charges', async ({ page }) => {
  await openConsole(page);
  await pickEndpoint(page, 'listCharges');
  await expect(page.getByTestId('method-select')).toHaveValue('GET');
  await expect(page.getByTestId('path-input')).toHaveValue('/bank/wallet/charges/');
  await expect(page.getByTestId('param-wallet_uuid')).not.toHaveValue('');
  // An optional filter only hints at its example: a prefilled merchant would silently narrow the list.
  await expect(page.getByTestId('param-merchant_uuid')).toHaveValue('');
  await expect(page.getByTestId('param-merchant_uuid')).toHaveAttribute('placeholder', /e\.g\. 7a9e4c2d-/);
  await page.getByTestId('param-limit').fill('3');

  await runRequest(page);

  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  await expect(page.getByTestId('response-time')).toHaveText(/^\d+(\.\d+)? m?s \(first byte \d+(\.\d+)? m?s\)$/);
  await expect(page.getByTestId('response-size')).toHaveText(/^\d+(\.\d)? (B|KB|MB)$/);
  const text = await rawText(page);
  expect(text).toContain('"charge_uuid"');
  expect(text, 'the body is pretty-printed').toMatch(/^\{\n {2}"/);
  const body = await responseJson(page);
  expect(Array.isArray(body.data)).toBe(true);
  expect(body.data).toHaveLength(3);
  for (const charge of body.data) {
    expect(typeof charge.charge_uuid).toBe('string');
  }
  await expect(page.getByTestId('truncated')).toHaveCount(0);
});

test('Ctrl+Enter runs the request too', async ({ page }) => {
  await openConsole(page);
  await pickEndpoint(page, 'listWallets');
  await expect(page.getByTestId('response-status')).toHaveCount(0);

  await page.getByTestId('path-input').focus();
  await runRequest(page, () => page.keyboard.press('Control+Enter'));

  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  await expect(page.locator('.sent-url')).toContainText('/api/v1/wallets');
  const body = await responseJson(page);
  expect(JSON.stringify(body)).toContain('wallet_uuid');
});

test('the token badge turns from empty to fresh after the first run and its countdown decreases', async ({ page }) => {
  await openConsole(page);
  // An environment no other test uses, so its token cache is empty whatever ran before.
  await chooseEnvironment(page, 'simulator-badge');
  const badge = page.getByTestId('token-badge');
  const countdown = page.getByTestId('token-countdown');
  await expect(badge).toHaveClass(/\bempty\b/);
  await expect(countdown).toHaveText('no token yet');
  await expect(page.getByTestId('token-fingerprint')).toHaveCount(0);

  await pickEndpoint(page, 'listWallets');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');

  await expect(badge).toHaveClass(/\bfresh\b/);
  await expect(page.getByTestId('token-fingerprint')).toHaveText(/^[0-9a-f]{8}$/);
  await expect(countdown).toHaveText(/^expires in 1:5\d$/);
  const first = parseCountdown(await countdown.textContent());

  await page.waitForTimeout(2_500);

  const second = parseCountdown(await countdown.textContent());
  const elapsed = first - second;
  expect(elapsed, `countdown went from ${first} s to ${second} s in 2.5 s`).toBeGreaterThanOrEqual(1);
  expect(elapsed, `countdown went from ${first} s to ${second} s in 2.5 s`).toBeLessThanOrEqual(5);
  await expect(badge).toHaveClass(/\bfresh\b/);
});

test('creating a charge with an empty JSON object shows the API validation error listing the fields', async ({ page }) => {
  await openConsole(page);
  await pickEndpoint(page, 'createCharge');
  await expect(page.getByTestId('method-select')).toHaveValue('POST');
  const editor = page.getByTestId('body-editor');
  await expect(editor).not.toHaveValue('');
  await editor.fill('{}');
  await expect(page.getByTestId('body-error')).toHaveCount(0);

  await runRequest(page);

  await expect(page.getByTestId('response-status')).toHaveText('400 Bad Request');
  const text = await rawText(page);
  expect(text).toContain('VALIDATION_ERROR');
  expect(text).toContain('payer_name');
  const body = await responseJson(page);
  expect(body.error.code).toBe('VALIDATION_ERROR');
  const fields = (body.error.details as { field: string }[]).map((d) => d.field);
  expect(fields).toEqual(expect.arrayContaining(['payer_name']));
  expect(fields.length, `fields: ${fields.join(', ')}`).toBeGreaterThan(1);
});

test('a raw path that tries to leave the API base is refused with a clear error and nothing is sent', async ({ page }) => {
  await openConsole(page);
  await pickEndpoint(page, 'listWallets');
  const pathInput = page.getByTestId('path-input');

  // Control: a raw path inside the base is sent, and the console logs the upstream request.
  await pathInput.fill('/wallets');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  const upstreamLines = (needle: string) =>
    consoleLogLines().filter((line) => line.includes('upstream request') && line.includes(`path=${needle}`));
  await expect.poll(() => upstreamLines('/wallets').length).toBeGreaterThan(0);

  const refused: [string, RegExp][] = [
    ['../admin', /dot segment.*could leave the API base/],
    ['//evil.example/x', /give a path, not a URL/],
    ['https://evil.example/x', /give a path, not a URL/],
    ['/bank/%2e%2e/%2e%2e/admin', /dot segment/],
  ];
  for (const [path, message] of refused) {
    await pathInput.fill(path);
    const answer = await runRequest(page);
    expect(answer.status(), `server function status for ${path}`).toBe(400);
    const error = page.getByTestId('response-error');
    await expect(error).toBeVisible();
    await expect(error).toContainText('The request did not complete.');
    await expect(error).toContainText(message);
    await expect(page.getByTestId('response-status')).toHaveCount(0);
    expect(upstreamLines(path), `an upstream request was logged for ${path}`).toEqual([]);
  }
  const evil = consoleLogLines().filter((line) => /evil\.example/.test(line) && /connect|resolv|dns|upstream/i.test(line));
  expect(evil, 'the console tried to reach evil.example').toEqual([]);
});

test('switching to the sandbox environment runs against the standalone simulator with another token', async ({ page }) => {
  await openConsole(page);
  await pickEndpoint(page, 'listWallets');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  await expect(page.locator('.sent-url')).not.toContainText(`:${SANDBOX_PORT}/`);
  const fingerprint = page.getByTestId('token-fingerprint');
  await expect(fingerprint).toHaveText(/^[0-9a-f]{8}$/);
  const simulatorFingerprint = (await fingerprint.textContent())!;

  await chooseEnvironment(page, 'sandbox');
  await expect(page.getByTestId('env-kind')).toHaveText('SANDBOX');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  await expect(page.locator('.sent-url')).toContainText(`GET http://127.0.0.1:${SANDBOX_PORT}/api/v1/wallets`);
  await expect(fingerprint).toHaveText(/^[0-9a-f]{8}$/);
  const sandboxFingerprint = (await fingerprint.textContent())!;
  expect(sandboxFingerprint).not.toBe(simulatorFingerprint);
  // The token the request went with. It may be an older sandbox token than the badge's: inside its
  // refresh skew (tokens live 120 s here) a token is still served while a new one is fetched.
  await expect(page.getByTestId('response-summary')).toContainText(/token [0-9a-f]{8}/);
  const summary = (await page.getByTestId('response-summary').textContent())!;
  const usedFingerprint = /token ([0-9a-f]{8})/.exec(summary)![1];
  expect(usedFingerprint).not.toBe(simulatorFingerprint);

  // The tokens really came from the standalone simulator: it wrote them to the issued-tokens file.
  const issued = issuedSandboxTokens().map(fingerprintOf);
  expect(issued, 'fingerprints of tokens the standalone simulator issued').toContain(sandboxFingerprint);
  expect(issued, 'the token the request was sent with').toContain(usedFingerprint);
  expect(issued).not.toContain(simulatorFingerprint);
});

test('the filter box narrows the endpoint list', async ({ page }) => {
  await openConsole(page);
  const filter = page.getByTestId('catalog-filter');
  const all = await page.locator('[data-testid^="endpoint-"]').count();

  await filter.fill('payout');
  await expect(page.getByTestId('endpoint-listPayouts')).toBeVisible();
  await expect(page.getByTestId('endpoint-createPayout')).toBeVisible();
  await expect(page.getByTestId('endpoint-listCharges')).toBeHidden();
  await expect(page.getByTestId('endpoint-listWallets')).toBeHidden();
  const narrowed = await page.locator('[data-testid^="endpoint-"]').count();
  expect(narrowed).toBeGreaterThan(0);
  expect(narrowed).toBeLessThan(all);

  await filter.fill('');
  await expect(page.getByTestId('endpoint-listCharges')).toBeVisible();
  await expect(page.locator('[data-testid^="endpoint-"]')).toHaveCount(all);
});

test('a normal session raises no page errors, console errors or failed loads', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message: ConsoleMessage) => {
    // The browser's own favicon fetch is checked, and reported, by the favicon test below.
    if (message.type() === 'error' && !isFavicon(message.location().url)) {
      problems.push(`console.error: ${message.text()} (${message.location().url})`);
    }
  });
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  page.on('response', (response: Response) => {
    // Server functions answer API errors with 4xx on purpose; everything else must load.
    if (response.status() >= 400 && !new URL(response.url()).pathname.startsWith('/api/')) {
      problems.push(`HTTP ${response.status()} for ${response.url()}`);
    }
  });

  await openConsole(page);
  await page.getByTestId('catalog-filter').fill('charges');
  await pickEndpoint(page, 'listCharges');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  await page.getByTestId('catalog-filter').fill('');
  await chooseEnvironment(page, 'sandbox');
  await pickEndpoint(page, 'listWallets');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  await pickEndpoint(page, 'createCharge');
  await page.getByTestId('body-editor').fill('{}');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('400 Bad Request');
  await page.waitForLoadState('networkidle');

  expect(problems).toEqual([]);
});

const isFavicon = (url: string) => /^https?:\/\/[^/]+\/favicon\.ico$/.test(url);

test('the browser finds a favicon', async ({ page }) => {
  const faviconErrors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' && isFavicon(message.location().url)) faviconErrors.push(message.text());
  });
  await openConsole(page);
  // What the browser asks for: the declared icon, else /favicon.ico.
  const href = await page.evaluate(
    () => document.querySelector<HTMLLinkElement>('link[rel~="icon"]')?.href ?? new URL('/favicon.ico', location.href).href,
  );
  const icon = await page.request.get(href);
  expect(icon.status(), `GET ${href}`).toBe(200);
  expect(icon.headers()['content-type'], `content type of ${href}`).toMatch(/^image\//);
  await page.waitForTimeout(1_000);
  expect(faviconErrors, 'errors the browser logged while fetching /favicon.ico').toEqual([]);
});

test('the whole stylesheet applies: no rule is swallowed by an unclosed block', async ({ page }) => {
  await openConsole(page);
  // A missing `}` makes every later rule a nested rule of the one before it (CSS nesting); the build
  // flattens those into descendant selectors that never match, so the builder's styles silently
  // stop applying. The source is parsed by the browser's own CSS parser; it uses no intentional nesting.
  const source = readFileSync(new URL('../../style/main.css', import.meta.url), 'utf8');
  const nested = await page.evaluate((text) => {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(text);
    const found: string[] = [];
    const walk = (rules: CSSRuleList, inside: string) => {
      for (const rule of Array.from(rules)) {
        if (rule instanceof CSSStyleRule) {
          if (inside) found.push(`${rule.selectorText} inside ${inside}`);
          if (rule.cssRules.length > 0) walk(rule.cssRules, rule.selectorText);
        } else if ('cssRules' in rule) {
          walk((rule as CSSGroupingRule).cssRules, inside);
        }
      }
    };
    walk(sheet.cssRules, '');
    return found.slice(0, 5);
  }, source);
  expect(nested, 'rules of style/main.css nested by accident').toEqual([]);
  await expect(page.getByTestId('endpoint-listCharges').locator('.mark').first()).toHaveCSS('border-radius', /^[1-9]/);
});

test('after moving between pages one Ctrl+Enter sends exactly one request and no unmounted page keeps a timer', async ({ page }) => {
  // Count the intervals the page has running: every setInterval not yet cleared.
  await page.addInitScript(() => {
    const live = new Set<number>();
    const set = window.setInterval.bind(window);
    const clear = window.clearInterval.bind(window);
    (window as any).__liveIntervals = live;
    window.setInterval = ((handler: TimerHandler, timeout?: number, ...rest: unknown[]) => {
      const id = set(handler, timeout, ...rest);
      live.add(id);
      return id;
    }) as typeof window.setInterval;
    window.clearInterval = ((id?: number) => {
      if (id !== undefined) live.delete(id);
      clear(id);
    }) as typeof window.clearInterval;
  });
  const liveIntervals = () => page.evaluate(() => (window as any).__liveIntervals.size as number);
  const executes: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/execute') executes.push(r.url());
  });

  await openConsole(page);
  const onFirstVisit = await liveIntervals();
  expect(onFirstVisit, 'the console page runs its clock and token resync').toBeGreaterThan(0);

  // In-app navigation (no reload): / -> /compare -> / -> /token -> /
  await page.getByTestId('nav-compare').click();
  await expect(page).toHaveURL(/\/compare/);
  await page.getByTestId('nav-console').click();
  await expect(page).toHaveURL(/\/(\?.*)?$/);
  await page.getByTestId('token-badge').click();
  await expect(page).toHaveURL(/\/token/);
  await page.getByTestId('back-to-console').click();
  await expect(page).toHaveURL(/\/(\?.*)?$/);
  await expect(page.getByTestId('run-button')).toBeVisible();

  await expect.poll(liveIntervals, { message: 'timers of unmounted pages were cleared' }).toBe(onFirstVisit);

  await pickEndpoint(page, 'listWallets');
  await page.getByTestId('path-input').focus();
  await runRequest(page, () => page.keyboard.press('Control+Enter'));
  await page.waitForTimeout(500);
  expect(executes, 'one key press, one request').toHaveLength(1);
});
