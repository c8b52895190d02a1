// Layout without overlap: on every page, at three window sizes, each visible interactive element
// is the topmost thing at its own centre (nothing covers it), and nothing overflows sideways.
import { type Page } from '@playwright/test';
import { expect, test } from './support/fixtures';
import { openConsole, pickEndpoint, runRequest } from './support/console';

const sizes = [
  { width: 1280, height: 720 },
  { width: 1920, height: 1080 },
  { width: 2560, height: 1440 },
];

const pages: [string, (page: Page) => Promise<void>][] = [
  ['console with a response and a long history', async (page) => {
    await openConsole(page, '/?env=simulator');
    await pickEndpoint(page, 'listCharges');
    // A long history must not squeeze the answer under its own tabs.
    for (let i = 0; i < 12; i++) await runRequest(page);
  }],
  ['compare with a diff', async (page) => {
    await openConsole(page, '/compare');
    await page.getByTestId('endpoint-listCharges').click();
    await page.getByTestId('run-button').click();
    await expect(page.getByTestId('compare-result')).toBeVisible({ timeout: 20_000 });
  }],
  ['console in demo mode (larger type)', async (page) => {
    await openConsole(page, '/?env=simulator');
    await page.getByTestId('demo-toggle').click();
    await expect(page.getByTestId('demo-banner')).toBeVisible();
    await pickEndpoint(page, 'listWallets');
    await runRequest(page);
  }],
  ['token', async (page) => {
    await page.goto('/token');
    await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
  }],
  ['audit', async (page) => {
    await openConsole(page, '/audit');
    await expect(page.getByTestId('audit-table')).toBeVisible();
  }],
];

/// Each visible interactive element covered by another, described; and the sideways overflow.
async function problems(page: Page): Promise<{ covered: string[]; overflow: number }> {
  return page.evaluate(async () => {
    const selector = 'a[href], button, input, select, textarea, summary, [role="tab"], [tabindex]:not([tabindex="-1"])';
    const describe = (el: Element) => {
      const id = el.getAttribute('data-testid');
      const text = (el.textContent ?? '').trim().slice(0, 30);
      return `${el.tagName.toLowerCase()}${id ? `[data-testid=${id}]` : ''}${text ? ` "${text}"` : ''}`;
    };
    const covered: string[] = [];
    for (const el of Array.from(document.querySelectorAll(selector))) {
      const html = el as HTMLElement;
      const style = getComputedStyle(html);
      if (style.visibility === 'hidden' || style.display === 'none' || html.closest('[inert], .visually-hidden')) continue;
      // The contents of a closed <details> are not shown (its summary is).
      const closed = html.closest('details:not([open])');
      if (closed && html.tagName !== 'SUMMARY') continue;
      let box = html.getBoundingClientRect();
      if (box.width < 2 || box.height < 2) continue;
      html.scrollIntoView({ block: 'center', inline: 'center' });
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      // A virtual list (the inspector's tree) recycles its rows as it scrolls: a row that left the
      // page while another was scrolled into view is not on it to be covered.
      if (!html.isConnected) continue;
      box = html.getBoundingClientRect();
      const x = box.left + box.width / 2;
      const y = box.top + box.height / 2;
      if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) continue;
      const top = document.elementFromPoint(x, y);
      if (top && top !== html && !html.contains(top)) covered.push(`${describe(html)} is under ${describe(top)}`);
    }
    const overflow = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - innerWidth;
    return { covered, overflow };
  });
}

for (const size of sizes) {
  for (const [name, open] of pages) {
    test(`nothing covers a control and nothing overflows on ${name} at ${size.width}x${size.height}`, async ({ page }) => {
      await page.setViewportSize(size);
      await open(page);
      const found = await problems(page);
      // Demo mode is kept per staff member (one local admin here): switch it off for the next test.
      const demo = page.getByTestId('demo-toggle');
      if ((await demo.count()) > 0 && (await demo.textContent())?.includes('on')) await demo.click();
      expect(found.covered).toEqual([]);
      expect(found.overflow, 'horizontal overflow in px').toBeLessThanOrEqual(0);
    });
  }
}
