// Cold-load benchmark: what a browser with an empty cache transfers and waits for before a page of
// the console works. A release console of its own (one password account, the built-in simulator),
// Debian chromium, each load in a new browser context with the cache disabled; on loopback and with
// CDP network emulation (10 Mbit/s each way, 40 ms latency). Printed as a Markdown table and written
// as the cold-load section of BENCHMARKS.md (benchmarks/sections/25-coldload.md).
//
// "Interactive" is the moment the page's `<main>` says `data-hydrated="true"`: every page sets it
// from an effect, and effects first run after `hydrate_lazy` has hydrated the page (for a lazy
// route, after its WASM chunk has arrived and its view has hydrated), so event handlers are attached.
// The login page is plain HTML with a form and no WASM: it is served with the attribute, ready at once.
import { expect, test, type Browser, type CDPSession } from '@playwright/test';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { RUN_DIR, runFile } from '../tests/support/paths';

const PORT = Number(process.env.E2E_COLDLOAD_PORT ?? 3146);
const BASE = `http://127.0.0.1:${PORT}`;
const RUNS = Number(process.env.BENCH_COLDLOAD_RUNS ?? 7);
const PASSWORD = 'coldload benchmark password, long enough';
const consoleBin = path.resolve(process.env.A55_CONSOLE_BIN ?? '../target/release/a55-console');
const siteRoot = path.resolve(process.env.LEPTOS_SITE_ROOT ?? '../target/site');

/// Pages measured: the login page signed out, the others with a staff session. `/compare`, `/token`
/// and `/audit` are lazy routes: reached cold, their WASM chunk is fetched before they hydrate.
/// `BENCH_COLDLOAD_ROUTES=/,/login` measures some of them.
const ROUTES: { path: string; signedIn: boolean }[] = [
  { path: '/', signedIn: true },
  { path: '/login', signedIn: false },
  { path: '/compare', signedIn: true },
  { path: '/token', signedIn: true },
  { path: '/audit', signedIn: true },
].filter((r) => !process.env.BENCH_COLDLOAD_ROUTES || process.env.BENCH_COLDLOAD_ROUTES.split(',').includes(r.path));

/// 10 Mbit/s is 1,250,000 bytes/s; CDP adds the latency to every request.
const LINKS = [
  { name: 'loopback', conditions: undefined },
  {
    name: '10 Mbit/s, 40 ms',
    conditions: { offline: false, latency: 40, downloadThroughput: 1_250_000, uploadThroughput: 1_250_000 },
  },
] as const;

type Load = {
  /// Each counted request: path, bytes, and ms from the navigation's start to its headers and its end.
  detail?: string[];
  requests: number;
  bytes: number;
  ttfb: number;
  domContentLoaded: number;
  load: number;
  interactive: number;
};

let server: ChildProcess | undefined;
let loadAtStart = 0;

test.beforeAll(async () => {
  mkdirSync(RUN_DIR, { recursive: true });
  const hash = execFileSync(consoleBin, ['hash-password'], { input: `${PASSWORD}\n` }).toString().trim();
  writeFileSync(
    runFile('coldload-console.toml'),
    `# Written by end2end/bench/coldload.bench.ts.
[server]
bind = "127.0.0.1:${PORT}"

[storage]
database_path = "${runFile('coldload-console.db')}"

[[auth.users]]
name = "staff"
password_hash = "${hash}"
role = "admin"

[environments.simulator]
kind = "simulator"
label = "Simulator"
`,
  );
  for (const suffix of ['', '-wal', '-shm']) rmSync(runFile(`coldload-console.db${suffix}`), { force: true });
  const log = openSync(runFile('coldload-console.log'), 'w');
  server = spawn(consoleBin, ['--config', runFile('coldload-console.toml')], {
    stdio: ['ignore', log, log],
    env: { ...process.env, LEPTOS_SITE_ROOT: siteRoot },
  });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${BASE}/healthz`)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the console did not answer on ${BASE}/healthz (see ${runFile('coldload-console.log')})`);
});

test.afterAll(async () => {
  server?.kill('SIGINT');
});

