// Demo mode in the browser: the switch, the banner and larger type, masked responses, and a leak test
// proving that no unmasked personal value reaches the browser while demo mode is on.
import { type BrowserContext, type Locator, type Page, type Response } from '@playwright/test';
import { expect, test } from './support/fixtures';

import { openConsole, pickEndpoint, rawText, runRequest } from './support/console';
import { describeHits, findLeaks, type Artifact, type Canary } from './support/leak-detector';

const CSRF = { 'x-a55-csrf': '1' };

async function setDemo(page: Page, enabled: boolean) {
  const answer = await page.request.post('/api/demo/set', { form: { enabled: String(enabled) }, headers: CSRF });
  expect(answer.status(), await answer.text()).toBe(200);
}

// Every other test file expects demo mode off: whatever happens here, switch it off again.
test.afterEach(async ({ page }) => setDemo(page, false));

/// Runs a request through the execute server function outside the page (not recorded by it).
async function execute(page: Page, path: string, query: [string, string][] = []): Promise<any> {
  const answer = await page.request.post('/api/execute', {
    headers: CSRF,
    data: {
      request: { environment: 'simulator', method: 'GET', path, path_params: [], query, headers: [], body: null, endpoint_id: null },
    },
  });
  expect(answer.status()).toBe(200);
  const response = await answer.json();
  const body = response.body_inline
    ? response.body
    : await (await page.request.get(`/api/bodies/${response.body_id}`)).text();
  return { response, json: JSON.parse(body) };
}

const WALLET = '2f0c1b7e-3d4a-4e59-9c1a-1b2c3d4e5f60';

/// The simulator's personal data, read with demo mode off: every string at a personal field.
async function fixtureValues(page: Page): Promise<string[]> {
  const values = new Set<string>();
  const take = (value: unknown) => {
    // Short values (street numbers, states) occur everywhere by chance; six characters or more are specific.
    if (typeof value === 'string' && value.length >= 6) values.add(value);
  };
  const charges = (await execute(page, '/bank/wallet/charges/', [['wallet_uuid', WALLET], ['limit', '100']])).json;
  for (const charge of charges.data) {
    const { payer, payer_address: address, card } = charge;
    [payer.name, payer.email, payer.tax_id, payer.cell_phone].forEach(take);
    [address.street, address.complement, address.neighborhood, address.postal_code].forEach(take);
    if (card) [card.number, card.holder_name].forEach(take);
  }
  const payouts = (await execute(page, '/bank/wallet/payout/', [['wallet_uuid', WALLET], ['limit', '100']])).json;
  for (const payout of payouts.data) {
    take(payout.beneficiary_name);
    const d = payout.destination;
    [d.pix_key, d.name, d.holder_name, d.holder_tax_id].forEach(take);
  }
  return [...values];
}

/// A DOM click: this test is about what the browser receives, and the sticky tab strips of a
/// scrolled work column can sit over a control where Playwright's pointer would land.
async function press(locator: Locator) {
  await locator.evaluate((element: HTMLElement) => element.click());
}

function recordResponses(context: BrowserContext) {
  const pending: Promise<Artifact[]>[] = [];
  context.on('response', (response: Response) => {
    pending.push(
      (async () => {
        const where = `${response.request().method()} ${response.url()} → ${response.status()}`;
        const headers = (await response.headersArray()).map((h) => `${h.name}: ${h.value}`).join('\n');
        const artifacts: Artifact[] = [{ where: `${where} (headers)`, bytes: Buffer.from(headers) }];
        try {
          artifacts.push({ where, bytes: await response.body() });
        } catch {
          // Redirects and aborted loads have no body.
        }
        return artifacts;
      })(),
    );
  });
  return async () => (await Promise.all(pending)).flat();
}

