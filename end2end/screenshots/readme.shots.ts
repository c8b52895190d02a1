// The README's pictures, taken from the running console and its built-in simulator at 1280x800 in
// the light theme: the console with a response, the token page, a compare, and demo mode. Each PNG
// must stay under 200 KB (a clip of the interesting part, and 8-bit colour).
import { statSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';

const OUT = path.resolve('../docs/screenshots');
const MAX_BYTES = 200 * 1024;

test.use({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', deviceScaleFactor: 1 });

async function live(page: Page, url: string) {
  await page.goto(url);
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
}

async function shoot(page: Page, name: string) {
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
  const size = statSync(file).size;
  console.log(`${name}.png: ${size} B`);
  expect(size, `${name}.png must stay under 200 KB`).toBeLessThan(MAX_BYTES);
}

async function run(page: Page) {
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/execute');
  await page.getByTestId('run-button').click();
  await answered;
  await expect(page.getByTestId('json-tree')).toBeVisible();
}

test('the console with a response', async ({ page }) => {
  await live(page, '/?env=simulator');
  await page.getByTestId('endpoint-listCharges').click();
  await run(page);
  await page.getByTestId('depth-select').selectOption('3');
  await shoot(page, 'console');
});

test('the token page', async ({ page }) => {
  await live(page, '/?env=simulator');
  await page.getByTestId('endpoint-listWallets').click();
  await run(page);
  await live(page, '/token');
  await expect(page.getByTestId('token-state').first()).toContainText('fresh');
  await shoot(page, 'token');
});

test('a compare of the simulator and its production twin', async ({ page }) => {
  await live(page, '/compare');
  await page.getByTestId('endpoint-listCharges').click();
  await page.getByTestId('run-button').click();
  await expect(page.getByTestId('compare-result')).toBeVisible({ timeout: 20_000 });
  // The summary and counts at the top, the first rows of the diff below them.
  await page.getByTestId('compare-result').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await shoot(page, 'compare');
});

test('demo mode', async ({ page }) => {
  await live(page, '/?env=simulator');
  await page.getByTestId('demo-toggle').click();
  await expect(page.getByTestId('demo-banner')).toBeVisible();
  await page.getByTestId('endpoint-listWallets').click();
  await run(page);
  await shoot(page, 'demo');
  await page.getByTestId('demo-toggle').click();
  await expect(page.getByTestId('demo-banner')).toHaveCount(0);
});
