// The response inspector in a browser: the virtual tree, search, JSONPath, copy, and bodies that are
// not JSON at all (invalid, HTML with a script, binary, empty, cut at the cap, deeply nested).
import { type Page } from '@playwright/test';
import { expect, test } from './support/fixtures';

import { chooseEnvironment, openConsole, pickEndpoint, runRequest } from './support/console';

/// Runs `GET {path}` (a raw path, no catalog operation) on `environment`.
async function runPath(page: Page, path: string, environment = 'simulator'): Promise<void> {
  await openConsole(page);
  await chooseEnvironment(page, environment);
  await page.getByTestId('method-select').selectOption('GET');
  await page.getByTestId('path-input').fill(path);
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toBeVisible();
}

const rows = (page: Page) => page.getByTestId('tree-row');
/// The tree row whose key (or array index) and value read `text`, e.g. `status: "paid"`.
const row = (page: Page, key: string) =>
  rows(page).filter({ has: page.locator('.key, .index', { hasText: new RegExp(`^${key}$`) }) });

test('a JSON body opens as a tree whose nodes expand and collapse one by one and by level', async ({ page }) => {
  await openConsole(page);
  await pickEndpoint(page, 'listCharges');
  await page.getByTestId('param-limit').fill('3');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  await expect(page.getByTestId('status-meaning')).toHaveText('success');
  const tree = page.getByTestId('json-tree');
  await expect(tree).toBeVisible();
  // Small bodies open fully at first; only the rows in view exist in the DOM.
  const nodes = Number((await page.getByTestId('node-count').textContent())!.split(' ')[0]);
  expect(nodes).toBeGreaterThan(40);
  await expect(tree).toHaveAttribute('data-rows', String(nodes));
  expect(await rows(page).count()).toBeLessThan(nodes);
  await expect(row(page, 'data')).toContainText('[3]');

  await page.getByTestId('collapse-all').click();
  const collapsed = Number(await tree.getAttribute('data-rows'));
  expect(collapsed).toBeLessThan(10);
  await expect(row(page, 'charge_uuid')).toHaveCount(0);
  await expect(row(page, 'data').getByTestId('toggle')).toHaveAttribute('aria-label', 'Expand');
  await row(page, 'data').getByTestId('toggle').click();
  await expect(tree).toHaveAttribute('data-rows', String(collapsed + 3));
  await expect(row(page, '0')).toHaveCount(1);
  await expect(row(page, 'charge_uuid')).toHaveCount(0);
  await row(page, '0').getByTestId('toggle').click();
  await expect(row(page, 'charge_uuid')).toHaveCount(1);
  await row(page, '0').getByTestId('toggle').click();
  await expect(row(page, 'charge_uuid')).toHaveCount(0);
  await expect(tree).toHaveAttribute('data-rows', String(collapsed + 3));

  await page.getByTestId('expand-level').click();
  await expect(row(page, 'charge_uuid').first()).toBeVisible();
  expect(Number(await tree.getAttribute('data-rows'))).toBeGreaterThan(collapsed + 30);
  await page.getByTestId('collapse-all').click();
  await expect(tree).toHaveAttribute('data-rows', String(collapsed));
  await page.getByTestId('expand-all').click();
  await expect(tree).toHaveAttribute('data-rows', String(nodes));

  // Keyboard: select the root, collapse it with ArrowLeft, open it with ArrowRight, walk down.
  await rows(page).first().click();
  await tree.press('ArrowLeft');
  await expect(tree).toHaveAttribute('data-rows', '1');
  await tree.press('ArrowRight');
  await expect(row(page, 'data')).toHaveCount(1);
  await tree.press('ArrowDown');
  await expect(page.locator('[data-testid="tree-row"][data-node="1"]')).toHaveClass(/\bselected\b/);
});

test('keys keep the order and duplicates the upstream sent', async ({ page }) => {
  await runPath(page, '/sim/content/keys');
  const keys = await page.locator('[data-testid="tree-row"] .key').allTextContents();
  expect(keys).toEqual(['b', '10', 'a', '2', 'a']);
});

