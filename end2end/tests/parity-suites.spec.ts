// Parity suites kept tidy: a saved suite's compare removed, a schedule set and stopped, the suite
// deleted after a second click with its runs, and the top-bar badge following each change on the
// page without a reload.
import { expect, test } from '@playwright/test';

import { addChargesToSuite, hydrated } from './support/parity';

test('a saved suite loses a removed compare, takes and stops a schedule, goes after a confirmed delete, and the badge follows on the page', async ({ page }) => {
  await addChargesToSuite(page, 'tidy suite', 'three charges', 3);
  await addChargesToSuite(page, 'tidy suite', 'two charges', 2);

  await hydrated(page, '/parity');
  const row = page.getByTestId('parity-suite').filter({ hasText: 'tidy suite' });
  await expect(page.getByTestId('parity-badge')).toHaveCount(0);
  await row.getByTestId('run-suite').click();
  await expect(page.getByTestId('parity-run')).toBeVisible();
  // The run found drift: the badge appears on this page at once.
  await expect(page.getByTestId('parity-badge')).toContainText('Parity: ');

  const compares = row.getByTestId('suite-compares');
  await compares.locator('summary').click();
  await expect(compares.getByTestId('suite-compare')).toHaveCount(2);
  await compares
    .getByTestId('suite-compare')
    .filter({ hasText: 'two charges' })
    .getByRole('button', { name: 'Remove compare two charges from suite tidy suite' })
    .click();
  await expect(row.getByTestId('suite-compares').locator('summary')).toHaveText('1');
  await expect(page.getByTestId('parity-run')).toBeVisible();

  // A schedule set on the page, then stopped.
  const schedule = row.getByTestId('schedule-form');
  await schedule.locator('summary').click();
  await schedule.getByTestId('schedule-interval').fill('15');
  await schedule.getByTestId('schedule-jitter').fill('30');
  await schedule.getByTestId('schedule-save').click();
  await expect(row.getByTestId('suite-schedule')).toHaveText(' every 15 min');
  // The list was read again; the form may have stayed open.
  if ((await row.getByTestId('schedule-form').getAttribute('open')) === null) {
    await row.getByTestId('schedule-form').locator('summary').click();
  }
  await row.getByTestId('schedule-stop').click();
  await expect(row.getByTestId('suite-schedule')).toHaveCount(0);

  // Delete asks once more; "Keep" keeps it.
  await row.getByTestId('delete-suite').click();
  await expect(row.getByRole('group', { name: 'Delete suite tidy suite?' })).toBeVisible();
  await row.getByTestId('keep-suite').click();
  await expect(row.getByTestId('delete-suite')).toBeVisible();
  await row.getByTestId('delete-suite').click();
  await row.getByTestId('confirm-delete-suite').click();
  await expect(page.getByTestId('parity-suite').filter({ hasText: 'tidy suite' })).toHaveCount(0);
  // Its run goes from the page, and with its drift the badge.
  await expect(page.getByTestId('parity-run')).toHaveCount(0);
  await expect(page.getByTestId('parity-badge')).toHaveCount(0);
});
