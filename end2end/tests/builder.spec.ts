// The request builder in a browser: keyboard search, parameter checks, curl import, links,
// history, saved requests, snippets, live specs and the Idempotency-Key.
import { type Page, type Request } from '@playwright/test';
import { expect, test } from './support/fixtures';

import { canarySecrets, SANDBOX_PORT } from './support/paths';
import { chooseEnvironment, isExecute, openConsole, pickEndpoint, responseJson, runRequest } from './support/console';

const WALLET = '2f0c1b7e-3d4a-4e59-9c1a-1b2c3d4e5f60';

/// Records every call of the execute server function, to prove that something was (not) sent.
function recordExecutes(page: Page): Request[] {
  const sent: Request[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/execute') sent.push(request);
  });
  return sent;
}

async function openTool(page: Page, tool: 'history' | 'saved' | 'snippets' | 'curl'): Promise<void> {
  await page.getByTestId(`tool-${tool}`).click();
  await expect(page.getByTestId(`tool-${tool}`)).toHaveClass(/\bactive\b/);
}

test('search with the keyboard, pick, fill with inline checks, and run', async ({ page }) => {
  await openConsole(page);
  await page.locator('body').click();
  await page.keyboard.press('/');
  const search = page.getByTestId('catalog-filter');
  await expect(search).toBeFocused();
  await page.keyboard.type('lstchrg');
  const first = page.locator('.catalog [data-testid^="endpoint-"]').first();
  await expect(first).toHaveAttribute('data-testid', 'endpoint-listCharges');
  await expect(first).toHaveClass(/\bhighlighted\b/);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('endpoint-listCharges')).toHaveClass(/\bselected\b/);
  await expect(page.getByTestId('path-input')).toHaveValue('/bank/wallet/charges/');
  // Markers: needs a token, reads only, and how sure the catalog is.
  await expect(page.getByTestId('endpoint-listCharges').locator('.mark-token')).toBeVisible();
  await expect(page.getByTestId('endpoint-listCharges').locator('.mark-writes')).toHaveCount(0);

  const limit = page.getByTestId('param-limit');
  await limit.fill('two');
  await expect(page.getByTestId('param-limit-problem')).toHaveText('must be a whole number');
  await limit.fill('2');
  await expect(page.getByTestId('param-limit-problem')).toHaveCount(0);

  // A missing required value is caught before anything is sent.
  const sent = recordExecutes(page);
  await page.getByTestId('param-wallet_uuid').fill('');
  await page.getByTestId('run-button').click();
  await expect(page.getByTestId('run-problems')).toContainText('wallet_uuid (query): required');
  expect(sent).toHaveLength(0);
  await page.getByTestId('send-cancel').click();
  await page.getByTestId('param-wallet_uuid').fill(WALLET);
  await runRequest(page, () => page.keyboard.press('Control+Enter'));
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  expect((await responseJson(page)).data).toHaveLength(2);
});

// The sandbox's token cache is left alone here (the console suite counts its tokens): the curl
// command targets the built-in simulator, whose address the page shows.
test('a pasted curl command fills environment, endpoint and values, drops the credentials, and runs only on Run', async ({ page }) => {
  await openConsole(page, '/?env=sandbox');
  const sent = recordExecutes(page);
  await chooseEnvironment(page, 'simulator');
  const base = (await page.locator('.env-base').textContent())!.trim();
  expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/$/);
  await chooseEnvironment(page, 'sandbox');
  await openTool(page, 'curl');
  const command = [
    `curl -sS '${base}bank/wallet/charges/?wallet_uuid=${WALLET}&limit=1' \\`,
    `  -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.partner.token' \\`,
    `  -H 'X-Partner-Trace: trace-42'`,
  ].join('\n');
  await page.getByTestId('curl-input').fill(command);
  await page.getByTestId('curl-import').click();
  await expect(page.getByTestId('curl-notices')).toContainText('dropped the Authorization header');
  await expect(page.getByTestId('env-select')).toHaveValue('simulator');
  await expect(page.getByTestId('endpoint-listCharges')).toHaveClass(/\bselected\b/);
  await expect(page.getByTestId('param-limit')).toHaveValue('1');
  await expect(page.getByTestId('param-wallet_uuid')).toHaveValue(WALLET);
  await expect(page.getByTestId('extra-header-name-0')).toHaveValue('X-Partner-Trace');
  await expect(page.getByTestId('extra-header-value-0')).toHaveValue('trace-42');
  expect(sent, 'importing sends nothing').toHaveLength(0);

  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  await expect(page.locator('.sent-url')).toContainText(`${base}bank/wallet/charges/?wallet_uuid=${WALLET}&limit=1`);
  expect(sent[0].postData() ?? '').not.toContain('eyJ');

  await page.getByTestId('curl-input').fill('curl https://evil.example.com/api/v1/wallets');
  await page.getByTestId('curl-import').click();
  await expect(page.getByTestId('curl-error')).toContainText('evil.example.com is not the host of a configured environment');
});

