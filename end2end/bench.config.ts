// Benchmarks (not tests): the same servers as the browser tests, a release build, long timeouts.
// Run with `make bench-inspector` or `make bench-coldload`; results are printed, written to
// .run/bench-*.json and to their sections of BENCHMARKS.md.
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
