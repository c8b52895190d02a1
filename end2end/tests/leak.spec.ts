// Nothing the browser receives, and nothing the console logs, contains an access token or a client secret.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { type BrowserContext, type Page, type Response } from '@playwright/test';
import { expect, test } from './support/fixtures';

import {
  chooseEnvironment,
  fingerprintOf,
  stripAnsi,
  issuedSandboxTokens,
  openConsole,
  pickEndpoint,
  runRequest,
} from './support/console';
import {
  describeHits,
  findLeaks,
  formEncode,
  secretCanaries,
  tokenCanaries,
  type Artifact,
  type Canary,
} from './support/leak-detector';
import { E2E_CLIENT_ID, canarySecrets, runFile, siteRoot } from './support/paths';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const fakeJwt = () =>
  `${b64url({ kid: 'k', alg: 'RS256' })}.${b64url({ sub: randomUUID(), token_use: 'access' })}.${randomBytes(256).toString('base64url')}`;

test('the leak detector finds a planted token in every encoding', () => {
  const token = fakeJwt();
  const secret = `CANARY-SECRET-${randomUUID()}`;
  const special = `CANARY-WRONG-${randomUUID()} a/b+c:d"e\\f&g=h%i`;
  const canaries = [
    ...tokenCanaries([token], 'planted token'),
    ...secretCanaries(E2E_CLIENT_ID, secret, 'planted secret'),
    ...secretCanaries(E2E_CLIENT_ID, special, 'planted special secret'),
  ];
  const signature = token.slice(token.lastIndexOf('.') + 1);
  const labels = canaries.map((c) => c.label);
  expect(labels.filter((l) => l.includes('signature chars')).length, 'fragments cover the signature').toBeGreaterThanOrEqual(
    Math.floor(signature.length / 8),
  );
  // With special characters, every encoding is a different byte sequence, each searched on its own.
  for (const form of ['raw', 'URL-encoded', 'form-encoded', 'JSON-escaped', 'JSON-escaped with \\/', 'base64']) {
    expect(labels, `a canary of its own for the ${form} secret`).toContain(`planted special secret (${form})`);
  }
  expect(labels.filter((l) => l.startsWith('planted special secret (base64(')).length, 'HTTP Basic forms').toBeGreaterThanOrEqual(3);

  // Each canary alone, planted in binary noise, is found under its own label.
  for (const canary of canaries) {
    const planted = Buffer.concat([randomBytes(5000), canary.bytes, randomBytes(5000)]);
    const hits = findLeaks([{ where: 'synthetic.wasm', bytes: planted }], canaries);
    expect(hits.map((h) => h.canary), `planted ${canary.label}`).toContain(canary.label);
    expect(hits.find((h) => h.canary === canary.label)?.offset).toBe(5000);
  }

  // Realistic carriers: headers, JSON, form bodies, HTTP Basic, a lone fragment, a foreign JWT, a log.
  const basic = Buffer.from(`${formEncode(E2E_CLIENT_ID)}:${formEncode(special)}`).toString('base64');
  const middle = signature.slice(16, 24);
  const foreign = fakeJwt();
  const log = ['INFO start', 'DEBUG connecting', `TRACE sending authorization: Bearer ${token}`, 'INFO done'].join('\n');
  const artifacts: Artifact[] = [
    { where: 'header', bytes: Buffer.from(`authorization: Bearer ${token}\r\n`) },
    { where: 'json', bytes: Buffer.from(JSON.stringify({ client_secret: special })) },
    { where: 'form', bytes: Buffer.from(`grant_type=client_credentials&client_secret=${formEncode(special)}`) },
    { where: 'basic', bytes: Buffer.from(`Authorization: Basic ${basic}`) },
    { where: 'fragment.wasm', bytes: Buffer.concat([randomBytes(100), Buffer.from(middle), randomBytes(100)]) },
    { where: 'foreign', bytes: Buffer.from(`{"token":"${foreign}"}`) },
    { where: 'console.log', bytes: Buffer.from(log), lines: true },
    { where: 'url', bytes: Buffer.from(`http://127.0.0.1:3100/api/x?secret=${encodeURIComponent(secret)}`) },
  ];
  const hits = findLeaks(artifacts, canaries);
  const found = (where: string) => hits.filter((h) => h.where === where).map((h) => h.canary);
  expect(found('header')).toEqual(expect.arrayContaining(['planted token #1 (whole token)', 'planted token #1 (signature)', 'JWT-shaped string']));
  expect(found('json')).toEqual(expect.arrayContaining([expect.stringMatching(/^planted special secret \(.*JSON-escaped/)]));
  expect(found('form')).toEqual(expect.arrayContaining([expect.stringMatching(/^planted special secret \(.*form-encoded/)]));
  expect(found('basic')).toEqual(expect.arrayContaining([expect.stringMatching(/^planted special secret \(base64\(urlencode\(id\):urlencode\(secret\)\)/)]));
  expect(found('fragment.wasm')).toEqual(['planted token #1 (signature chars 16..24)']);
  expect(found('foreign')).toEqual(['JWT-shaped string']);
  expect(found('url')).toEqual(expect.arrayContaining([expect.stringMatching(/^planted secret \(raw = URL-encoded/)]));
  const logHits = hits.filter((h) => h.where === 'console.log');
  expect(logHits.length).toBeGreaterThan(0);
  expect(new Set(logHits.map((h) => h.line))).toEqual(new Set([3]));

  // The report says where, and never prints what it found.
  const report = describeHits(hits);
  expect(report).toContain('console.log:3');
  for (const needle of [token, signature, secret, special, basic, foreign, middle]) {
    expect(report.includes(needle), 'the report prints a credential').toBe(false);
  }

  // Clean data gives no hits.
  const clean: Artifact[] = [
    { where: 'noise', bytes: randomBytes(200_000) },
    { where: 'json', bytes: Buffer.from(JSON.stringify({ fingerprint: fingerprintOf(token), claims: { sub: 'x' } })) },
  ];
  expect(findLeaks(clean, canaries)).toEqual([]);
});

interface Received {
  label: string;
  url: string;
  status: number;
  contentType: string;
  headers: string;
  body?: Buffer;
  bodyError?: string;
}

/// Records every response the context's pages receive, with all headers and the whole body.
function recordResponses(context: BrowserContext) {
  const pending: Promise<Received>[] = [];
  context.on('response', (response: Response) => {
    pending.push(
      (async () => {
        const request = response.request();
        const headers = await response.headersArray();
        const received: Received = {
          label: `${request.method()} ${response.url()} → ${response.status()}`,
          url: response.url(),
          status: response.status(),
          contentType: (await response.headerValue('content-type')) ?? '',
          headers: `HTTP ${response.status()} ${response.statusText()}\n${headers.map((h) => `${h.name}: ${h.value}`).join('\n')}`,
        };
        try {
          received.body = await response.body();
        } catch (error) {
          received.bodyError = String(error);
        }
        return received;
      })(),
    );
  });
  return () => Promise.all(pending);
}

async function browserState(page: Page, context: BrowserContext): Promise<Artifact[]> {
  const storage = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }));
  return [
    { where: 'final DOM (page.content())', bytes: Buffer.from(await page.content()) },
    { where: 'cookies', bytes: Buffer.from(JSON.stringify(await context.cookies())) },
    { where: 'web storage', bytes: Buffer.from(storage) },
  ];
}

/// Calls the execute server function from the page, as the WASM would.
async function executeFromPage(page: Page, request: Record<string, unknown>) {
  return page.evaluate(async (request) => {
    const response = await fetch('/api/execute', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-a55-csrf': '1' },
      body: JSON.stringify({
        request: { method: 'GET', path_params: [], query: [], headers: [], body: null, endpoint_id: null, ...request },
      }),
    });
    return { status: response.status, body: await response.json() };
  }, request);
}

