// README pictures (not tests): the same servers as the browser tests, the built-in simulator.
// Run with `make screenshots`; PNGs are written to docs/screenshots/.
import { defineConfig } from '@playwright/test';

import base from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './screenshots',
  testMatch: /.*\.shots\.ts/,
  timeout: 120_000,
  reporter: [['list']],
});