/// Signs in once through the login form; every signed-in load starts from these cookies and nothing else.
async function staffCookies(browser: Browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE}/login`);
  await expect(page.locator('main.login[data-hydrated="true"]')).toBeAttached({ timeout: 60_000 });
  await page.getByTestId('login-name').fill('staff');
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await expect(page.locator('main.workbench[data-hydrated="true"]')).toBeAttached({ timeout: 60_000 });
  const state = await context.storageState();
  await context.close();
  expect(state.cookies.some((c) => c.name === '__Host-a55-session')).toBe(true);
  // Cookies only: a staff member's saved theme or environment would change what the page loads.
  return { cookies: state.cookies, origins: [] };
}

/// Marks the moment `<main data-hydrated="true">` appears, from the first byte of the document on.
function watchHydration() {
  const w = window as any;
  const seen = () => {
    if (w.__a55Interactive === undefined && document.querySelector('main[data-hydrated="true"]')) {
      w.__a55Interactive = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(seen);
  observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-hydrated'] });
}

/// A load not interactive after this long is counted as stalled and made again (see the section).
const STALLED_MS = 30_000;

async function coldLoad(browser: Browser, route: (typeof ROUTES)[number], link: (typeof LINKS)[number], state: any): Promise<Load | { stalled: string }> {
  const context = await browser.newContext(route.signedIn ? { storageState: state } : {});
  const page = await context.newPage();
  await page.addInitScript(watchHydration);
  const cdp: CDPSession = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (link.conditions) await cdp.send('Network.emulateNetworkConditions', link.conditions);
  // Every request the page starts before it is interactive, and the bytes each one took on the wire
  // (compressed bodies plus headers, CDP's encodedDataLength) once it has finished.
  const started = new Map<string, { url: string; beforeInteractive: boolean }>();
  const finished = new Map<string, number>();
  const times = new Map<string, { start: number; headers?: number; end?: number }>();
  let interactive = false;
  cdp.on('Network.requestWillBeSent', (e: any) => {
    if (!e.request.url.startsWith('data:') && !started.has(e.requestId)) {
      started.set(e.requestId, { url: e.request.url, beforeInteractive: !interactive });
      times.set(e.requestId, { start: e.timestamp });
    }
  });
  cdp.on('Network.responseReceived', (e: any) => {
    const t = times.get(e.requestId);
    if (t) t.headers = e.timestamp;
  });
  cdp.on('Network.loadingFinished', (e: any) => {
    finished.set(e.requestId, e.encodedDataLength);
    const t = times.get(e.requestId);
    if (t) t.end = e.timestamp;
  });
  cdp.on('Network.loadingFailed', (e: any) => finished.set(e.requestId, 0));

  try {
    await page.goto(`${BASE}${route.path}`, { waitUntil: 'load', timeout: STALLED_MS });
    await page.waitForFunction(() => (window as any).__a55Interactive !== undefined, null, { timeout: STALLED_MS, polling: 10 });
  } catch (error) {
    const waiting = [...started].filter(([id]) => !finished.has(id)).map(([, r]) => new URL(r.url).pathname);
    await context.close();
    return { stalled: `${String(error).split('\n')[0]}; unfinished: ${waiting.join(', ')}` };
  }
  interactive = true;
  expect(new URL(page.url()).pathname, `${route.path} was not redirected`).toBe(route.path);
  const counted = [...started].filter(([, r]) => r.beforeInteractive).map(([id]) => id);
  for (let i = 0; i < 1000 && counted.some((id) => !finished.has(id)); i++) await new Promise((r) => setTimeout(r, 10));
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return {
      domContentLoaded: nav.domContentLoadedEventEnd,
      load: nav.loadEventEnd,
      interactive: (window as any).__a55Interactive as number,
    };
  });
  await context.close();
  const origin = times.get(counted[0])?.start ?? 0;
  const at = (t?: number) => (t === undefined ? '?' : Math.round((t - origin) * 1000));
  const detail = counted.map((id) => {
    const t = times.get(id)!;
    const url = new URL(started.get(id)!.url);
    return `${url.pathname}${url.search} ${finished.get(id) ?? '?'} B, start ${at(t.start)} headers ${at(t.headers)} end ${at(t.end)} ms`;
  });
  // Navigation Timing's responseStart does not include the emulated latency: the first byte is
  // taken from CDP instead, the document's response headers reaching the page after its request.
  const document = times.get(counted[0])!;
  return {
    detail,
    requests: counted.length,
    bytes: counted.reduce((sum, id) => sum + (finished.get(id) ?? 0), 0),
    ...timing,
    ttfb: ((document.headers ?? Number.NaN) - document.start) * 1000,
  };
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

type Row = { route: string; link: string; runs: number } & Load & { interactiveMin: number; interactiveMax: number; stalled: number };

test(`cold loads of /, /login and the lazy routes, ${RUNS} each, on loopback and a 10 Mbit/s 40 ms link`, async ({ browser }) => {
  test.setTimeout(1_800_000);
  loadAtStart = loadavg()[0];
  const state = await staffCookies(browser);
  const rows: Row[] = [];
  const raw: object[] = [];
  for (const link of LINKS) {
    for (const route of ROUTES) {
      // One load first, not counted: the console's own first answers (page cache, database) warm up.
      await coldLoad(browser, route, link, state);
      const loads: Load[] = [];
      const stalls: string[] = [];
      while (loads.length < RUNS) {
        const load = await coldLoad(browser, route, link, state);
        if ('stalled' in load) {
          console.log(`${route.path} (${link.name}) stalled: ${load.stalled}`);
          stalls.push(load.stalled);
          expect(stalls.length, 'stalled loads').toBeLessThan(RUNS);
        } else {
          loads.push(load);
        }
      }
      const pick = (k: Exclude<keyof Load, 'detail'>) => median(loads.map((l) => l[k]));
      const row: Row = {
        route: route.path,
        link: link.name,
        runs: RUNS,
        requests: pick('requests'),
        bytes: pick('bytes'),
        ttfb: pick('ttfb'),
        domContentLoaded: pick('domContentLoaded'),
        load: pick('load'),
        interactive: pick('interactive'),
        interactiveMin: Math.min(...loads.map((l) => l.interactive)),
        interactiveMax: Math.max(...loads.map((l) => l.interactive)),
        stalled: stalls.length,
      };
      console.log(JSON.stringify(row));
      if (process.env.BENCH_COLDLOAD_DEBUG) console.log(loads[0].detail!.join('\n'));
      rows.push(row);
      raw.push({ ...row, loads, stalls });
    }
  }
  writeFileSync(runFile('bench-coldload.json'), JSON.stringify(raw, null, 2));
  const table = markdownTable(rows);
  console.log(table);
  writeFileSync(fileURLToPath(new URL('../../benchmarks/sections/25-coldload.md', import.meta.url)), section(rows, table));
});

const ms = (v: number) => `${Math.round(v).toLocaleString('en')} ms`;
const kb = (v: number) => `${(v / 1000).toFixed(1)} KB`;

function markdownTable(rows: Row[]): string {
  const lines = [
    '| route | link | requests | transferred | first byte | DOMContentLoaded | load | **interactive** (min–max) | stalled |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| \`${r.route}\` | ${r.link} | ${r.requests} | ${kb(r.bytes)} | ${ms(r.ttfb)} | ${ms(r.domContentLoaded)} | ${ms(r.load)} | ` +
        `**${ms(r.interactive)}** (${Math.round(r.interactiveMin)}–${Math.round(r.interactiveMax)}) | ${r.stalled} |`,
    );
  }
  return lines.join('\n');
}