test('opening a link fills the form and sends nothing; editing the form updates the address', async ({ page }) => {
  const sent = recordExecutes(page);
  await openConsole(page, `/?env=sandbox&op=listCharges&q.wallet_uuid=${WALLET}&q.limit=4&h.X-Trace=abc`);
  await expect(page.getByTestId('env-select')).toHaveValue('sandbox');
  await expect(page.getByTestId('endpoint-listCharges')).toHaveClass(/\bselected\b/);
  await expect(page.getByTestId('param-limit')).toHaveValue('4');
  await expect(page.getByTestId('param-wallet_uuid')).toHaveValue(WALLET);
  await expect(page.getByTestId('extra-header-value-0')).toHaveValue('abc');
  await page.getByTestId('param-limit').fill('7');
  await expect.poll(() => new URL(page.url()).searchParams.get('q.limit')).toBe('7');
  expect(new URL(page.url()).searchParams.get('op')).toBe('listCharges');
  await page.waitForTimeout(500);
  expect(sent, 'a link never sends by itself').toHaveLength(0);

  // The address just written reopens the same form in a fresh page.
  const second = await page.context().newPage();
  const sentThere = recordExecutes(second);
  await openConsole(second, page.url().replace(/^https?:\/\/[^/]+/, ''));
  await expect(second.getByTestId('param-limit')).toHaveValue('7');
  await expect(second.getByTestId('env-select')).toHaveValue('sandbox');

  // A raw request travels as method and path.
  await openConsole(second, '/?env=simulator&method=GET&path=%2Fwallets');
  await expect(second.getByTestId('path-input')).toHaveValue('/wallets');
  await expect(second.getByTestId('raw-mode')).toBeVisible();
  await second.waitForTimeout(300);
  expect(sentThere).toHaveLength(0);
});

test('history lists runs newest first; open shows the stored response, run again sends it again', async ({ page }) => {
  await openConsole(page);
  await pickEndpoint(page, 'listWallets');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  await openTool(page, 'history');
  const newest = page.getByTestId('history-row-0');
  await expect(newest).toContainText('GET /wallets');
  await expect(newest).toContainText('200');

  // Open: the stored request and response come back and nothing is sent.
  await pickEndpoint(page, 'listCharges');
  const sent = recordExecutes(page);
  await page.getByTestId('history-open-0').click();
  await expect(page.getByTestId('history-note')).toContainText('from history');
  await expect(page.getByTestId('path-input')).toHaveValue('/wallets');
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  expect(sent).toHaveLength(0);

  // Run again: the same request goes out and becomes the newest entry.
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/execute');
  await page.getByTestId('history-rerun-0').click();
  await answered;
  await expect(page.getByTestId('history-note')).toHaveCount(0);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  expect(sent).toHaveLength(1);
  await expect(page.getByTestId('history-row-1')).toContainText('GET /wallets');
});

test('a saved request is visible to another staff member, who can open and delete it', async ({ page, browser }) => {
  const name = `Two charges ${Date.now()}`;
  await openConsole(page);
  await pickEndpoint(page, 'listCharges');
  await page.getByTestId('param-limit').fill('2');
  await openTool(page, 'saved');
  await page.getByTestId('saved-name').fill(name);
  await page.getByTestId('saved-collection').fill('E2E partner');
  await page.getByTestId('saved-save').click();
  await expect(page.getByTestId('saved-message')).toContainText(`Saved "${name}" in E2E partner`);

  // Another person: another browser context with its own storage.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await openConsole(otherPage);
  await openTool(otherPage, 'saved');
  const item = otherPage.getByTestId('saved-item').filter({ hasText: name });
  await expect(item).toBeVisible();
  await item.getByTestId('saved-open').click();
  await expect(otherPage.getByTestId('endpoint-listCharges')).toHaveClass(/\bselected\b/);
  await expect(otherPage.getByTestId('param-limit')).toHaveValue('2');
  await runRequest(otherPage);
  expect((await responseJson(otherPage)).data).toHaveLength(2);

  await item.getByTestId('saved-delete').click();
  await expect(otherPage.getByTestId('saved-item').filter({ hasText: name })).toHaveCount(0);
  await other.close();
});

