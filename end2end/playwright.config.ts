// Browser tests of the a55 console: Playwright starts a standalone simulator (the "sandbox") and the
// console itself, then drives Debian's chromium against http://127.0.0.1:3100.
//
// This module is evaluated once in the runner process and once in every worker process. Only the
// runner (the first evaluation, which has no E2E_RUN_ID yet) generates the canary secrets and writes
// the run directory; workers inherit the values through the environment.
import { defineConfig } from '@playwright/test';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  CONSOLE_PORT,
  E2E_CLIENT_ID,
  RUN_DIR,
  SANDBOX_PORT,
  TOKEN_LIFETIME_SECS,
  runFile,
  siteRoot as siteRootOf,
} from './tests/support/paths';

const here = path.dirname(fileURLToPath(import.meta.url));

const consoleBin = path.resolve(here, process.env.A55_CONSOLE_BIN ?? '../target/debug/a55-console');
const siteRoot = siteRootOf();
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

if (!process.env.E2E_RUN_ID) {
  process.env.E2E_RUN_ID = randomUUID();
  // Canary secrets (unless given): a random part whose every 8-character fragment is unique, so the
  // leak scan can look for fragments too. The secret the standalone simulator accepts and the
  // console's sandbox environment uses:
  const random = () => randomBytes(32).toString('base64url');
  process.env.E2E_SANDBOX_SECRET ??= `CANARY-SECRET-${random()}`;
  // A secret the simulator does not accept, for the "credentials rejected" path. It has characters that
  // change under URL-, form- and JSON-encoding so that every encoding the detector searches differs.
  process.env.E2E_WRONG_SECRET ??= `CANARY-WRONG-${random()} a/b+c:d"e\\f&g=h%i`;
  // The built-in simulator's secret (otherwise random and unknown to the scan).
  process.env.E2E_BUILTIN_SECRET ??= `CANARY-SECRET-${random()} builtin`;

  for (const [what, file] of [['console binary', consoleBin], ['site root', siteRoot]]) {
    if (!existsSync(file)) {
      throw new Error(`${what} ${file} does not exist: run \`make test-browser\` (or \`cargo run -p site-build --profile tools -- --split\`) in the repository root first ` +
        '(or point A55_CONSOLE_BIN / LEPTOS_SITE_ROOT at another build)');
    }
  }
  mkdirSync(RUN_DIR, { recursive: true });
  for (const name of [
    'issued-tokens.txt',
    'issued-tokens-builtin.txt',
    'canary-secrets.jsonl',
    'console.log',
    'simulator.log',
    'console.db',
    'console.db-wal',
    'console.db-shm',
    'received',
  ]) {
    rmSync(runFile(name), { force: true, recursive: true });
  }
  writeFileSync(runFile('console.toml'), consoleToml());
  // What the leak canary scan (`make test`, after the suite) searches for, besides the issued tokens.
  writeFileSync(
    runFile('canary-secrets.jsonl'),
    [
      { client_id: E2E_CLIENT_ID, secret: process.env.E2E_SANDBOX_SECRET },
      { client_id: E2E_CLIENT_ID, secret: process.env.E2E_WRONG_SECRET },
      { client_id: 'console-simulator', secret: process.env.E2E_BUILTIN_SECRET },
    ]
      .map((line) => JSON.stringify(line))
      .join('\n') + '\n',
  );
}

