// Response inspector benchmark: 1, 5 and 20 MB charge lists (bigjson.py's data, served by the
// built-in simulator) in chromium. Measured in the page with performance.now(), marks the inspector
// sets (a55:body-bytes, a55:body-indexed) and CDP heap figures; printed as a Markdown table.
import { expect, test, type CDPSession, type Page } from '@playwright/test';
import { writeFileSync } from 'node:fs';

import { chooseEnvironment, openConsole, runRequest } from '../tests/support/console';
import { runFile } from '../tests/support/paths';

const SIZES = (process.env.BENCH_SIZES ?? '1,5,20').split(',').map(Number);

type Row = Record<string, number | string>;

async function heap(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  const usage = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  return usage.usedSize;
}

/// Clicks `selector` in the page and resolves with the ms until `done()` holds after the next frame.
async function timeClick(page: Page, selector: string, done: string): Promise<number> {
  return page.evaluate(
    async ({ selector, done }) => {
      const check = new Function(`return (${done});`) as () => boolean;
      const start = performance.now();
      (document.querySelector(selector) as HTMLElement).click();
      while (!check()) {
        await new Promise((r) => setTimeout(r, 1));
      }
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      return performance.now() - start;
    },
    { selector, done },
  );
}

async function openAt(page: Page, mb: number) {
  await openConsole(page);
  await chooseEnvironment(page, 'simulator');
  await page.getByTestId('method-select').selectOption('GET');
  await page.getByTestId('path-input').fill(`/sim/bigjson/${mb}`);
}

