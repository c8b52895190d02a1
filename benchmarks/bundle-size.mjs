#!/usr/bin/env node
// Release bundle size per route: what a browser with an empty cache transfers for each page's code
// (the shared WASM, JS, CSS and split loader, plus the lazily loaded WASM chunks the route needs, as
// the split manifest lists them), compressed as the server sends it (brotli, precompressed at build
// time; gzip for browsers without it), against the budgets in benchmarks/bundle-budget.txt.
// `/login` is plain HTML without the app's WASM: it costs only what its document links, the
// stylesheet and the icon.
//   bundle-size.mjs check   <pkg dir>   fail (exit 1) when a route is over its budget, naming what grew
//   bundle-size.mjs section <pkg dir>   also write benchmarks/sections/50-bundle-size.md
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [mode, pkg] = process.argv.slice(2);
if (!['check', 'section'].includes(mode) || !pkg) {
  console.error('usage: bundle-size.mjs check|section <pkg dir>');
  process.exit(2);
}
const budgetFile = join(root, 'benchmarks/bundle-budget.txt');

// `route / 123456` and `file a55-console.wasm 123456` lines; `#` starts a comment.
const budgets = new Map();
const baselines = new Map();
for (const line of readFileSync(budgetFile, 'utf8').split('\n')) {
  const [kind, name, bytes] = line.replace(/#.*/, '').trim().split(/\s+/);
  if (kind === 'route') budgets.set(name, Number(bytes));
  if (kind === 'file') baselines.set(name, Number(bytes));
}

const names = readdirSync(pkg);
// The build names files by content hash (a55-console.<hash>.wasm, chunk_4.<hash>.wasm): the
// stable name drops the hash; of several builds in one folder, the newest counts.
const stable = (file) => file.replace(/\.[\w-]{22}(\.\w+)$/, '$1');
const newest = new Map();
for (const file of names) {
  if (!/\.(wasm|js|css|json)$/.test(file) || /\.d\./.test(file)) continue;
  const key = stable(file);
  const time = statSync(join(pkg, file)).mtimeMs;
  if (!newest.has(key) || newest.get(key).time < time) newest.set(key, { file, time });
}
// Files the pages link from the site root rather than /pkg, copied there from public/.
const linked = new Map([['favicon.svg', join(root, 'public/favicon.svg')]]);
const sizes = new Map();
function size(key) {
  if (!sizes.has(key)) {
    const entry = linked.has(key) ? { file: linked.get(key) } : newest.get(key);
    if (!entry) {
      console.error(`bundle size: no ${key} (or its hashed name) in ${pkg}; build the release front end first (make bundle-size)`);
      process.exit(2);
    }
    const bytes = readFileSync(linked.has(key) ? entry.file : join(pkg, entry.file));
    // Outside /pkg nothing is precompressed, and the server compresses only answers over 1 KiB.
    const sentRaw = linked.has(key) && bytes.length <= 1024;
    sizes.set(key, {
      raw: bytes.length,
      gzip: sentRaw ? bytes.length : gzipSync(bytes, { level: 9 }).length,
      br: sentRaw ? bytes.length : brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    });
  }
  return sizes.get(key);
}

const shared = ['a55-console.wasm', 'a55-console.js', 'a55-console.css'];
if (newest.has('__wasm_split.js')) shared.push('__wasm_split.js');
// Lazy routes: `__<name>_route_view_<n>` in the manifest is the page at `/<name>`.
const manifestKey = '__wasm_split_manifest.json';
const manifest = newest.has(manifestKey) ? JSON.parse(readFileSync(join(pkg, newest.get(manifestKey).file), 'utf8')) : {};
const routes = new Map([['/', [...shared]], ['/login', ['a55-console.css', 'favicon.svg']]]);
// Any other split is a `#[lazy]` function of a page, fetched the first time it is called (the
// response inspector: on the first response shown); reported apart, not part of a route's bytes.
const onUse = new Map();
for (const [split, chunks] of Object.entries(manifest)) {
  const route = split.match(/^__(\w+?)_route_view_\d+$/);
  const files = chunks.map((c) => stable(`${c}.wasm`));
  if (route) routes.set(`/${route[1]}`, [...shared, ...files]);
  else onUse.set(split.replace(/_\d+$/, ''), files);
}

const group = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const sum = (files, kind) => files.reduce((total, f) => total + size(f)[kind], 0);
const rows = [];
const over = [];
for (const [route, files] of routes) {
  const br = sum(files, 'br');
  const budget = budgets.get(route);
  rows.push({ route, files, raw: sum(files, 'raw'), gzip: sum(files, 'gzip'), br, budget });
  if (budget === undefined) over.push(`${route} has no budget in benchmarks/bundle-budget.txt: add \`route ${route} <bytes>\``);
  else if (br > budget) over.push(`${route} transfers ${group(br)} B (brotli), over its budget of ${group(budget)} B by ${group(br - budget)} B`);
}
const growth = [...newest.keys()]
  .filter((k) => baselines.has(k))
  .map((k) => {
    const diff = size(k).br - baselines.get(k);
    return `  ${k}: ${group(size(k).br)} B brotli, ${diff >= 0 ? '+' : '-'}${group(Math.abs(diff))} B against its baseline of ${group(baselines.get(k))} B`;
  });
for (const row of rows) {
  console.log(`${row.route.padEnd(10)} ${group(row.br).padStart(9)} B brotli ${group(row.gzip).padStart(9)} B gzip ${group(row.raw).padStart(10)} B raw  (budget ${row.budget === undefined ? '-' : group(row.budget)} B)`);
}
if (over.length) {
  console.error(`bundle size: ${over.join('; ')}.`);
  console.error('What grew, per file:');
  console.error(growth.join('\n'));
  console.error('Make the bundle smaller, or raise the budget in benchmarks/bundle-budget.txt (and say why in the commit).');
  process.exit(1);
}
console.log('bundle size: every route within its budget');
console.log(growth.join('\n'));

if (mode === 'section') {
  const kb = (n) => `${Math.round(n / 1000)} KB`;
  const files = [...new Set(rows.flatMap((r) => r.files))];
  const fileRows = files.map((f) => `| \`${f}\` | ${group(size(f).raw)} B | ${group(size(f).gzip)} B | ${group(size(f).br)} B |`).join('\n');
  const routeRows = rows
    .map((r) => `| \`${r.route}\` | ${group(r.raw)} B | ${group(r.gzip)} B | **${group(r.br)} B** | ${group(r.budget)} B |`)
    .join('\n');
  const onUseRows = [...onUse]
    .map(([name, fs]) => `| \`${name}\` | ${fs.length} | ${group(sum(fs, 'raw'))} B | ${group(sum(fs, 'gzip'))} B | **${group(sum(fs, 'br'))} B** |`)
    .join('\n');
  const date = new Date().toISOString().slice(0, 10);
  writeFileSync(
    join(root, 'benchmarks/sections/50-bundle-size.md'),
    `## Release bundle size, per route

How to rerun: \`make bundle-size\` (\`site-build --release --split --frontend-only\` into its
own site directory, then \`benchmarks/bundle-size.mjs\`). CI runs the same check in \`make test\` and
fails when a route's code is over its budget in \`benchmarks/bundle-budget.txt\`, naming each file's
growth. A route's bytes are what a browser with an empty cache fetches for its code: the shared WASM,
JS, CSS and split loader, and the lazily loaded chunks of that page (\`/compare\`, \`/parity\`,
\`/token\` and \`/audit\` are lazy routes: their code is fetched when they are visited), compressed as the server
sends them (brotli 11 precompressed; gzip -9 for browsers without brotli). \`/login\` is plain
server-rendered HTML with a form and loads no WASM or JS of the app: its row is the stylesheet and
the icon its document links. The HTML document itself is not counted (about 21 KB compressed for
\`/\`, rendered per request).

Measured ${date}: profile \`wasm-release\` (opt-level z, LTO, one codegen unit, panic=abort),
\`wasm-opt\` from npm \`binaryen\`.

| route | raw | gzip | brotli (transferred) | budget |
| --- | --- | --- | --- | --- |
${routeRows}

| file | raw | gzip | brotli |
| --- | --- | --- | --- |
${fileRows}

Code fetched on use, not at a page's load (\`#[lazy]\` functions; the chunks include the ones
they share with the lazy routes, so this is the most a browser with an empty cache fetches for it):

| split | chunks | raw | gzip | brotli |
| --- | --- | --- | --- | --- |
${onUseRows}

\`inspector_view\` is the response inspector (tree, text views, search, JSON index), fetched when the
first response is shown; meanwhile the panel says "Loading inspector…". Made lazy on 2026-12-05, it
took \`/\` from 598,214 B to 513,310 B brotli (every other route fell by about as much, since they
load the shared module too); a session that shows a response fetches about 32 KB more in all than
before (the chunks are optimised apart), after the page is usable rather than before. The tools
tabs other than History (\`snippets_view\`, \`saved_view\`, \`curl_import_view\`) are fetched on
the first click on their tab; that took \`/\` from 513,310 B to 482,973 B.

The browser reads the server's JSON through \`serde_lite\` (\`app/src/codec.rs\`, 2026-12-05): the
text is parsed once into one value type and each wire type reads that value with one plain function,
where serde's derived decoder is generic and brought its own copy of serde_json's parsing loops for
every type. The server still writes the answers with serde, so the bytes on the wire did not change.
Measured first in a crate of its own that decodes the 27 answer types and nothing else: 80,236 B
brotli with serde_json, 37,389 B with serde_lite (after \`wasm-opt -Oz\`). In the console:
\`/\` 480,540 -> 457,620 B (458,076 B in the build the table shows: rebuilding the same code moved
a few hundred bytes), \`/audit\` 511,787 -> 485,858 B, \`/compare\` 604,825 -> 578,228 B,
\`/parity\` 612,808 -> 573,778 B, \`/token\` 554,585 -> 522,297 B. What it costs: reading goes
through the value, so it is slower; the 48.5 KB catalog \`/\` picks up while hydrating decodes
natively in 477 µs against 225 to 263 µs with serde_json. Cold loads of \`/\` against the same
server, the front end before and after taking turns, three runs of 7 loads each: interactive after
809, 771 and 779 ms before, 767, 789 and 754 ms after on the 10 Mbit/s 40 ms link; on loopback
503, 428 and 583 ms before, 511, 530 and 454 ms after (the same build varies that much from run
to run on this machine), so no difference stands out of the noise. Not done: the arguments the
browser sends are still written by serde (form-encoded or JSON). Serialising is the smaller half,
and scripts and the benchmarks post those same forms to \`/api/execute\`.

Before the split (one module for every page, 2026-12-04): 726,306 B brotli and 1,006,549 B gzip for
every route. The targets are \`/\` at most 300 KB and \`/login\` at most 150 KB; this build is
${kb(rows[0].br)} for \`/\` and ${kb(rows[1].br)} for \`/login\` (which loaded the whole shared
bundle, 617 KB, until it became plain HTML), so the budgets above guard against growth while the
target for \`/\` is not met.
What stands in the way: the shared module holds the console page (request builder, tools) and
the framework code every page uses, most of it generic code instantiated per type. Making the console
page a lazy route too was measured: \`/login\` fell to 214 KB, but \`/\` rose to 707 KB, because
the code it shares with the other pages moves into chunks that are optimised apart; \`/\` is the page
staff open every day, so it stays in the main module.
Leptos' hydration is in every module twice. The console hydrates with \`hydrate_lazy\`, which
takes the async path (\`hydrate_async\`): it lets a lazy route or a \`#[lazy]\` function wait for
its chunk (with \`hydrate_body\` the router panics on a lazy route). Each \`into_any()\` (107 in
the app, and the router's for every route) also stores a pointer to the view's synchronous
\`hydrate\`, so neither is dead code to the linker. Measured on 2026-12-05 with a patched tachys
0.2.19 whose \`AnyView\` hydrates synchronously (not shipped: the issue rules out a patched
framework crate, and lazy code could not wait for its chunk with it): the main module 464,493 ->
395,443 B brotli (\`/\` about 412 KB instead of 481 KB), the route and on-use chunks 21 to 35 %
smaller, all code 978,485 -> 769,568 B. Leptos 0.9 puts the async path behind a feature, but this
console needs that path for as long as it splits its code. Still above 300 KB: serde_json
deserialisation of 41 wire structs was another 8 % of the code before \`wasm-opt\` (now read
through \`serde_lite\`, above), and the rest is the reactive system's and the views' generic code
per type. For reference (gzip, whole bundles): RapiDoc 218 KB, Swagger UI 565 KB, Scalar 989 KB.

Why 300 KB for \`/\` is out of reach on Leptos 0.8 (measured 2026-12-05, after the lighter
decoder): a name-section analysis of the release WASM before \`wasm-opt\` (all modules, 3,569,925 B
of code) puts Leptos' view and reactive code (\`tachys\`, \`reactive_graph\`, their blanket
impls, the router and server glue) at 57 % and the drop glue of the view states at another 6 %;
the app's own functions are 9 %, serde_json 0.7 %. The async hydration closures are 18.7 % of all
code and the synchronous hydration 4.6 %, both kept as above. The shared framework and shell alone
are about 214 KB (the lazy console page measurement above), so the console page's own code would
have to fit in about 86 KB against about 244 KB now. On crates.io Leptos 0.9 exists only as release
candidates (\`0.9.0-rc1\`).
Tried and not kept: \`opt-level = "s"\` for the WASM instead of \`"z"\` (\`/\` 528,455 B
brotli against 480,624 B: more inlining, more code); a second \`wasm-opt -Oz --converge\` pass on
the main module (464,493 -> 462,123 B brotli, 0.5 %, for 32 s more of build); after the lighter
decoder, \`wasm-opt --gufa-optimizing -Oz\` on the optimised main module (441,487 -> 438,843 B,
0.6 %) and \`-O4 -Oz\` (444,823 B, larger); keeping the decoder's parse step out of line so it is
compiled once (raw 2,866 B smaller, brotli 891 B larger: the inlined copies compress well).
`,
  );
  console.log('wrote benchmarks/sections/50-bundle-size.md');
}