/// The console under test: the built-in simulator, the standalone simulator as a sandbox, and two
/// extra environments that tests need to themselves (see the comments below).
function consoleToml(): string {
  return `# Written by end2end/playwright.config.ts for one test run.
[server]
bind = "127.0.0.1:${CONSOLE_PORT}"

[storage]
# A fresh database for every run, next to the other runtime files.
database_path = ${JSON.stringify(runFile('console.db'))}

[simulator]
token_lifetime_secs = ${TOKEN_LIFETIME_SECS}
# Test aids for the leak canary scan: a known canary secret, and every issued token recorded.
client_secret_env = "E2E_BUILTIN_SECRET"
issued_tokens_file = ${JSON.stringify(runFile('issued-tokens-builtin.txt'))}

[environments.simulator]
kind = "simulator"
label = "Simulator"
# The built-in simulator serves /api/v1/swagger.json: the request-builder tests load it as a live spec.
live_spec = true

# A second built-in-simulator environment that only the token badge test uses, so that its token
# cache is guaranteed empty when that test starts whatever ran before it.
[environments.simulator-badge]
kind = "simulator"
label = "Simulator (token badge test)"

# A small response cap, for the inspector's truncation notice.
[environments.simulator-small-cap]
kind = "simulator"
label = "Simulator (64 KB cap)"
max_response_bytes = 65536

[environments.sandbox]
kind = "sandbox"
label = "Sandbox (test)"
api_base = "http://127.0.0.1:${SANDBOX_PORT}/api/v1"
token_url = "http://127.0.0.1:${SANDBOX_PORT}/oauth2/token"
client_id = "${E2E_CLIENT_ID}"
client_secret_env = "E2E_SANDBOX_SECRET"
client_auth = "client_secret_basic"

# The built-in simulator's production-like data set, protected like production: the compare tests
# diff it against the simulator, and the parity tests its OpenAPI document (five known spec drifts).
[environments.simulator-production]
kind = "production"
label = "Simulator (production data)"
simulator = "production"
live_spec = true

# Same server, wrong secret (sent in the form body): the token endpoint refuses it.
[environments.sandbox-wrong-secret]
kind = "sandbox"
label = "Sandbox (wrong secret)"
api_base = "http://127.0.0.1:${SANDBOX_PORT}/api/v1"
token_url = "http://127.0.0.1:${SANDBOX_PORT}/oauth2/token"
client_id = "${E2E_CLIENT_ID}"
client_secret_env = "E2E_WRONG_SECRET"
client_auth = "client_secret_post"
`;
}

const sh = (script: string) => `sh -c '${script}'`;

export default defineConfig({
  testDir: './tests',
  // Both servers are shared by every test and hold state (token caches): one worker, in file order.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : [['list']],
  use: {
    baseURL: `http://127.0.0.1:${CONSOLE_PORT}`,
    browserName: 'chromium',
    headless: true,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: chromium,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: [
    {
      // The standalone simulator stands in for a remote a55 sandbox and its Cognito token endpoint.
      name: 'sandbox simulator',
      command: sh(
        'rm -f "$E2E_RUN_DIR/issued-tokens.txt"; ' +
          'exec "$E2E_CONSOLE_BIN" simulate --port "$E2E_SANDBOX_PORT" --client-id "$E2E_CLIENT_ID" ' +
          '--token-lifetime-secs "$E2E_TOKEN_LIFETIME" --issued-tokens-file "$E2E_RUN_DIR/issued-tokens.txt" ' +
          '>"$E2E_RUN_DIR/simulator.log" 2>&1',
      ),
      cwd: here,
      env: {
        E2E_RUN_DIR: RUN_DIR,
        E2E_CONSOLE_BIN: consoleBin,
        E2E_SANDBOX_PORT: String(SANDBOX_PORT),
        E2E_CLIENT_ID,
        E2E_TOKEN_LIFETIME: String(TOKEN_LIFETIME_SECS),
        A55_SIMULATOR_CLIENT_SECRET: process.env.E2E_SANDBOX_SECRET ?? '',
        A55_CONSOLE_LOG: 'trace',
      },
      // The API answers 401 without a token, which Playwright counts as "up".
      url: `http://127.0.0.1:${SANDBOX_PORT}/api/v1/wallets`,
      reuseExistingServer: false,
      timeout: 120_000,
      gracefulShutdown: { signal: 'SIGINT', timeout: 5_000 },
    },
    {
      name: 'console',
      command: sh('exec "$E2E_CONSOLE_BIN" --config "$E2E_RUN_DIR/console.toml" >"$E2E_RUN_DIR/console.log" 2>&1'),
      cwd: here,
      env: {
        E2E_RUN_DIR: RUN_DIR,
        E2E_CONSOLE_BIN: consoleBin,
        E2E_SANDBOX_SECRET: process.env.E2E_SANDBOX_SECRET ?? '',
        E2E_WRONG_SECRET: process.env.E2E_WRONG_SECRET ?? '',
        E2E_BUILTIN_SECRET: process.env.E2E_BUILTIN_SECRET ?? '',
        LEPTOS_SITE_ROOT: siteRoot,
        A55_CONSOLE_LOG: 'trace',
      },
      url: `http://127.0.0.1:${CONSOLE_PORT}/healthz`,
      reuseExistingServer: false,
      timeout: 120_000,
      gracefulShutdown: { signal: 'SIGINT', timeout: 5_000 },
    },
  ],
});
