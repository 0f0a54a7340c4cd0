// `npm run bench`: pool-scoring benchmark, Marginalia (scalar wasm, SIMD wasm, WebGPU) vs
// TensorFlow.js (wasm and WebGPU backends) on the same model and data in the same headless
// Chromium, plus the native Rust build of the same code for the wasm-to-native ratio.
// Prints Markdown tables and replaces the "Pool scoring vs TensorFlow.js" section of
// docs/BENCHMARKS.md. CPU engines are compared on on-CPU time (the renderer process's,
// from CDP; the native thread's), since the build machines are shared; wall time is
// listed too.
//
// Options:
//   --quick      skip N = 100k (and the memory probe's 100k pool becomes 10k)
//   --smoke      one small case on every engine, checks the results, writes nothing
//                (run by `npm test`'s end-to-end suite so the page cannot rot)
//   --no-build   use the wasm in www/pkg as it is (still bundles the page)
//   --no-native  skip the native run
//   --no-write   print only, leave docs/BENCHMARKS.md alone
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { must } from './run.mjs';

const root = resolve(import.meta.dirname, '..');
const outDir = join(root, 'dist-bench');
const args = new Set(process.argv.slice(2));
const smoke = args.has('--smoke');
const quick = args.has('--quick');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-precise-memory-info',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];
const ENGINES = ['Marginalia wasm scalar', 'Marginalia wasm SIMD', 'Marginalia WebGPU', 'TF.js wasm', 'TF.js WebGPU'];
const MODEL_LABEL = { softmax: 'softmax', mlp256: 'MLP 256', committee5: 'committee 5×MLP 256' };

/** Bundle the page with Vite into dist-bench/ (not part of the app's build: TF.js stays out of the app). */
async function buildPage() {
  const { build } = await import('vite');
  await build({
    configFile: false,
    root: join(root, 'www'),
    base: './',
    publicDir: false,
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      chunkSizeWarningLimit: 4096,
      rollupOptions: { input: { bench: join(root, 'www/bench/index.html') } },
    },
  });
}

const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.map': 'application/json' };

