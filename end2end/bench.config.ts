// Benchmarks (not tests): the same servers as the browser tests, a release build, long timeouts.
// Run with `make bench-inspector`; results are printed and written to .run/bench-inspector.json.
import { defineConfig } from '@playwright/test';

import base from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './bench',
  testMatch: /.*\.bench\.ts/,
  timeout: 900_000,
  expect: { timeout: 120_000 },
  reporter: [['list']],
});