function version(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/// The build measured: the git commit of the working tree, and the hashes the server serves /pkg by.
function build(): string {
  const commit = version('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = version('git', ['status', '--porcelain', '--', '../app', '../server', '../style', '../Cargo.toml', '../Cargo.lock']);
  let wasm = 'unknown';
  try {
    wasm = /wasm: (\S+)/.exec(readFileSync(path.join(path.dirname(consoleBin), 'hash.txt'), 'utf8'))?.[1] ?? wasm;
  } catch {
    /* no hash file */
  }
  const built = statSync(consoleBin).mtime.toISOString().slice(0, 16).replace('T', ' ');
  return `commit \`${commit}\`${dirty && dirty !== 'unknown' ? ' with local changes' : ''}, server built ${built} UTC, WASM hash \`${wasm}\``;
}

/// The figures of `/` and `/login` in words, when both were measured on both links.
function summary(rows: Row[]): string {
  const at = (route: string, link: string) => rows.find((r) => r.route === route && r.link === link);
  const [fast, slow] = LINKS.map((l) => l.name);
  const [home, login, homeFast, loginFast] = [at('/', slow), at('/login', slow), at('/', fast), at('/login', fast)];
  if (!home || !login || !homeFast || !loginFast) return '';
  return `On the emulated link \`/\` is interactive after ${ms(home.interactive)} and \`/login\` after
${ms(login.interactive)} (loopback: ${ms(homeFast.interactive)} and ${ms(loginFast.interactive)}). At 10 Mbit/s the
${kb(home.bytes)} of \`/\` alone take ${ms((home.bytes / 1_250_000) * 1000)} on the wire, and the WASM is compiled and run
only once all of it has arrived, so the bytes of the shared module set the pace: see "Release
bundle size, per route" for what they are made of.
`;
}

function section(rows: Row[], table: string): string {
  const date = new Date().toISOString().slice(0, 10);
  return `## Cold load (\`end2end/bench/coldload.bench.ts\`)

How to rerun: \`make bench-coldload\` (or \`make bench\`): a release build with precompressed /pkg
(\`site-build --release --precompress --split\`, what \`make run\` serves), then Playwright
drives Debian chromium against a console of the benchmark's own (one password account, the
built-in simulator). \`BENCH_COLDLOAD_RUNS\` sets the loads per row (default 7); the raw figures,
every load included, go to \`end2end/.run/bench-coldload.json\`.

Every load is cold: a new browser context (no cookies but the staff session, no cache, no compiled
WASM), the cache disabled through CDP as well. \`/login\` is loaded signed out, the other routes with
a staff session made once through the login form. Each row is the median of ${rows[0]?.runs ?? RUNS} loads after one
load that is not counted. "10 Mbit/s, 40 ms" is CDP \`Network.emulateNetworkConditions\` (1,250,000
bytes/s each way, 40 ms added to every request); "loopback" has no emulation.

Measured ${date} with ${version('/usr/bin/chromium', ['--version'])} headless, ${build()};
1-minute load average ${loadAtStart.toFixed(2)} at the start (the WASM is compiled and hydrated on a shared CPU);
the WASM is the \`wasm-release\` profile plus \`wasm-opt -Oz\`, brotli 11 as the server sends it.

${table}

Definitions: "first byte" is from the document's request to its response headers reaching the page
(CDP \`Network.requestWillBeSent\` to \`Network.responseReceived\`: Navigation Timing's
\`responseStart\` leaves the emulated latency out); the rest is from the start of the navigation:
"DOMContentLoaded" and "load" are the ends of those events (Navigation Timing). **"Interactive"** is when
\`<main data-hydrated="true">\` appears: every page sets that attribute from an effect, and effects
first run once \`hydrate_lazy\` has hydrated the page (a lazy route: once its WASM chunk has arrived
and its view has hydrated), so clicks and inputs work from then on; a MutationObserver installed
before the document's first byte records the moment. "Requests" and "transferred" count what the
page asked for before the benchmark saw it interactive (it polls every 10 ms): the document, JS,
CSS, WASM, chunks, and the server functions called while hydrating, each with the bytes Chromium
received for it, headers included
(CDP \`encodedDataLength\`, so compressed). "Stalled" counts loads that were not interactive
after ${STALLED_MS / 1000} s and were made again (not in the medians): under emulation Chromium now and then
left a response body unfinished (seen once: the WASM, its headers received) and the page never hydrated;
the raw file names what was still waiting.

${summary(rows)}
`;
}
