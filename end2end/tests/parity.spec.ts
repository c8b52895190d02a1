// Parity: a compare added to a suite from the Compare page, run on the Parity page, its new drift
// (shape apart from value, and the spec's), the top-bar badge, the exports, and a baseline that
// silences it; the Spec drift section comparing two environments' live OpenAPI documents.
import { readFileSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
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
  await expect(page.getByTestId('run-summary')).toContainText('New drift: 4 shape, 0 value, 5 spec; 0 known (no baseline yet).');
  const shape = page.getByTestId('new-shape');
  await expect(shape.getByTestId('drift-item').first()).toContainText("$['data'][*]['installment_count']");
  await expect(shape.getByTestId('drift-item').first()).toContainText('type changed');
  await expect(shape).toContainText('x-a55-deployment');
  await expect(page.getByTestId('new-value-none')).toBeVisible();
  await expect(page.getByTestId('run-compare')).toContainText('simulator: 200');
  await expect(row.getByTestId('suite-new-shape')).toHaveText('4');
  await expect(row.getByTestId('suite-new-spec')).toHaveText('5');
  // Both environments publish a live spec: the production twin's five known spec drifts.
  const spec = page.getByTestId('new-spec');
  await expect(page.getByTestId('new-spec-heading')).toHaveText('New spec drift (5)');
  await expect(spec.getByTestId('spec-counts')).toHaveText('5 new changes: 4 breaking, 1 additive.');
  await expect(spec.getByTestId('spec-kind').first()).toHaveAttribute('data-kind', 'ResponseRemoved');
  await expect(spec.locator('[data-testid="spec-kind"][data-kind="TypeChanged"]')).toContainText('responses/200/body/data/[]/installment_count');

  // The badge in the top bar, on every page.
  await hydrated(page, '/compare');
  await expect(page.getByTestId('parity-badge')).toHaveText('Parity: 9 new');
  await page.getByTestId('parity-badge').click();
  await expect(page).toHaveURL(/\/parity$/);
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });

  // Exports of the run.
  await page.getByTestId('parity-suite').filter({ hasText: 'browser suite' }).getByTestId('show-run').click();
  const [md] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-md').click()]);
  expect(md.suggestedFilename()).toMatch(/^parity-run-\d+\.md$/);
  const markdown = readFileSync(await md.path(), 'utf8');
  expect(markdown).toContain('## New shape drift (4)');
  expect(markdown).toContain('## New spec drift (5)');
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
  expect(JSON.parse(readFileSync(await json.path(), 'utf8')).suite).toBe('browser suite');

  // Accepting the baseline, then running again: nothing new, and the badge goes.
  await page.getByTestId('accept-baseline').click();
  await expect(page.getByTestId('baseline-note')).toContainText('9 known differences');
  await runSuite(page);
  await expect(page.getByTestId('run-summary')).toContainText('New drift: 0 shape, 0 value, 0 spec; 9 known');
  await expect(page.getByTestId('new-shape-none')).toBeVisible();
  await expect(page.getByTestId('new-spec').getByTestId('spec-no-drift')).toHaveText('No new drift (5 known).');
  await hydrated(page, '/parity');
  await expect(page.getByTestId('parity-badge')).toHaveCount(0);
});

test('the Spec drift section compares two live specs and each with the catalog, and says when one has none', async ({ page }) => {
  await hydrated(page, '/parity');
  const section = page.getByTestId('spec-drift');
  await expect(section.getByRole('heading', { name: 'Spec drift' })).toBeVisible();
  await section.getByLabel('Left').selectOption('simulator');
  await section.getByLabel('Right').selectOption('simulator-production');
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/parity/spec');
  await section.getByTestId('spec-compare').click();
  expect((await answered).status()).toBe(200);
  const comparisons = section.getByTestId('spec-comparison');
  await expect(comparisons).toHaveCount(3);
  const pair = comparisons.nth(0);
  await expect(pair.getByRole('heading')).toHaveText('simulator → simulator-production');
  await expect(pair.getByTestId('spec-counts')).toHaveText('5 changes: 4 breaking, 1 additive.');
  await expect(pair.getByTestId('spec-kind')).toHaveText([
    /response code removed \(1\), breaking/,
    /parameter now required \(1\), breaking/,
    /type changed \(1\), breaking/,
    /enum value removed \(1\), breaking/,
    /operation added \(1\)/,
  ]);
  await expect(pair.getByRole('table', { name: 'simulator → simulator-production' })).toBeVisible();
  // The catalog documents operations the simulator does not serve, and the other way round.
  await expect(comparisons.nth(1).getByRole('heading')).toHaveText('bundled catalog → simulator');
  await expect(comparisons.nth(1).locator('[data-kind="OperationRemoved"]')).toBeVisible();
  await expect(comparisons.nth(1).locator('[data-kind="OperationAdded"]')).toContainText('GET /sim/large');
  const findings = (await new AxeBuilder({ page }).include('[data-testid="spec-drift"]').analyze()).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(findings).toEqual([]);

  // An environment without a live spec: said so, not drift.
  await section.getByLabel('Right').selectOption('sandbox');
  await section.getByTestId('spec-compare').click();
  await expect(comparisons.nth(0).getByTestId('spec-no-live')).toHaveText(
    'Not compared: sandbox has no live spec (live_spec = true in its environment\'s configuration).',
  );
  await expect(comparisons.nth(2).getByTestId('spec-no-live')).toBeVisible();
  await expect(comparisons.nth(1).getByTestId('spec-counts')).toBeVisible();
});
