// Sign-in through the company's identity provider in a real browser: an independent OpenID
// Connect provider (npm `oauth2-mock-server`, end2end/oidc-mock.mjs) in front of a console that
// offers it first. Chromium follows the whole flow: console -> provider -> callback -> the page
// asked for, signed in. (On loopback the provider is the same site as the console, since ports do
// not count, so this does not show the cross-site case the callback's continue page is for.)
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './support/fixtures';

import { RUN_DIR, runFile } from './support/paths';

const PORT = Number(process.env.E2E_SSO_CONSOLE_PORT ?? 3144);
const BASE = `http://127.0.0.1:${PORT}`;
const CLIENT_ID = 'a55-console-e2e';
const CLIENT_SECRET = `e2e-oidc-secret-${Date.now()}`;
const PASSWORD = 'e2e break-glass password, long enough';
const consoleBin = path.resolve(process.env.A55_CONSOLE_BIN ?? '../target/debug/a55-console');

let idp: ChildProcess | undefined;
let server: ChildProcess | undefined;
let issuer = '';
let control = '';

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  mkdirSync(RUN_DIR, { recursive: true });
  idp = spawn('node', ['oidc-mock.mjs'], {
    cwd: path.resolve('.'),
    env: { ...process.env, MOCK_CLIENT_ID: CLIENT_ID, MOCK_CLIENT_SECRET: CLIENT_SECRET },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line: string = await new Promise((resolve) => createInterface({ input: idp!.stdout! }).once('line', resolve));
  ({ issuer, control_url: control } = JSON.parse(line));

  const hash = execFileSync(consoleBin, ['hash-password'], { input: `${PASSWORD}\n` }).toString().trim();
  writeFileSync(runFile('sso-console.toml'), `# Written by end2end/tests/sign-in.spec.ts.
[server]
bind = "127.0.0.1:${PORT}"

[storage]
database_path = "${runFile('sso-console.db')}"

[[auth.users]]
name = "breakglass"
password_hash = "${hash}"
role = "admin"

[auth.oidc]
issuer = "${issuer}"
display_name = "Test IdP"
client_id = "${CLIENT_ID}"
client_secret_env = "E2E_OIDC_SECRET"

[auth.oidc.roles]
"a55-console-admins" = "admin"
"a55-console-viewers" = "viewer"
`);
  for (const suffix of ['', '-wal', '-shm']) rmSync(runFile(`sso-console.db${suffix}`), { force: true });
  const log = openSync(runFile('sso-console.log'), 'w');
  server = spawn(consoleBin, ['--config', runFile('sso-console.toml')], {
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      E2E_OIDC_SECRET: CLIENT_SECRET,
      A55_CONSOLE_LOG: 'trace',
      LEPTOS_SITE_ROOT: path.resolve(process.env.LEPTOS_SITE_ROOT ?? '../target/site'),
    },
  });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${BASE}/healthz`)).ok) break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
});

test.afterAll(async () => {
  server?.kill('SIGINT');
  idp?.stdin?.end();
});

async function person(claims: object) {
  const answer = await fetch(`${control}/person`, { method: 'POST', body: JSON.stringify({ claims }) });
  expect(answer.status).toBe(204);
}

test('signing in with the identity provider lands on the page asked for, signed in, and signing out offers the provider too', async ({ page, context }) => {
  await person({ email: 'ana@example.com', groups: ['a55-console-admins'] });
  await page.goto(`${BASE}/compare`);
  await expect(page).toHaveURL(/\/login\?next=%2Fcompare$/);
  const sso = page.getByTestId('sso-sign-in');
  await expect(sso).toHaveText('Sign in with Test IdP');
  // The provider comes first; the local form is the break-glass way in, below it.
  const order = await page.locator('[data-testid="sso-sign-in"], [data-testid="login-form"]').evaluateAll(
    (nodes) => nodes.map((n) => n.getAttribute('data-testid')),
  );
  expect(order).toEqual(['sso-sign-in', 'login-form']);

  await sso.click();
  // The compare page then writes its form into the address (`?left=…&right=…`).
  await expect(page).toHaveURL(new RegExp(`^${BASE}/compare(\\?|$)`));
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
  await expect(page.getByTestId('staff-name')).toHaveText('ana@example.com (admin)');
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === '__Host-a55-session');
  expect(session?.sameSite).toBe('Strict');
  expect(cookies.find((c) => c.name === '__Host-a55-sign-in'), 'the one-time binding is gone').toBeUndefined();
  // Nothing of the provider's tokens reaches the browser.
  expect(await page.content()).not.toContain('eyJ');

  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  const provider = page.getByTestId('idp-sign-out');
  await expect(provider).toHaveText('Sign out of Test IdP too');
  expect(await provider.getAttribute('href')).toMatch(new RegExp(`^${issuer}/endsession\\?client_id=${CLIENT_ID}&post_logout_redirect_uri=`));
});

test('a person the console does not know is told why and gets no session', async ({ page, context }) => {
  await person({ email: 'guest@example.com', groups: ['visitors'] });
  await page.goto(`${BASE}/login`);
  await page.getByTestId('sso-sign-in').click();
  await expect(page).toHaveURL(`${BASE}/login?sso=role`);
  await expect(page.getByTestId('sign-in-problem')).toContainText('none of your groups gives access to the console');
  expect((await context.cookies()).filter((c) => c.name === '__Host-a55-session')).toHaveLength(0);
});

for (const scheme of ['light', 'dark'] as const) {
  test(`axe finds nothing serious on the login page in the ${scheme} theme`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(`${BASE}/login?sso=role`);
    await expect(page.locator('main.login[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
    await expect(page.getByTestId('login-form')).toBeVisible();
    const results = await new AxeBuilder({ page }).analyze();
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`))).toEqual([]);
  });
}
