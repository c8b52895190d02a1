// Parity helpers: a compare of the charge list added to a saved suite the way staff do it, from the
// Compare page's "Add to a parity suite".
import { expect, type Page } from '@playwright/test';

import { pickEndpoint } from './console';

export async function hydrated(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
}

export async function addChargesToSuite(page: Page, suite: string, compare: string, limit: number): Promise<void> {
  await hydrated(page, '/compare?left=simulator&right=simulator-production');
  await pickEndpoint(page, 'listCharges');
  for (const name of ['merchant_uuid', 'date_start', 'date_end', 'filter', 'sort', 'page']) {
    await page.getByTestId(`param-${name}`).fill('');
  }
  await page.getByTestId('param-limit').fill(String(limit));
  await page.getByTestId('add-to-suite').locator('summary').click();
  await page.getByTestId('suite-name').fill(suite);
  await page.getByTestId('suite-compare-name').fill(compare);
  await page.getByTestId('suite-add').click();
  await expect(page.getByTestId('suite-note')).toContainText(`Added to suite "${suite}"`);
}