test('search counts matches in keys and values, opens the tree to each and moves next and previous', async ({ page }) => {
  await runPath(page, '/sim/bigjson/0.1');
  await expect(page.getByTestId('json-tree')).toBeVisible();
  await page.getByTestId('collapse-all').click();
  await expect(rows(page)).toHaveCount(5);

  await page.getByTestId('search-input').fill('Cliente 17');
  await expect(page.getByTestId('search-count')).toHaveText('1 of 11');
  const current = page.locator('[data-testid="tree-row"].current-match');
  await expect(current).toHaveText(/name: "Cliente 17"/);
  await page.getByTestId('search-next').click();
  await expect(page.getByTestId('search-count')).toHaveText('2 of 11');
  await expect(current).toHaveText(/name: "Cliente 170"/);
  await page.getByTestId('search-prev').click();
  await page.getByTestId('search-prev').click();
  await expect(page.getByTestId('search-count')).toHaveText('11 of 11');
  await expect(current).toHaveText(/name: "Cliente 179"/);

  await page.getByTestId('search-input').fill('installment_count');
  await expect(page.getByTestId('search-count')).toHaveText(/^1 of \d{3}$/);
  await page.getByTestId('search-input').fill('no such text anywhere');
  await expect(page.getByTestId('search-count')).toHaveText('no matches');
});

test('a JSONPath filter lists the matched nodes with their paths and explains a bad expression inline', async ({ page }) => {
  await runPath(page, '/sim/bigjson/0.1');
  const input = page.getByTestId('jsonpath-input');
  await input.fill("$.data[?@.status == 'refunded' && @.installment_count == 12].payer.name");
  await input.press('Enter');
  await expect(page.getByTestId('jsonpath-count')).toHaveText(/^\d+ match(es)? \(\d+ ms on the server\)$/);
  const matches = page.getByTestId('jsonpath-match');
  expect(await matches.count()).toBeGreaterThan(0);
  await expect(matches.first()).toContainText(/\$\['data'\]\[\d+\]\['payer'\]\['name'\] "Cliente \d+"/);

  // "Show in the tree" opens the tree to the match.
  await page.getByTestId('collapse-all').click();
  await matches.first().locator('button').click();
  await expect(page.locator('[data-testid="tree-row"].selected')).toContainText(/name: "Cliente \d+"/);

  await input.fill('$.data[?@.status == ]');
  await input.press('Enter');
  await expect(page.getByTestId('jsonpath-error')).toHaveText(/^invalid JSONPath at column \d+: /);
  await expect(page.getByTestId('jsonpath-results')).toHaveCount(0);
});

test('copy path puts the JSONPath of a node on the clipboard, and copy value its value', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await openConsole(page);
  await pickEndpoint(page, 'listCharges');
  await page.getByTestId('param-limit').fill('1');
  await runRequest(page);
  const status = row(page, 'status');
  await status.hover();
  await status.getByTestId('copy-path').click();
  await expect(page.getByTestId('inspector-notice')).toHaveText('Copied JSONPath: $.data[0].status');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('$.data[0].status');

  await status.getByTestId('copy-value').click();
  const value = await page.evaluate(() => navigator.clipboard.readText());
  await expect(status.locator('.value')).toHaveText(`"${value}"`);
});

test('invalid JSON shows the line and column where it breaks and the raw text', async ({ page }) => {
  await runPath(page, '/sim/content/invalid-json');
  await expect(page.getByTestId('json-error')).toHaveText(
    /^Not valid JSON at line 3, column 18 \(byte \d+\): expected a value, found ','\.$/,
  );
  await expect(page.getByTestId('tab-raw')).toHaveAttribute('aria-selected', 'true');
  await expect(page.locator('[data-testid="raw-line"].error-line')).toHaveText('  "items": [1, 2,, 3]');
});

test('an HTML body is shown as text and its scripts never run', async ({ page }) => {
  await runPath(page, '/sim/content/html');
  await expect(page.getByTestId('response-type')).toHaveText('text/html; charset=utf-8');
  await expect(page.getByTestId('text-notice')).toContainText('markup is never rendered');
  await expect(page.getByTestId('raw-view')).toContainText("<script>window.__a55_pwned = 'script';</script>");
  await expect(page.getByTestId('raw-view')).toContainText('<img src="x" onerror=');
  await expect(page.getByTestId('response').locator('h1, script, img')).toHaveCount(0);
  await page.waitForTimeout(300);
  expect(await page.evaluate(() => (window as any).__a55_pwned)).toBeUndefined();
  // The download is the same body, served as an opaque attachment.
  await page.getByTestId('tab-download').click();
  const href = await page.getByTestId('download-link').getAttribute('href');
  const answer = await page.request.get(href!);
  expect(answer.headers()['content-type']).toBe('application/octet-stream');
  expect(answer.headers()['content-disposition']).toMatch(/^attachment/);
  expect(await answer.text()).toContain('__a55_pwned');
});