test('nothing the browser receives contains the access token or the client secret', async ({ page, context }) => {
  test.setTimeout(120_000);
  const received = recordResponses(context);
  const secrets = canarySecrets();

  await openConsole(page);

  // Built-in simulator: success, an API validation error, a refused path, a public (tokenless) call.
  await pickEndpoint(page, 'listCharges');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  await pickEndpoint(page, 'createCharge');
  await page.getByTestId('body-editor').fill('{}');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('400 Bad Request');
  await pickEndpoint(page, 'listWallets');
  await page.getByTestId('path-input').fill('../admin');
  await runRequest(page);
  await expect(page.getByTestId('response-error')).toContainText('dot segment');
  await pickEndpoint(page, 'getPublicCharge');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText(/^\d{3} /);
  // A 401 from the API: the simulator's /sim/revoked refuses even a valid token, as after a revocation.
  const simulator401 = await executeFromPage(page, { environment: 'simulator', path: '/sim/revoked' });
  expect(simulator401.status).toBe(200);
  expect(simulator401.body.status).toBe(401);

  // Standalone simulator as the sandbox (client_secret_basic).
  await chooseEnvironment(page, 'sandbox');
  await pickEndpoint(page, 'listWallets');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  const sandboxFingerprint = (await page.getByTestId('token-fingerprint').textContent()) ?? '';
  await pickEndpoint(page, 'listCharges');
  await page.getByTestId('param-limit').fill('5');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  await pickEndpoint(page, 'createCharge');
  await page.getByTestId('body-editor').fill('{"payer_name": 12, "value": "x"}');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('400 Bad Request');
  const sandbox401 = await executeFromPage(page, { environment: 'sandbox', path: '/sim/revoked' });
  expect(sandbox401.status).toBe(200);
  expect(sandbox401.body.status).toBe(401);
  // The 401 dropped the cached sandbox token: the next request fetches a new one, which the reload
  // below must find again.
  await pickEndpoint(page, 'listWallets');
  await runRequest(page);
  await expect(page.getByTestId('response-status')).toHaveText('200 OK');
  const sandboxFingerprintAfter401 = (await page.getByTestId('token-fingerprint').textContent()) ?? '';
  expect(sandboxFingerprintAfter401).not.toBe(sandboxFingerprint);

  // Same server with a wrong secret (client_secret_post): the token endpoint refuses the client.
  await chooseEnvironment(page, 'sandbox-wrong-secret');
  await pickEndpoint(page, 'listWallets');
  const refused = await runRequest(page);
  expect(refused.status()).toBe(502);
  await expect(page.getByTestId('response-error')).toContainText('credentials rejected by the token endpoint for sandbox-wrong-secret');

  // A reload renders the page on the server with tokens cached: its hydration data is received too.
  await page.reload();
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
  await chooseEnvironment(page, 'sandbox');
  await expect(page.getByTestId('token-fingerprint')).toHaveText(sandboxFingerprintAfter401);
  await page.waitForLoadState('networkidle');

  const state = await browserState(page, context);
  const responses = await received();
  await page.close();

  // The recording is complete and covers every kind of file the console serves.
  const unread = responses.filter((r) => r.bodyError !== undefined && !(r.status >= 300 && r.status < 400));
  expect(unread.map((r) => `${r.label}: ${r.bodyError}`), 'response bodies that could not be read').toEqual([]);
  const kinds = (test: (r: Received) => boolean) => responses.filter((r) => test(r) && (r.body?.length ?? 0) > 0).length;
  expect(kinds((r) => r.contentType.startsWith('text/html')), 'HTML').toBeGreaterThanOrEqual(2);
  expect(kinds((r) => /javascript/.test(r.contentType)), 'JS').toBeGreaterThanOrEqual(1);
  expect(kinds((r) => r.contentType.startsWith('application/wasm')), 'WASM').toBeGreaterThanOrEqual(1);
  expect(kinds((r) => r.contentType.startsWith('text/css')), 'CSS').toBeGreaterThanOrEqual(1);
  // (Environments and catalog arrive inside the server-rendered HTML, so the page never fetches them.)
  for (const fn of ['token', 'execute']) {
    expect(kinds((r) => new URL(r.url).pathname === `/api/${fn}`), `/api/${fn}`).toBeGreaterThanOrEqual(1);
  }

  // What to look for: the sandbox tokens the standalone simulator issued, and both client secrets.
  const tokens = issuedSandboxTokens();
  expect(tokens.length, 'the standalone simulator issued at least one token').toBeGreaterThanOrEqual(1);
  expect(tokens.map(fingerprintOf), 'the sandbox badge shows one of the recorded tokens').toContain(sandboxFingerprint);
  const canaries: Canary[] = [
    ...tokenCanaries(tokens, 'sandbox access token'),
    ...secretCanaries(E2E_CLIENT_ID, secrets.sandbox, 'sandbox client secret'),
    ...secretCanaries(E2E_CLIENT_ID, secrets.wrong, 'wrong client secret'),
  ];

  const artifacts: Artifact[] = [...state];
  for (const r of responses) {
    artifacts.push({ where: `${r.label} [URL]`, bytes: Buffer.from(r.url) });
    artifacts.push({ where: `${r.label} [status line and headers]`, bytes: Buffer.from(r.headers) });
    if (r.body) artifacts.push({ where: `${r.label} [body, ${r.contentType || 'no content-type'}]`, bytes: r.body });
  }
  const browserHits = findLeaks(artifacts, canaries);

  // Positive controls: the same scan does see what the browser is allowed to receive. The sandbox
  // token's fingerprint is in server-function answers and the DOM; the WASM was scanned whole.
  const control: Canary[] = [{ label: 'sandbox token fingerprint', bytes: Buffer.from(sandboxFingerprintAfter401) }];
  const seen = new Set(findLeaks(artifacts, control).map((hit) => hit.where));
  expect([...seen].some((w) => w.includes('/api/execute') && w.includes('[body')), 'fingerprint seen in an /api/execute body').toBe(true);
  expect([...seen].some((w) => w.includes('/api/token') && w.includes('[body')), 'fingerprint seen in an /api/token body').toBe(true);
  expect(seen.has('final DOM (page.content())'), 'fingerprint seen in the DOM').toBe(true);
  const wasm = responses.find((r) => r.contentType.startsWith('application/wasm'));
  const wasmFile = path.join(siteRoot(), new URL(wasm!.url).pathname);
  expect(wasm!.body!.length, `bytes of ${wasm!.url} received and scanned`).toBe(statSync(wasmFile).size);

  // The console's own log, at trace level, must not hold them either.
  const log = readFileSync(runFile('console.log'));
  const plainLog = Buffer.from(stripAnsi(log.toString('utf8')));
  expect(plainLog.toString(), 'the console logs at trace level').toMatch(/^\S+\s+TRACE /m);
  expect(plainLog.toString(), 'the log covers the sandbox token request').toMatch(/access token obtained.*environment=sandbox/);
  const logArtifacts: Artifact[] = [
    { where: 'end2end/.run/console.log', bytes: log, lines: true },
    { where: 'end2end/.run/console.log (colours removed)', bytes: plainLog, lines: true },
  ];
  const logHits = findLeaks(logArtifacts, canaries);
  expect(findLeaks(logArtifacts, control).length, 'fingerprint seen in the log (positive control)').toBeGreaterThan(0);

  const totalBytes = artifacts.reduce((n, a) => n + a.bytes.length, 0);
  const scanned = `${responses.length} responses, ${totalBytes} bytes received, ${log.length} bytes of log, ${canaries.length} canaries, ${tokens.length} sandbox token(s)`;
  console.log(`leak scan: ${scanned}`);
  test.info().annotations.push({
    type: 'scanned',
    description: scanned,
  });
  expect(browserHits, describeHits(browserHits)).toEqual([]);
  expect(logHits, describeHits(logHits)).toEqual([]);
});