test('response inspector on 1, 5 and 20 MB', async ({ browser }) => {
  const results: Row[] = [];
  for (const mb of SIZES) {
    // Warm the simulator's page cache so generation time is not counted as the API's.
    const warm = await browser.newPage();
    await openAt(warm, mb);
    await runRequest(warm);
    await expect(warm.getByTestId('response-status')).toHaveText('200 OK');
    await warm.close();

    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await openAt(page, mb);
    const heapBefore = await heap(cdp);
    await page.evaluate(() => {
      const bench: Record<string, number> = {};
      (window as any).__bench = bench;
      document.querySelector('[data-testid="run-button"]')!.addEventListener(
        'click',
        () => {
          bench.click = performance.now();
        },
        { capture: true, once: true },
      );
      const observer = new MutationObserver(() => {
        if (bench.click && !bench.rowsInDom && document.querySelector('[data-testid="tree-row"]')) {
          bench.rowsInDom = performance.now();
          requestAnimationFrame(() => {
            bench.rowsPainted = performance.now();
          });
          observer.disconnect();
        }
      });
      observer.observe(document.body, { childList: true, subtree: true });
    });
    await runRequest(page);
    await expect(page.getByTestId('tree-row').first()).toBeVisible({ timeout: 120_000 });
    await page.waitForFunction(() => (window as any).__bench.rowsPainted);
    const timing = await page.evaluate(() => {
      const bench = (window as any).__bench;
      const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      const execute = resources.filter((r) => r.name.endsWith('/api/execute')).pop()!;
      const body = resources.filter((r) => r.name.includes('/api/bodies/')).pop()!;
      const mark = (name: string) => performance.getEntriesByName(name).pop() as PerformanceMark;
      const bytes = mark('a55:body-bytes');
      const indexed = mark('a55:body-indexed');
      return {
        click: bench.click,
        executeEnd: execute.responseEnd,
        bodyEnd: body.responseEnd,
        bytesMark: bytes.startTime,
        indexMs: indexed.detail.index_ms,
        nodes: indexed.detail.nodes,
        wasmMemory: indexed.detail.wasm_memory_bytes,
        bodyBytes: bytes.detail.bytes,
        rowsPainted: bench.rowsPainted,
      };
    });
    const heapOpen = await heap(cdp);
    const summary = await page.getByTestId('response-summary').textContent();

    // Interactions (each: click or input until the DOM shows the result, plus one frame).
    const rowsBefore = await page.getByTestId('json-tree').getAttribute('data-rows');
    const expandLevel = await timeClick(
      page,
      '[data-testid="expand-level"]',
      `document.querySelector('[data-testid="json-tree"]').dataset.rows !== '${rowsBefore}'`,
    );
    const rowsAfterLevel = Number(await page.getByTestId('json-tree').getAttribute('data-rows'));
    const expandAll = await timeClick(
      page,
      '[data-testid="expand-all"]',
      `document.querySelector('[data-testid="json-tree"]').dataset.rows === '${timing.nodes}'`,
    );
    const scroll = await page.evaluate(async () => {
      const tree = document.querySelector('[data-testid="json-tree"]') as HTMLElement;
      const start = performance.now();
      tree.scrollTop = tree.scrollHeight / 2;
      const shown = () => {
        const top = tree.scrollTop;
        return [...tree.querySelectorAll<HTMLElement>('[data-testid="tree-row"]')].some((r) => {
          const y = parseFloat(r.style.top);
          return y >= top && y < top + tree.clientHeight;
        });
      };
      while (!shown()) {
        if (performance.now() - start > 10_000) return -1;
        await new Promise((r) => setTimeout(r, 1));
      }
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      return performance.now() - start;
    });
    await page.getByTestId('collapse-all').click();
    const search = await page.evaluate(async () => {
      const input = document.querySelector('[data-testid="search-input"]') as HTMLInputElement;
      const count = document.querySelector('[data-testid="search-count"]') as HTMLElement;
      input.value = 'Cliente 1234';
      const start = performance.now();
      input.dispatchEvent(new Event('input', { bubbles: true }));
      while (!/^1 of/.test(count.textContent ?? '') || !document.querySelector('.current-match')) {
        await new Promise((r) => setTimeout(r, 1));
      }
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      const first = performance.now() - start;
      while (/searching/.test(count.textContent ?? '')) {
        await new Promise((r) => setTimeout(r, 1));
      }
      return { first, all: performance.now() - start, count: count.textContent };
    });
    const heapEnd = await heap(cdp);
    // For comparison: the browser's own JSON.parse on the same bytes, and what holding its result costs.
    const native = await page.evaluate(async () => {
      const id = document.querySelector('[data-testid="inspector"]')!.getAttribute('data-body-id');
      const text = await (await fetch(`/api/bodies/${id}`)).text();
      const start = performance.now();
      (window as any).__parsed = JSON.parse(text);
      return performance.now() - start;
    });
    const heapWithParsed = await heap(cdp);
    await page.evaluate(() => delete (window as any).__parsed);

    const row: Row = {
      mb,
      bodyBytes: timing.bodyBytes,
      nodes: timing.nodes,
      clickToRowsMs: timing.rowsPainted - timing.click,
      executeAnswerMs: timing.executeEnd - timing.click,
      bodyFetchedMs: timing.bodyEnd - timing.click,
      bytesToRowsMs: timing.rowsPainted - timing.bodyEnd,
      indexMs: timing.indexMs,
      expandLevelMs: expandLevel,
      rowsAfterLevel,
      expandAllMs: expandAll,
      scrollMiddleMs: scroll,
      searchFirstMs: search.first,
      searchAllMs: search.all,
      searchCount: search.count ?? '',
      jsHeapBeforeMB: heapBefore / 1e6,
      jsHeapOpenMB: heapOpen / 1e6,
      jsHeapEndMB: heapEnd / 1e6,
      wasmMemoryMB: timing.wasmMemory / 1e6,
      nativeJsonParseMs: native,
      jsHeapWithJsonParseMB: heapWithParsed / 1e6,
      summary: summary ?? '',
    };
    console.log(JSON.stringify(row));
    results.push(row);
    await context.close();
  }
  writeFileSync(runFile('bench-inspector.json'), JSON.stringify(results, null, 2));
  const f = (v: number | string) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : v);
  const columns = Object.keys(results[0]).filter((k) => k !== 'summary');
  console.log(`| ${columns.join(' | ')} |\n|${columns.map(() => '---').join('|')}|`);
  for (const r of results) console.log(`| ${columns.map((c) => f(r[c])).join(' | ')} |`);
});
