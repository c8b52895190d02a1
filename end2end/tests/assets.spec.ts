// What a cold visit costs on the wire: a fresh browser (empty cache) loads the console, and the test
// reports every resource's transferred and decoded size. The WASM must arrive compressed and be
// cacheable for a year under its content-hashed name; the page itself is never cached.
import { expect, test } from './support/fixtures';

test('a cold load reports what it transfers, and the WASM arrives compressed under a name cached for a year', async ({ browser }, testInfo) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const wasm = page.waitForResponse((r) => /\/pkg\/a55-console\.[\w-]+\.wasm$/.test(new URL(r.url()).pathname));
  const document = page.waitForResponse((r) => new URL(r.url()).pathname === '/');
  await page.goto('/');
  await expect(page.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });

  const wasmHeaders = await (await wasm).allHeaders();
  expect(['br', 'gzip']).toContain(wasmHeaders['content-encoding']);
  expect(wasmHeaders['cache-control']).toBe('public, max-age=31536000, immutable');
  const pageHeaders = await (await document).allHeaders();
  expect(['br', 'gzip']).toContain(pageHeaders['content-encoding']);
  expect(pageHeaders['cache-control']).toBe('no-store');

  const entries = await page.evaluate(() =>
    [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].map((e) => {
      const r = e as PerformanceResourceTiming;
      return { name: new URL(r.name).pathname, transfer: r.transferSize, decoded: r.decodedBodySize };
    }),
  );
  const total = entries.reduce((sum, e) => sum + e.transfer, 0);
  const decoded = entries.reduce((sum, e) => sum + e.decoded, 0);
  const table = entries.map((e) => `${e.name.padEnd(48)} ${String(e.transfer).padStart(10)} B on the wire, ${String(e.decoded).padStart(10)} B decoded`).join('\n');
  const report = `cold load of / (${entries.length} responses): ${total} B transferred, ${decoded} B decoded\n${table}`;
  console.log(report);
  await testInfo.attach('cold-load.txt', { body: report, contentType: 'text/plain' });
  expect(total, 'compression took bytes off the wire').toBeLessThan(decoded);

  // A second visit in the same browser takes the WASM from its cache: nothing is fetched again.
  const again = await context.newPage();
  const refetched: string[] = [];
  again.on('response', (r) => { if (r.url().includes('/pkg/') && !r.fromServiceWorker() && r.status() === 200) refetched.push(r.url()); });
  await again.goto('/');
  await expect(again.locator('main[data-hydrated="true"]')).toBeAttached({ timeout: 45_000 });
  const fromCache = await again.evaluate(() =>
    performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.wasm')).map((e) => (e as PerformanceResourceTiming).transferSize),
  );
  expect(fromCache, 'the WASM came from the memory or disk cache').toEqual([0]);
  await context.close();
});
