// Small helpers for driving the console page; every wait is on something the page shows or sends.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { expect, type Page, type Response } from '@playwright/test';

import { runFile } from './paths';

/// Loads the console on the simulator environment and waits until the WASM has hydrated it (before
/// that, clicks do nothing). The explicit `env` keeps tests independent of the environment and
/// endpoint the console remembers from earlier runs.
export async function openConsole(page: Page, path = '/?env=simulator'): Promise<void> {
  await page.goto(path);
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
}

export async function pickEndpoint(page: Page, operationId: string): Promise<void> {
  const button = page.getByTestId(`endpoint-${operationId}`);
  await button.click();
  await expect(button).toHaveClass(/\bselected\b/);
}

export async function chooseEnvironment(page: Page, id: string): Promise<void> {
  await page.getByTestId('env-select').selectOption(id);
  await expect(page.getByTestId('env-select')).toHaveValue(id);
}

export const isExecute = (response: Response) =>
  new URL(response.url()).pathname === '/api/execute' && response.request().method() === 'POST';

/// Runs the current request with `trigger` (a click by default) and waits for the server function's
/// answer and for the button to be ready again, so that the panel shows *this* request's result.
export async function runRequest(page: Page, trigger?: () => Promise<void>): Promise<Response> {
  const answered = page.waitForResponse(isExecute);
  await (trigger ?? (() => page.getByTestId('run-button').click()))();
  const response = await answered;
  await expect(page.getByTestId('run-button')).toHaveText('Run');
  await expect(page.getByTestId('run-button')).toBeEnabled();
  // The inspector's code is fetched with the first response shown: wait until it is in place, so
  // nothing the test looks at next moves under it.
  await expect(page.getByTestId('inspector-loading')).toHaveCount(0, { timeout: 20_000 });
  return response;
}

/// The body the inspector shows, fetched the way the inspector fetches it (by its body id), parsed.
export async function responseJson(page: Page): Promise<any> {
  const id = await page.getByTestId('inspector').getAttribute('data-body-id');
  expect(id, 'the inspector names a stored body').toMatch(/^[0-9a-f]{32}$/);
  const response = await page.request.get(`/api/bodies/${id}`);
  expect(response.status()).toBe(200);
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`the body is not JSON: ${String(error)}\n${text.slice(0, 500)}`);
  }
}

/// The Raw tab's whole text (pretty-printed for JSON), read by scrolling its virtual list.
export async function rawText(page: Page): Promise<string> {
  await page.getByTestId('tab-raw').click();
  await expect(page.getByTestId('raw-line').first()).toBeVisible();
  return page.getByTestId('raw-view').evaluate(async (view) => {
    const lines = new Map<number, string>();
    const frame = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    for (let top = 0; ; top += view.clientHeight) {
      view.scrollTop = top;
      await frame();
      for (const line of view.querySelectorAll<HTMLElement>('[data-testid="raw-line"]')) {
        lines.set(parseFloat(line.style.top), line.textContent ?? '');
      }
      if (top + view.clientHeight >= view.scrollHeight) break;
    }
    view.scrollTop = 0;
    return [...lines.entries()].sort((a, b) => a[0] - b[0]).map(([, text]) => text).join('\n');
  });
}

/// `expires in 1:57` → 117 (also `h:mm:ss`).
export function parseCountdown(text: string | null): number {
  const match = /^expires in (?:(\d+):)?(\d+):(\d{2})$/.exec((text ?? '').trim());
  if (!match) throw new Error(`not a countdown: ${JSON.stringify(text)}`);
  const [, h, m, s] = match;
  return Number(h ?? 0) * 3600 + Number(m) * 60 + Number(s);
}

/// The console's token fingerprint: the first 8 hex characters of the token's SHA-256.
export function fingerprintOf(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 8);
}

/// Access tokens the standalone simulator (the "sandbox") issued during this run, oldest first.
export function issuedSandboxTokens(): string[] {
  const file = runFile('issued-tokens.txt');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').map((line) => line.trim()).filter(Boolean);
}

/// The log colours field names (tracing's ANSI output); tests match on the plain text.
export const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

export function consoleLogLines(): string[] {
  return stripAnsi(readFileSync(runFile('console.log'), 'utf8')).split('\n');
}