test('the demo switch shows the banner, enlarges the type and masks responses until it is switched off', async ({ page }) => {
  await openConsole(page);
  await expect(page.getByTestId('demo-banner')).toHaveCount(0);
  const fontSize = () => page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
  const normal = await fontSize();
  await expect(page.getByTestId('demo-toggle')).toHaveText('Demo: off');

  await page.getByTestId('demo-toggle').click();
  await expect(page.getByTestId('demo-banner')).toContainText('personal data and secrets are masked on the server');
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
  await expect(page.getByTestId('demo-toggle')).toHaveText('Demo: on');
  await expect(page.getByTestId('demo-toggle')).toHaveAttribute('aria-pressed', 'true');
  expect(await fontSize(), 'presentation-sized type').toBeGreaterThan(normal * 1.15);

  await pickEndpoint(page, 'listCharges');
  await page.getByTestId('param-limit').fill('3');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  await expect(page.getByTestId('demo-masked')).toContainText(/Demo mode masked: .*email/);
  const raw = await rawText(page);
  expect(raw).toMatch(/"email": "[a-z]\*+@\*+\.com\.br"/);
  expect(raw).toMatch(/"tax_id": "\*{9}\d\d"/);
  expect(raw).toMatch(/"number": "\*{4} \*{4} \*{4} \d{4}"/);
  expect(raw, 'ids are not personal data').toContain(`"wallet_uuid": "${WALLET}"`);

  // The token page keeps the banner and shows no client identifiers.
  await page.goto('/token');
  await expect(page.getByTestId('demo-banner')).toBeVisible();

  await openConsole(page);
  await page.getByTestId('demo-toggle').click();
  await expect(page.getByTestId('demo-banner')).toHaveCount(0);
  await expect(page.getByTestId('demo-toggle')).toHaveText('Demo: off');
});

test('in demo mode no unmasked fixture value reaches the browser: HTML, server functions, bodies, downloads, DOM', async ({
  page,
  context,
}) => {
  test.setTimeout(120_000);
  const fixtures = await fixtureValues(page);
  expect(fixtures.length, 'the simulator has personal data of every kind').toBeGreaterThan(200);
  const canaries: Canary[] = fixtures.flatMap((value, index) => {
    const json = JSON.stringify(value).slice(1, -1);
    const forms = new Set([value, json, encodeURIComponent(value)]);
    return [...forms].map((form) => ({ label: `personal value #${index + 1}`, bytes: Buffer.from(form) }));
  });

  // A run recorded before demo mode, to be opened from history afterwards.
  await openConsole(page);
  await pickEndpoint(page, 'listCharges');
  await page.getByTestId('param-limit').fill('20');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');

  await setDemo(page, true);
  const received = recordResponses(context);
  await openConsole(page);
  await expect(page.getByTestId('demo-banner')).toBeVisible();

  for (const [operation, limit] of [['listCharges', '100'], ['listPayouts', '100']]) {
    await pickEndpoint(page, operation);
    await page.getByTestId('param-limit').fill(limit);
    await runRequest(page);
    await expect(page.getByTestId('response-status')).toHaveText('200 OK');
    await rawText(page);
    await press(page.getByTestId('tab-raw'));
    await page.getByTestId('raw-received').evaluate((input: HTMLInputElement) => input.click());
    await expect(page.getByTestId('raw-received')).toBeChecked();
    await press(page.getByTestId('tab-headers'));
    await press(page.getByTestId('tab-request'));
    await press(page.getByTestId('tab-download'));
    const href = await page.getByTestId('download-link').getAttribute('href');
    if (href) {
      // Fetched by the page itself, so the recorder sees exactly what a download receives.
      await page.evaluate(async (href) => (await fetch(href)).text(), href);
    }
    await press(page.getByTestId('tab-tree'));
    await press(page.getByTestId('expand-all'));
  }
  await press(page.getByTestId('tool-history'));
  await press(page.locator('[data-testid^="history-open-"]').last());
  await expect(page.getByTestId('history-note')).toBeVisible();
  await rawText(page);
  await press(page.getByTestId('tool-snippets'));
  await expect(page.getByTestId('snippets-panel')).toBeVisible();

  const artifacts = [...(await received()), { where: 'final DOM', bytes: Buffer.from(await page.content()) }];
  expect(artifacts.length).toBeGreaterThan(10);
  const hits = findLeaks(artifacts, canaries);
  expect(hits, describeHits(hits)).toEqual([]);
});
