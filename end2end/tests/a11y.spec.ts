// Accessibility in a real browser: axe (npm @axe-core/playwright) on every page in both themes,
// with no serious or critical finding; the keyboard shortcuts overlay; Esc closing what opened;
// and the theme switch, remembered per staff member.
import AxeBuilder from '@axe-core/playwright';
import { type Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { openConsole, pickEndpoint, runRequest } from './support/console';

/// axe's serious and critical findings, each as "rule: where".
async function seriousFindings(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')} ${n.failureSummary ?? ''}`));
}

const pages: [string, (page: Page) => Promise<void>][] = [
  ['the console with a response', async (page) => {
    await openConsole(page, '/?env=simulator');
    await pickEndpoint(page, 'listCharges');
    await runRequest(page);
    await expect(page.getByTestId('json-tree')).toBeVisible();
  }],
  ['the token page', async (page) => {
    await page.goto('/token');
    await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
  }],
  ['the compare page with a diff', async (page) => {
    await openConsole(page, '/compare');
    await page.getByTestId('endpoint-listWallets').click();
    await page.getByTestId('run-button').click();
    await expect(page.getByTestId('compare-result')).toBeVisible({ timeout: 20_000 });
  }],
  ['the audit page', async (page) => {
    await openConsole(page, '/audit');
    await expect(page.getByTestId('audit-table')).toBeVisible();
  }],
  ['the console in demo mode', async (page) => {
    await openConsole(page, '/?env=simulator');
    await page.getByTestId('demo-toggle').click();
    await expect(page.getByTestId('demo-banner')).toBeVisible();
    await pickEndpoint(page, 'listWallets');
    await runRequest(page);
    await page.getByTestId('demo-toggle').click();
    await expect(page.getByTestId('demo-banner')).toHaveCount(0);
  }],
];

for (const scheme of ['light', 'dark'] as const) {
  for (const [name, open] of pages) {
    test(`axe finds nothing serious on ${name} in the ${scheme} theme`, async ({ page }) => {
      await page.emulateMedia({ colorScheme: scheme });
      await open(page);
      expect(await seriousFindings(page)).toEqual([]);
    });
  }
}

test('? lists the keyboard shortcuts, Esc closes the list and the value panel, and focus is always visible', async ({ page }) => {
  await openConsole(page, '/?env=simulator');
  await page.getByTestId('catalog-filter').click();
  await page.keyboard.type('?');
  await expect(page.getByTestId('shortcuts'), 'typing ? in a field types it').toHaveCount(0);
  await page.getByTestId('catalog-filter').fill('');
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('?');
  const overlay = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(overlay).toBeVisible();
  await expect(overlay).toContainText('Ctrl+Enter');
  await expect(page.getByTestId('shortcuts-close')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(overlay).toHaveCount(0);

  // A long value opens in the panel from the keyboard, and Esc closes it.
  await pickEndpoint(page, 'listCharges');
  await runRequest(page);
  await page.getByTestId('expand-all').click();
  await page.getByTestId('json-tree').focus();
  // The last row of a fully open tree is a value, which Enter shows whole.
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('value-panel')).toBeVisible();
  await page.getByTestId('json-tree').focus();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('value-panel')).toHaveCount(0);

  // Every stop of the first forty Tab presses shows a focus ring.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return 'body';
      const style = getComputedStyle(el);
      const visible = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
      return visible ? 'ok' : `${el.tagName.toLowerCase()}[data-testid=${el.getAttribute('data-testid')}] has no focus ring`;
    });
    expect(['ok', 'body']).toContain(ring);
  }
});

test('the theme switch overrides the system setting and follows the staff member to a new browser', async ({ page, browser }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await openConsole(page, '/?env=simulator');
  const background = (p: Page) => p.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const light = await background(page);
  await page.getByTestId('theme-select').selectOption('dark');
  await expect.poll(() => background(page)).not.toBe(light);
  const dark = await background(page);
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');

  // A reload paints dark at once (before the app starts), and a browser without that memory gets
  // the saved choice once the page is live.
  await page.reload();
  expect(await background(page)).toBe(dark);
  const fresh = await browser.newContext({ colorScheme: 'light' });
  const other = await fresh.newPage();
  await openConsole(other, '/?env=simulator');
  await expect.poll(() => background(other)).toBe(dark);
  await expect(other.getByTestId('theme-select')).toHaveValue('dark');

  // Back to the system setting: the page follows the (emulated) system again.
  await page.getByTestId('theme-select').selectOption('');
  await expect.poll(() => background(page)).toBe(light);
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect.poll(() => background(page)).toBe(dark);
  await fresh.close();
});