/** Serve dist-bench/ on a free 127.0.0.1 port. */
async function serve() {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(outDir, path);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file.startsWith(outDir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/bench/index.html`, stop: () => server.close() };
}

/** Open the page in a fresh headless Chromium; `fn(page, browser)` runs with it. */
async function withPage(url, fn) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    // On-CPU time of the renderer processes, for the page's timings (see rendererCpuMs in
    // www/bench/main.ts): cumulative seconds per process from CDP.
    const cdp = await browser.newBrowserCDPSession();
    await page.exposeFunction('benchRendererCpuMs', async () => {
      const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
      return processInfo.filter((p) => p.type === 'renderer').reduce((s, p) => s + p.cpuTime * 1000, 0);
    });
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.text().startsWith('[bench]')) console.log(`  ${m.text().slice(8)}`);
      else if (m.type() === 'error') console.log(`  (page error) ${m.text()}`);
    });
    page.on('pageerror', (e) => console.log(`  (page exception) ${e}`));
    await page.goto(url);
    await page.waitForFunction(() => window.marginaliaBench?.ready, null, { timeout: 60_000 });
    const out = await fn(page, browser);
    const foreign = requests.filter((u) => !u.startsWith('http://127.0.0.1:') && !u.startsWith('data:') && !u.startsWith('blob:'));
    if (foreign.length) throw new Error(`the bench page fetched from another origin: ${foreign.join(', ')}`);
    return { ...out, browserVersion: browser.version() };
  } finally {
    await browser.close();
  }
}

/** Peak resident memory (VmHWM) of every Chromium process, by type, from /proc. */
async function processPeaks(browser) {
  const cdp = await browser.newBrowserCDPSession();
  const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
  const out = {};
  for (const p of processInfo) {
    try {
      const status = readFileSync(`/proc/${p.id}/status`, 'utf8');
      const kb = Number(status.match(/^VmHWM:\s+(\d+) kB/m)?.[1] ?? 0);
      if (kb > 0) out[p.type] = Math.max(out[p.type] ?? 0, kb * 1024);
    } catch {
      /* exited, or another machine's process */
    }
  }
  return out;
}

function runNative(ns) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('cargo', ['run', '--quiet', '--release', '--example', 'bench_scoring', '--', '--json', '--ns', ns.join(',')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
      for (const line of String(b).split('\n')) if (line.trim()) console.log(`  native ${line}`);
    });
    child.on('close', (code) => (code === 0 ? resolvePromise(out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))) : reject(new Error(`native bench exited with ${code}`))));
  });
}

const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 10 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`);
const fmtRate = (n, ms) => {
  const r = (n / ms) * 1000;
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)} k` : r.toFixed(0);
};
const MB = (b) => `${(b / 1e6).toFixed(1)} MB`;
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '–');

const GPU = new Set(['Marginalia WebGPU', 'TF.js WebGPU']);

/** One cell: on-CPU time per round for CPU engines, wall time on the GPU (its work is in another process). */
function cellText(c, wall = false) {
  if (!c) return '–';
  if (c.status === 'ok') {
    const ms = wall || GPU.has(c.engine) || !Number.isFinite(c.cpuMs) ? c.roundMs : c.cpuMs;
    return `${fmtMs(ms)} · ${fmtRate(c.n, ms)}/s${c.reps === 1 ? ' ¹' : ''}`;
  }
  if (c.status === 'fell back to CPU') return `(fell back to CPU)`;
  return c.status === 'skipped' ? `skipped ²` : c.status;
}

/**
 * Issue 4's targets read off this run's own figures (so the summary cannot go stale as the
 * hand-written notes under the table did): SIMD ≥ 2.5× scalar wasm on the matrix product,
 * wasm ≥ 0.5× native, SIMD wasm ≥ 1× TF.js wasm in every row.
 */
function targetSummary(keys, cpuMs, nat, mm, natMm) {
  const out = ['Against issue 4\'s targets, computed from the figures above:', ''];
  const range = (xs) => (xs.length ? `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}×` : '–');
  const rowName = (k) => {
    const [n, d, model] = k.split('|');
    return `${Number(n).toLocaleString('en')} × ${d} ${MODEL_LABEL[model]}`;
  };
  const simdMm = mm['Marginalia wasm SIMD'];
  if (simdMm && mm['Marginalia wasm scalar']) {
    const r = mm['Marginalia wasm scalar'] / simdMm;
    out.push(`- SIMD / scalar wasm on the matrix product: ${r.toFixed(2)}× (target ≥ 2.5×: ${r >= 2.5 ? 'met' : 'not met'}).`);
  }
  const toNative = keys.map((k) => [k, nat.get(k)?.cpu_ms / cpuMs(k, 'Marginalia wasm SIMD')]).filter(([, r]) => Number.isFinite(r));
  if (toNative.length) {
    const low = toNative.filter(([, r]) => r < 0.5);
    const mmPart = simdMm && natMm ? `; matrix product ${(natMm.cpu_ms / simdMm).toFixed(2)}×` : '';
    out.push(`- SIMD wasm / native: ${range(toNative.map(([, r]) => r))} over the rounds${mmPart} (target ≥ 0.5×: ${low.length ? `below in ${low.length} of ${toNative.length} rows: ${low.map(([k, r]) => `${rowName(k)} ${r.toFixed(2)}×`).join(', ')}` : `met in all ${toNative.length} rows`}).`);
  }
  const toTf = keys.map((k) => [k, cpuMs(k, 'TF.js wasm') / cpuMs(k, 'Marginalia wasm SIMD')]).filter(([, r]) => Number.isFinite(r));
  if (toTf.length) {
    const low = toTf.filter(([, r]) => r < 1);
    const mmPart = simdMm && mm['TF.js wasm'] ? `; matrix product ${(mm['TF.js wasm'] / simdMm).toFixed(2)}×` : '';
    out.push(`- SIMD wasm / TF.js wasm: ${range(toTf.map(([, r]) => r))} over the rounds${mmPart} (target ≥ 1× per row: ${low.length ? `below in ${low.length} of ${toTf.length} rows: ${low.map(([k, r]) => `${rowName(k)} ${r.toFixed(2)}×`).join(', ')}` : `met in all ${toTf.length} rows`}).`);
  }
  out.push('');
  return out;
}

function tables(res, native, memProbe) {
  const lines = [];
  const byKey = new Map(res.cells.map((c) => [`${c.n}|${c.d}|${c.model}|${c.engine}`, c]));
  const nat = new Map(native.filter((r) => r.kind === 'round').map((r) => [`${r.n}|${r.d}|${r.model}`, r]));
  const keys = [...new Set(res.cells.map((c) => `${c.n}|${c.d}|${c.model}`))];
  const cpuMs = (k, e) => {
    const c = byKey.get(`${k}|${e}`);
    return c?.status === 'ok' ? (GPU.has(e) || !Number.isFinite(c.cpuMs) ? c.roundMs : c.cpuMs) : undefined;
  };
  const head = (extra) => [`| N | d | model | ${ENGINES.join(' | ')} | ${extra} |`, `|---:|---:|---|${ENGINES.map(() => '---').join('|')}|---|`];
  const label = (k) => {
    const [n, d, model] = k.split('|');
    return `| ${Number(n).toLocaleString('en')} | ${d} | ${MODEL_LABEL[model]} |`;
  };
  lines.push('**Time per query round** (forward pass of every member over the whole pool, mean probabilities, entropy, scores back in JavaScript, top 10) **and pool-scoring throughput** (samples/s). CPU engines: on-CPU time of the browser\'s renderer process per round (native: of the thread), which waiting for a core on the shared machine does not inflate; WebGPU engines: wall time (their work runs in the GPU process).');
  lines.push('');
  lines.push(...head('native Rust'));
  for (const k of keys) {
    const nr = nat.get(k);
    const n = Number(k.split('|')[0]);
    lines.push(`${label(k)} ${ENGINES.map((e) => cellText(byKey.get(`${k}|${e}`))).join(' | ')} | ${nr ? `${fmtMs(nr.cpu_ms)} · ${fmtRate(n, nr.cpu_ms)}/s` : '–'} |`);
  }
  lines.push('');
  lines.push('¹ one round only (it took longer than the 2 s budget; on the GPU that round includes the pool upload). ² estimated above the per-round cap from the same engine at the next smaller N (CPU 90 s, GPU 30 s); not run.');
  lines.push('');
  lines.push('Ratios of the times above (speed-ups; > 1 means the first is faster):');
  lines.push('');
  lines.push('| N | d | model | SIMD / scalar wasm | SIMD wasm / native | SIMD wasm / TF.js wasm | Marginalia WebGPU / TF.js WebGPU |');
  lines.push('|---:|---:|---|---:|---:|---:|---:|');
  for (const k of keys) {
    const simd = cpuMs(k, 'Marginalia wasm SIMD');
    lines.push(`${label(k)} ${ratio(cpuMs(k, 'Marginalia wasm scalar'), simd)} | ${ratio(nat.get(k)?.cpu_ms, simd)} | ${ratio(cpuMs(k, 'TF.js wasm'), simd)} | ${ratio(cpuMs(k, 'TF.js WebGPU'), cpuMs(k, 'Marginalia WebGPU'))} |`);
  }
  lines.push('');
  lines.push(...targetSummary(keys, cpuMs, nat, res.matmulMs ?? {}, native.find((r) => r.kind === 'matmul')));
  lines.push('The same rounds in wall-clock time (inflated by the other work on the machine, unevenly over the run):');
  lines.push('');
  lines.push(...head('native Rust'));
  for (const k of keys) {
    const nr = nat.get(k);
    const n = Number(k.split('|')[0]);
    lines.push(`${label(k)} ${ENGINES.map((e) => cellText(byKey.get(`${k}|${e}`), true)).join(' | ')} | ${nr ? `${fmtMs(nr.wall_ms)} · ${fmtRate(n, nr.wall_ms)}/s` : '–'} |`);
  }
  lines.push('');
  const mm = res.matmulMs ?? {};
  const natMm = native.find((r) => r.kind === 'matmul');
  if (Object.keys(mm).length) {
    const flop = 2 * 2048 * 784 * 256;
    lines.push('Matrix product 2048×784 · 784×256 (the MLP\'s first layer on one block of rows; on-CPU ms, TF.js WebGPU wall):');
    lines.push('');
    lines.push('| engine | ms | GFLOP/s | vs Marginalia scalar wasm |');
    lines.push('|---|---:|---:|---:|');
    const all = Object.entries(mm);
    if (natMm) all.push(['native Rust', natMm.cpu_ms]);
    for (const [name, t] of all) lines.push(`| ${name} | ${t.toFixed(1)} | ${(flop / t / 1e6).toFixed(2)} | ${ratio(mm['Marginalia wasm scalar'], t)} |`);
    lines.push('');
  }
  const checked = res.cells.filter((c) => c.maxAbsDiff !== undefined);
  if (checked.length) {
    const worst = new Map();
    for (const c of checked) worst.set(c.engine, Math.max(worst.get(c.engine) ?? 0, c.maxAbsDiff));
    lines.push(`Agreement: every engine's probabilities on the same pool and weights against Marginalia's scalar wasm build, max |Δp| over all N ≤ 1,000 cases: ${[...worst].map(([e, v]) => `${e} ${v.toExponential(1)}`).join(', ')}.`);
    lines.push('');
  }
  if (memProbe) {
    lines.push(`Memory, largest case (N = ${memProbe.n.toLocaleString('en')} images of 28×28 stored as u8, committee of 5 MLPs, Marginalia SIMD wasm, alone in a fresh browser): pool ${MB(memProbe.n * 784)} (as f32: ${MB(memProbe.n * 784 * 4)}); wasm linear memory after the round ${MB(memProbe.wasmHeap)}; JS heap ${MB(memProbe.jsHeapUsed)} used; peak resident memory (VmHWM) of the tab's renderer process ${MB(memProbe.peaks.renderer ?? 0)} (other Chromium processes: ${Object.entries(memProbe.peaks).filter(([t]) => t !== 'renderer').map(([t, b]) => `${t} ${MB(b)}`).join(', ')}); the round took ${fmtMs(memProbe.cpuMs)} on-CPU.`);
    lines.push('');
  }
  const mem = res.memory ?? {};
  const memParts = Object.entries(mem).map(([e, m]) => `${e}: ${Object.entries(m).map(([k, v]) => `${k} ${MB(v)}`).join(', ')}`);
  if (memParts.length) {
    lines.push(`Peak memory held per engine over the whole run (wasm heaps never shrink; gpuPool = the pool mirrored on the GPU; TF.js tensors = its own count of tensor bytes, f32): ${memParts.join('; ')}.`);
    lines.push('');
  }
  return lines.join('\n');
}