test('a body over the cap says how much was kept, and the cut JSON is shown raw', async ({ page }) => {
  await runPath(page, '/sim/bigjson/1', 'simulator-small-cap');
  await expect(page.getByTestId('truncated')).toContainText("cut at this environment's response cap of 65.5 KB: 65.5 KB kept");
  await expect(page.getByTestId('json-error')).toContainText('Not valid JSON');
  await expect(page.getByTestId('raw-view')).toBeVisible();
});

test('binary bodies get a hex preview, 204 says there is no body, and 10,000 levels of nesting open', async ({ page }) => {
  await runPath(page, '/sim/content/binary');
  await expect(page.getByTestId('binary-notice')).toContainText('261 bytes');
  await expect(page.getByTestId('hex-preview')).toContainText('00000000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f  |................|');

  await page.getByTestId('path-input').fill('/sim/content/empty');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('204 No Content');
  await expect(page.getByTestId('empty-body')).toHaveText('No body (204 No Content).');

  await page.getByTestId('path-input').fill('/sim/content/deep');
  await runRequest(page);
  await expect(page.getByTestId('node-count')).toHaveText('10001 nodes');
  await page.getByTestId('expand-all').click();
  await rows(page).first().click();
  await page.getByTestId('json-tree').press('End');
  await expect(rows(page).filter({ hasText: '"bottom"' })).toContainText('depth 10000');
});

test('the request tab shows what went upstream with the token as its fingerprint', async ({ page }) => {
  await runPath(page, '/sim/content/echo-token');
  const fingerprint = (await page.locator('.metric[title="token fingerprint"] code').textContent())!;
  expect(fingerprint).toMatch(/^[0-9a-f]{8}$/);
  await page.getByTestId('tab-request').click();
  await expect(page.getByTestId('request-line')).toHaveText(/^GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/sim\/content\/echo-token$/);
  await expect(page.getByTestId('request-record').locator('tr', { hasText: 'authorization' })).toHaveText(
    `authorization` + `Bearer ${fingerprint}…`,
  );
  await page.getByTestId('tab-headers').click();
  await expect(page.getByTestId('headers-table')).toContainText('x-ratelimit-remaining');
  await expect(page.getByTestId('rate-limits')).toContainText('x-ratelimit-limit');
});

test('the search of a response and its current match survive a visit to another tab, and a new response starts without one', async ({ page }) => {
  await runPath(page, '/sim/bigjson/0.1');
  await expect(page.getByTestId('json-tree')).toBeVisible();
  await page.getByTestId('search-input').fill('Cliente 17');
  await expect(page.getByTestId('search-count')).toHaveText('1 of 11');

  await page.getByTestId('tab-raw').click();
  await expect(page.getByTestId('search-input')).toHaveCount(0);
  await page.getByTestId('tab-tree').click();
  await expect(page.getByTestId('search-input')).toHaveValue('Cliente 17');
  await expect(page.getByTestId('search-count')).toHaveText('1 of 11');
  const current = page.locator('[data-testid="tree-row"].current-match');
  await expect(current).toHaveText(/name: "Cliente 17"/);

  // A match further down stays the current one across a visit to the Headers tab.
  await page.getByTestId('search-next').click();
  await page.getByTestId('search-next').click();
  await expect(page.getByTestId('search-count')).toHaveText('3 of 11');
  const third = await current.getAttribute('data-node');
  await page.getByTestId('tab-headers').click();
  await expect(page.getByTestId('search-input')).toHaveCount(0);
  await page.getByTestId('tab-tree').click();
  await expect(page.getByTestId('search-count')).toHaveText('3 of 11');
  await expect(current).toHaveAttribute('data-node', third!);

  await runPath(page, '/sim/bigjson/0.1');
  await expect(page.getByTestId('json-tree')).toBeVisible();
  await expect(page.getByTestId('search-input')).toHaveValue('');
});
