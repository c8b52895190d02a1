// The `test` every spec uses: Playwright's, plus an automatic fixture that keeps every response any
// page of the test receives (URL, status, headers, whole body) in .run/received/, for the leak canary
// scan that `make test` runs after the suite. Contexts a test opens itself are recorded too.
import { test as base, type Browser, type BrowserContext, type Response } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';

import { runFile } from './paths';

export { expect } from '@playwright/test';

let sequence = 0;

async function keep(response: Response, testTitle: string): Promise<void> {
  const request = response.request();
  let body: Buffer;
  try {
    body = await response.body();
  } catch {
    // Redirects and aborted requests have no body to keep.
    body = Buffer.alloc(0);
  }
  const headers = (await response.headersArray()).map((h) => `${h.name}: ${h.value}`).join('\n');
  const head = `${testTitle}\n${request.method()} ${response.url()}\nHTTP ${response.status()} ${response.statusText()}\n${headers}\n\n`;
  sequence += 1;
  writeFileSync(runFile(`received/${process.pid}-${String(sequence).padStart(6, '0')}.txt`), Buffer.concat([Buffer.from(head), body]));
}

export const test = base.extend<{ recordResponses: void }>({
  recordResponses: [
    async ({ context, browser }, use, testInfo) => {
      mkdirSync(runFile('received'), { recursive: true });
      const pending: Promise<void>[] = [];
      const attach = (target: BrowserContext) => target.on('response', (r) => pending.push(keep(r, testInfo.title).catch(() => {})));
      attach(context);
      const original: Pick<Browser, 'newContext' | 'newPage'> = {
        newContext: browser.newContext.bind(browser),
        newPage: browser.newPage.bind(browser),
      };
      browser.newContext = async (...args) => {
        const created = await original.newContext(...args);
        attach(created);
        return created;
      };
      browser.newPage = async (...args) => {
        const page = await original.newPage(...args);
        attach(page.context());
        return page;
      };
      await use();
      Object.assign(browser, original);
      await Promise.all(pending);
    },
    { auto: true },
  ],
});