async function main() {
  const t0 = Date.now();
  if (!args.has('--no-build')) await must('bash', ['scripts/build-wasm.sh'], { cwd: root });
  console.log('==> bundling the bench page (dist-bench/)');
  await buildPage();
  const srv = await serve();
  try {
    if (smoke) {
      const cfg = { ns: [300], ds: [64], models: ['committee5'], budgetMs: 0, checkMaxN: 300, matmul: false };
      const { res } = await withPage(srv.url, async (page) => ({ res: await page.evaluate((c) => window.marginaliaBench.run(c), cfg) }));
      const problems = [];
      for (const e of ENGINES) {
        const c = res.cells.find((x) => x.engine === e);
        if (!c) problems.push(`${e}: no result`);
        else if (c.status !== 'ok') problems.push(`${e}: ${c.status}${c.note ? ` (${c.note})` : ''}`);
        else if (!(c.roundMs > 0)) problems.push(`${e}: round time ${c.roundMs}`);
        else if (!(c.maxAbsDiff <= 1e-4)) problems.push(`${e}: probabilities differ from the scalar build by ${c.maxAbsDiff}`);
      }
      if (problems.length) {
        console.error(`bench smoke FAILED:\n  ${problems.join('\n  ')}`);
        process.exitCode = 1;
      } else console.log(`bench smoke ok: ${res.cells.length} engines, max |Δp| ${Math.max(...res.cells.map((c) => c.maxAbsDiff)).toExponential(1)}`);
      return;
    }
    const ns = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
    const load0 = loadavg()[0];
    console.log(`==> browser run: N ∈ {${ns.join(', ')}}, d ∈ {64, 784}, 3 models, ${ENGINES.length} engines`);
    const { res, browserVersion } = await withPage(srv.url, async (page) => ({ res: await page.evaluate((c) => window.marginaliaBench.run(c), { ns }) }));
    console.log(`    ${res.wallS.toFixed(0)} s in the browser`);

    const memN = quick ? 10_000 : 100_000;
    console.log(`==> memory probe: N = ${memN}, d = 784, committee of 5, SIMD wasm alone in a fresh browser`);
    const memProbe = await withPage(srv.url, async (page, browser) => {
      const r = await page.evaluate((c) => window.marginaliaBench.run(c), { ns: [memN], ds: [784], models: ['committee5'], engines: ['Marginalia wasm SIMD'], budgetMs: 0, checkMaxN: 0, matmul: false });
      const peaks = await processPeaks(browser);
      const c = r.cells.find((x) => x.status === 'ok');
      return { n: memN, wasmHeap: r.memory['Marginalia wasm SIMD']?.wasmHeap ?? 0, jsHeapUsed: r.jsHeap?.used ?? 0, peaks, cpuMs: c?.cpuMs ?? NaN };
    });

    let native = [];
    if (!args.has('--no-native')) {
      console.log('==> native Rust (cargo run --release --example bench_scoring -- --json)');
      native = await runNative(ns);
    }
    const load1 = loadavg()[0];
    const header = [
      `Command: \`npm run bench${quick ? ' -- --quick' : ''}\` (${new Date().toISOString().slice(0, 10)}; ${((Date.now() - t0) / 60000).toFixed(1)} min in all). Chromium ${browserVersion} headless, ${cpus().length} CPU cores (${cpus()[0]?.model.trim()}) shared with other work: load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end, hence on-CPU times below; compare within a row.`,
      `WebGPU adapter: ${res.adapter ?? 'none'}${/swiftshader/i.test(res.adapter ?? '') ? ' — SwiftShader is a CPU emulation of a GPU: its figures say little about a real GPU' : ''}.`,
      'Same seeded data and weights in every engine (www/bench/cases.ts; the native example generates the identical numbers): 10 classes; d = 784 pools are bytes (images, read as byte/255; TF.js has no u8 type, so it holds the pool as f32 tensors, uploaded before timing), d = 64 pools are f32. All wasm runs on one thread (TF.js: `setThreadsCount(1)`, its SIMD build). TF.js runs each member as fused matMul + bias + ReLU (what a Dense layer runs), then softmax, mean, entropy, `topk`.',
      '',
    ].join('\n');
    const md = `${header}\n${tables(res, native, memProbe)}`;
    console.log(`\n${md}`);
    if (!args.has('--no-write')) {
      const docPath = join(root, 'docs/BENCHMARKS.md');
      const doc = readFileSync(docPath, 'utf8');
      const [start, end] = ['<!-- bench:start (written by npm run bench) -->', '<!-- bench:end -->'];
      const section = `${start}\n## Pool scoring vs TensorFlow.js\n\n${md}\n${end}`;
      const i = doc.indexOf(start), j = doc.indexOf(end);
      writeFileSync(docPath, i >= 0 && j > i ? doc.slice(0, i) + section + doc.slice(j + end.length) : `${doc.trimEnd()}\n\n${section}\n`);
      console.log('\nwrote docs/BENCHMARKS.md');
    }
  } finally {
    srv.stop();
  }
}

await main();
