// The token page in a browser: state, times, countdown, lifetime bar, decoded JWT, history, and the
// "refresh now" and "forget token" actions; the badge links to it and turns red when tokens fail.
import { expect, test } from './support/fixtures';

import { chooseEnvironment, openConsole, pickEndpoint, runRequest } from './support/console';
import { TOKEN_LIFETIME_SECS } from './support/paths';

async function openTokenPage(page: import('@playwright/test').Page): Promise<void> {
  await page.goto('/token');
  await expect(page.locator('main.token-page[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
}

test('the token page refreshes and forgets a token and shows its metadata, never the token', async ({ page }) => {
  const received: string[] = [];
  page.on('response', async (response) => {
    if (new URL(response.url()).pathname.startsWith('/api/token')) received.push(await response.text());
  });
  await openTokenPage(page);
  const card = page.getByTestId('token-card-simulator-badge');
  await expect(card).toBeVisible();

  await card.getByTestId('token-refresh').click();
  await expect(card.getByTestId('token-state')).toHaveText('fresh');
  await expect(card.getByTestId('token-fingerprint')).toHaveText(/^[0-9a-f]{8}$/);
  await expect(card.getByTestId('token-lifetime')).toHaveText(`${TOKEN_LIFETIME_SECS} s (2:00)`);
  await expect(card.getByTestId('token-header')).toContainText('"alg": "HS256"');
  await expect(card.getByTestId('token-claims')).toContainText('"token_use": "access"');
  // Absolute times in the browser's locale, not the server's UTC placeholder.
  await expect(card.getByTestId('token-expires')).not.toHaveText(/UTC|—/);
  const history = card.getByTestId('token-history').locator('tbody tr');
  await expect(history.first()).toContainText('manual');
  await expect(history.first()).toContainText('obtained');

  // The countdown runs locally and the lifetime bar fills up.
  const countdown = card.getByTestId('token-countdown');
  const seconds = (text: string | null) => {
    const [m, s] = (text ?? '').split(':').map(Number);
    return m * 60 + s;
  };
  const first = seconds(await countdown.textContent());
  expect(first).toBeGreaterThan(100);
  await expect.poll(async () => seconds(await countdown.textContent()), { timeout: 5_000 }).toBeLessThan(first);
  expect(Number(await card.getByTestId('token-bar').getAttribute('aria-valuenow'))).toBeGreaterThanOrEqual(0);

  await card.getByTestId('token-forget').click();
  await expect(card.getByTestId('token-state')).toHaveText('no token');
  await expect(history.first()).toContainText('token forgotten');
  await expect(card.getByTestId('token-fingerprint')).toHaveText('—');

  for (const text of received) {
    expect(text, 'no JWT crosses to the browser').not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
  }
});

test('rejected credentials show the reason on the token page and turn the badge red', async ({ page }) => {
  await openTokenPage(page);
  const card = page.getByTestId('token-card-sandbox-wrong-secret');
  await card.getByTestId('token-refresh').click();
  await expect(card.getByTestId('token-action-error')).toContainText(
    'credentials rejected by the token endpoint for sandbox-wrong-secret',
  );
  await expect(card.getByTestId('token-state')).toHaveText('no token, token endpoint failing');
  await expect(card.getByTestId('token-history').locator('tbody tr').first()).toContainText('credentials rejected');
  await expect(card.getByTestId('token-retry-in')).toBeVisible();

  await openConsole(page);
  await chooseEnvironment(page, 'sandbox-wrong-secret');
  const badge = page.getByTestId('token-badge');
  await expect(badge).toHaveClass(/\bfailing\b/);
  await expect(badge).toHaveCSS('background-color', /rgb\(/);
  await badge.click();
  await expect(page).toHaveURL(/\/token$/);
  await expect(page.getByTestId('token-card-sandbox-wrong-secret')).toBeVisible();
});

test('a request through the console shows up in the token history as a cold fetch', async ({ page }) => {
  await openConsole(page);
  await chooseEnvironment(page, 'sandbox');
  await pickEndpoint(page, 'listWallets');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  await openTokenPage(page);
  const card = page.getByTestId('token-card-sandbox');
  await expect(card.getByTestId('token-state')).toHaveText('fresh');
  await expect(card.getByTestId('token-history').locator('tbody tr').last()).toContainText(/cold|manual/);
});
