// Parity: a compare added to a suite from the Compare page, run on the Parity page, its new drift
// (shape apart from value), the top-bar badge, the exports, and a baseline that silences it.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';

import { pickEndpoint } from './support/console';

async function hydrated(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
}

async function runSuite(page: Page): Promise<void> {
  const answered = page.waitForResponse(
    (r) => new URL(r.url()).pathname === '/api/parity/run' && r.request().method() === 'POST',
  );
  await page.getByTestId('parity-suite').filter({ hasText: 'browser suite' }).getByTestId('run-suite').click();
  expect((await answered).status()).toBe(200);
  await expect(page.getByTestId('parity-run')).toBeVisible();
}

test('a compare added to a suite runs on the Parity page, shows new drift and a badge, and a baseline silences it', async ({ page }) => {
  await hydrated(page, '/compare?left=simulator&right=simulator-production');
  await pickEndpoint(page, 'listCharges');
  for (const name of ['merchant_uuid', 'date_start', 'date_end', 'filter', 'sort', 'page']) {
    await page.getByTestId(`param-${name}`).fill('');
  }
  await page.getByTestId('param-limit').fill('3');
  await page.getByTestId('add-to-suite').locator('summary').click();
  await page.getByTestId('suite-name').fill('browser suite');
  await page.getByTestId('suite-compare-name').fill('three charges');
  await page.getByTestId('suite-add').click();
  await expect(page.getByTestId('suite-note')).toContainText('Added to suite "browser suite" (1 compares).');

  await hydrated(page, '/parity');
  const row = page.getByTestId('parity-suite').filter({ hasText: 'browser suite' });
  await expect(row).toContainText('never');
  await runSuite(page);
  await expect(page.getByTestId('run-summary')).toContainText('New drift: 4 shape, 0 value; 0 known (no baseline yet).');
  const shape = page.getByTestId('new-shape');
  await expect(shape.getByTestId('drift-item').first()).toContainText("$['data'][*]['installment_count']");
  await expect(shape.getByTestId('drift-item').first()).toContainText('type changed');
  await expect(shape).toContainText('x-a55-deployment');
  await expect(page.getByTestId('new-value-none')).toBeVisible();
  await expect(page.getByTestId('run-compare')).toContainText('simulator: 200');
  await expect(row.getByTestId('suite-new-shape')).toHaveText('4');

  // The badge in the top bar, on every page.
  await hydrated(page, '/compare');
  await expect(page.getByTestId('parity-badge')).toHaveText('Parity: 4 new');
  await page.getByTestId('parity-badge').click();
  await expect(page).toHaveURL(/\/parity$/);
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });

  // Exports of the run.
  await page.getByTestId('parity-suite').filter({ hasText: 'browser suite' }).getByTestId('show-run').click();
  const [md] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-md').click()]);
  expect(md.suggestedFilename()).toMatch(/^parity-run-\d+\.md$/);
  expect(readFileSync(await md.path(), 'utf8')).toContain('## New shape drift (4)');
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
  expect(JSON.parse(readFileSync(await json.path(), 'utf8')).suite).toBe('browser suite');

  // Accepting the baseline, then running again: nothing new, and the badge goes.
  await page.getByTestId('accept-baseline').click();
  await expect(page.getByTestId('baseline-note')).toContainText('4 known differences');
  await runSuite(page);
  await expect(page.getByTestId('run-summary')).toContainText('New drift: 0 shape, 0 value; 4 known');
  await expect(page.getByTestId('new-shape-none')).toBeVisible();
  await hydrated(page, '/parity');
  await expect(page.getByTestId('parity-badge')).toHaveCount(0);
});