test('snippets carry the token step with env vars and never the secret', async ({ page }) => {
  const { sandbox } = canarySecrets();
  await openConsole(page);
  await chooseEnvironment(page, 'sandbox');
  await pickEndpoint(page, 'listWallets');
  await openTool(page, 'snippets');
  const code = page.getByTestId('snippet-code');
  await expect(code).toContainText(`http://127.0.0.1:${SANDBOX_PORT}/oauth2/token`);
  await expect(code).toContainText('$A55_CLIENT_SECRET');
  for (const language of ['python', 'javascript', 'rust', 'curl']) {
    await page.getByTestId(`snippet-tab-${language}`).click();
    await expect(code).toContainText('A55_CLIENT_SECRET');
    await expect(code).toContainText(`/api/v1/wallets`);
    const text = (await code.textContent()) ?? '';
    expect(text).not.toContain(sandbox);
    expect(text).not.toContain('eyJ');
  }
});

test('the live spec of the simulator is listed as a source and adds its operations', async ({ page }) => {
  await openConsole(page);
  const sources = page.getByTestId('catalog-sources');
  await sources.locator('summary').click();
  const live = page.getByTestId('source-simulator (live spec)');
  await expect(live).toContainText('loaded');
  await expect(live).toContainText('operations from http://127.0.0.1:');
  await page.getByTestId('refresh-spec-simulator').click();
  await expect(live).toContainText('loaded');
  await page.getByTestId('catalog-filter').fill('sim large');
  await page.getByTestId('endpoint-simLargeChargeList').click();
  await expect(page.getByTestId('endpoint-simLargeChargeList').locator('.mark-live')).toBeVisible();
  await expect(page.getByTestId('path-input')).toHaveValue('/sim/large');
});

test('POST requests get a fresh Idempotency-Key that can be renewed; bodies get schema help', async ({ page }) => {
  await openConsole(page);
  await pickEndpoint(page, 'createCharge');
  const key = page.getByTestId('param-Idempotency-Key');
  await expect(key).toHaveValue(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const before = await key.inputValue();
  await page.getByTestId('new-idempotency-key').click();
  await expect(key).not.toHaveValue(before);

  const body = page.getByTestId('body-editor');
  await body.fill('{"wallet_uuid": 5,\n "value": 1}');
  await expect(page.getByTestId('schema-warnings')).toContainText('$.wallet_uuid');
  await body.fill('{"value": 1,\n}');
  await expect(page.getByTestId('body-error')).toContainText('line 2, column 1');
  await body.fill('{"value":1}');
  await page.getByTestId('body-format').click();
  await expect(body).toHaveValue('{\n  "value": 1\n}');
});

test('a slow request shows how long it has waited and Cancel really stops it', async ({ page }) => {
  await openConsole(page);
  // The simulator's slow test aid answers after ten seconds.
  await page.getByTestId('path-input').fill('/sim/slow');
  const answered = page.waitForResponse(isExecute);
  const started = Date.now();
  await page.getByTestId('run-button').click();
  const status = page.getByTestId('run-status');
  await expect(status).toBeVisible();
  await expect(page.getByTestId('run-elapsed')).toHaveText(/^Waiting for the API… \d+\.\d s$/);
  await page.getByTestId('run-cancel').click();
  const response = await answered;
  expect(response.status()).toBe(499);
  expect(Date.now() - started, 'cancelled long before the API would have answered').toBeLessThan(8_000);
  await expect(page.getByTestId('response-error')).toContainText('cancelled after');
  await expect(page.getByTestId('response-what-to-try')).toContainText('Run it again when you are ready');
  await expect(status).toBeHidden();
  await expect(page.getByTestId('run-button')).toBeEnabled();
});
