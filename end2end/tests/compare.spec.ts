// Compare: the simulator against its production-data twin, from the nav link to the exports.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';

import { openConsole, pickEndpoint } from './support/console';

async function openCompare(page: Page, path = '/compare?left=simulator&right=simulator-production'): Promise<void> {
  await page.goto(path);
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
}

async function runCompare(page: Page): Promise<void> {
  const answered = page.waitForResponse(
    (r) => new URL(r.url()).pathname === '/api/compare' && r.request().method() === 'POST',
  );
  await page.getByTestId('run-button').click();
  expect((await answered).status()).toBe(200);
  await expect(page.getByTestId('compare-result')).toBeVisible();
}

test('the console links to Compare, which defaults to a sandbox against a production environment', async ({ page }) => {
  await openConsole(page);
  await page.getByTestId('nav-compare').click();
  await expect(page).toHaveURL(/\/compare/);
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
  await expect(page.getByTestId('compare-left-env')).toHaveValue('sandbox');
  await expect(page.getByTestId('compare-right-env')).toHaveValue('simulator-production');
});

test('a compare shows both sides, the counts, the highlighted type change and exports', async ({ page }) => {
  await openCompare(page);
  await pickEndpoint(page, 'listCharges');
  // The document's examples filter the list; a compare of four plain charges is easier to read.
  for (const name of ['merchant_uuid', 'date_start', 'date_end', 'filter', 'sort', 'page']) {
    await page.getByTestId(`param-${name}`).fill('');
  }
  await page.getByTestId('param-limit').fill('4');
  await runCompare(page);

  await expect(page.getByTestId('compare-status-left')).toHaveText('200 OK');
  await expect(page.getByTestId('compare-status-right')).toHaveText('200 OK');
  await expect(page.getByTestId('compare-token-left')).not.toHaveText(await page.getByTestId('compare-token-right').innerText());
  await expect(page.getByTestId('count-type-changed')).toContainText('4 type changed');
  await expect(page.getByTestId('count-removed')).toContainText('4 removed');
  await expect(page.getByTestId('count-added')).toContainText('4 added');

  // The side-by-side view marks the type change and folds what did not change.
  const typeChanged = page.locator('[data-testid="diff-rows"] tr.row-type-changed').first();
  await expect(typeChanged).toHaveAttribute('data-path', "$['data'][0]['installment_count']");
  await expect(typeChanged.locator('.diff-left')).toHaveText(/^\d+$/);
  await expect(typeChanged.locator('.diff-right')).toHaveText(/^"\d+"$/);
  await expect(page.locator('[data-testid="diff-rows"] tr.row-collapsed').first()).toBeVisible();

  // The change list is ranked: type changes first.
  await page.getByTestId('compare-tab-changes').click();
  await expect(page.locator('[data-testid="diff-changes"] tbody tr').first()).toContainText('type changed');
  await page.getByTestId('compare-tab-headers').click();
  await expect(page.getByTestId('diff-headers')).toContainText('x-a55-deployment');

  // Exports download with their names and content.
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
  expect(json.suggestedFilename()).toBe('compare-simulator-vs-simulator-production.json');
  const exported = JSON.parse(readFileSync(await json.path(), 'utf8'));
  expect(exported.counts.type_changed).toBe(4);
  const [md] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-markdown').click()]);
  expect(md.suggestedFilename()).toBe('compare-simulator-vs-simulator-production.md');
  expect(readFileSync(await md.path(), 'utf8')).toContain('| type changed |');

  // Shape-only re-diffs what is already on the server.
  await page.getByTestId('compare-shape-only').check();
  await expect(page.getByTestId('count-type-changed')).toContainText('1 type changed');
  await expect(page.locator('[data-testid="diff-rows"] tr.row-type-changed').first())
    .toHaveAttribute('data-path', "$['data'][*]['installment_count']");

  // The URL reopens the same compare.
  expect(page.url()).toContain('op=listCharges');
  expect(page.url()).toContain('shape=1');
});

test('a compare is listed in history as a compare and opens with its diff', async ({ page }) => {
  await openCompare(page);
  await pickEndpoint(page, 'listWallets');
  await runCompare(page);
  await openConsole(page);
  await page.getByTestId('tool-history').click();
  await expect(page.getByTestId('history-compare-0')).toHaveText('compare');
  await expect(page.getByTestId('history-row-0')).toContainText('simulator ⇄ simulator-production');
  await page.getByTestId('history-open-0').click();
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
  await expect(page.getByTestId('compare-history-note')).toContainText('from history');
  await expect(page.getByTestId('compare-result')).toBeVisible();
});

test('a write to the protected side waits for its id to be typed', async ({ page }) => {
  await openCompare(page);
  await pickEndpoint(page, 'createCharge');
  await expect(page.getByTestId('compare-right-confirm-box')).toBeVisible();
  await expect(page.getByTestId('compare-left-confirm-box')).toHaveCount(0);
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/compare');
  await page.getByTestId('run-button').click();
  expect((await answered).status()).toBe(428);
  await expect(page.getByTestId('compare-error')).toContainText('simulator-production');
  await expect(page.getByTestId('compare-result')).toHaveCount(0);
});
