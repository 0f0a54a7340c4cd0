// Image encoder speed (issue 13), side by side in one headless Chromium on the same
// images: Marginalia's EfficientNet-Lite0 (scalar wasm and SIMD wasm in one worker, SIMD on
// a pool of one worker per core) against onnxruntime-web running the same network
// (bench/encoder/make_onnx.py: the same f16 weights, the same folded graph) on its wasm
// backend with one thread and with all, and its WebGPU provider; plus the native build.
// Every engine's embeddings are compared with the first engine's (column "agrees").
//
//   node scripts/build.mjs && node bench/encoder-speed.mjs [--n 64] [--rounds 2] [--write]
//   node bench/encoder-speed.mjs --memory 10000 [--write]   (peak wasm memory per worker and
//                                           the browser's memory while the pool encodes N images)
//   node bench/encoder-speed.mjs --smoke   (npm test: Marginalia's engines on 4 images,
//                                           checked to agree; no peer, no native, no table)
//
// Engines run in turn, `--rounds` times (interleaved, so a noisy minute hits them all);
// the table keeps each engine's best round. The peer is installed on first use
// (npm ci --prefix bench/encoder: it is not one of the project's dependencies), and the
// ONNX file is made with python3 (numpy and onnx). Pages are served with cross-origin
// isolation, which onnxruntime-web's threads need.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../tests/e2e/harness.mjs';
import { rendererMemory, serveIsolated } from './encoder/serve.mjs';

const root = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(name) ? args[args.indexOf(name) + 1] : d);
const n = args.includes('--smoke') ? 4 : Number(opt('--n', 64));
const rounds = args.includes('--smoke') ? 1 : Number(opt('--rounds', 2));
const write = args.includes('--write');
const smoke = args.includes('--smoke');
const gpuEngine = (e) => e === 'ort-webgpu' || e === 'webgpu';
const ENGINES = smoke ? ['simd-1', 'scalar-1', 'simd-pool'] : ['simd-1', 'scalar-1', 'simd-pool', 'webgpu', 'ort-wasm-1', 'ort-wasm-all', 'ort-webgpu'];

const onnxFile = join(root, 'dist-bench/encoder/effnet-lite0-224.onnx');
if (smoke) {
  // Nothing to install or make.
} else if (!existsSync(onnxFile)) {
  mkdirSync(dirname(onnxFile), { recursive: true });
  execFileSync('python3', ['bench/encoder/make_onnx.py', onnxFile], { cwd: root, stdio: 'inherit' });
}
if (!smoke && !existsSync(join(root, 'bench/encoder/node_modules/onnxruntime-web'))) execFileSync('npm', ['ci', '--prefix', 'bench/encoder', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: root, stdio: 'inherit' });
if (!existsSync(join(root, 'www/pkg/simd/marginalia_bg.wasm'))) throw new Error('build the wasm first: node scripts/build.mjs');
const ortVersion = smoke ? '' : JSON.parse(readFileSync(join(root, 'bench/encoder/node_modules/onnxruntime-web/package.json'), 'utf8')).version;

const server = await serveIsolated(root);
const url = `http://127.0.0.1:${server.address().port}/bench/encoder/page.html`;

const memoryN = args.includes('--memory') ? Number(opt('--memory', 10000)) : 0;
if (memoryN) {
  // Resident memory of the browser's processes (the renderer holds the page and its
  // workers), sampled every 500 ms while the pool encodes.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const rss = rendererMemory;
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, rss())), 500);
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.benchReady, null, { timeout: 60_000 });
    const idle = rss();
    const r = await page.evaluate((o) => window.memoryRun(o), { n: memoryN });
    clearInterval(timer);
    const mb = (b) => (b / 1e6).toFixed(0);
    const table = [
      '| images | workers | time | peak wasm memory per worker | renderer memory before → peak | features held (n × 1280 f32) |',
      '|---|---|---|---|---|---|',
      `| ${r.n.toLocaleString('en')} | ${r.workers} | ${(r.ms / 1000).toFixed(0)} s (${(r.ms / r.n).toFixed(1)} ms per image) | ${mb(r.wasmPeak)} MB | ${mb(idle)} → ${mb(peak)} MB | ${mb(r.features)} MB |`,
    ].join('\n');
    console.log(table);
    if (write) {
      const path = join(root, 'docs/BENCHMARKS.md');
      const doc = readFileSync(path, 'utf8');
      writeFileSync(path, doc.replace(/<!-- encoder-memory:begin -->[\s\S]*?<!-- encoder-memory:end -->/, `<!-- encoder-memory:begin -->\n${table}\n<!-- encoder-memory:end -->`));
    }
  } finally {
    clearInterval(timer);
    await browser.close();
    server.close();
  }
  process.exit(0);
}

const native = smoke
  ? null
  : JSON.parse(spawnSync('cargo', ['run', '--release', '--quiet', '--example', 'encoder_speed', '--', String(n)], { cwd: root, encoding: 'utf8' }).stdout.trim().split('\n').pop());
console.error(`native: ${JSON.stringify(native)}`);

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
const best = new Map();
let info;
const load0 = loadavg()[0];
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.error(`  page: ${m.text()}`));
  await page.goto(url);
  await page.waitForFunction(() => window.benchReady, null, { timeout: 60_000 });
  for (let r = 0; r < rounds; r++) {
    // WebGPU here is SwiftShader (a CPU emulation): a few images, once, to see it agree.
    const engines = ENGINES.filter((e) => !gpuEngine(e) || r === 0);
    for (const e of engines) {
      const res = await page.evaluate((o) => window.runBench(o), { n: gpuEngine(e) ? 2 : n, engines: e === 'simd-1' ? ['simd-1'] : ['simd-1', e] });
      info = res;
      const row = res.rows[res.rows.length - 1];
      console.error(`round ${r + 1} ${e}: ${row.error ?? `${row.msPerImage.toFixed(1)} ms/image, agrees within ${row.worstRel.toExponential(1)}`}`);
      const prev = best.get(e);
      if (!prev || (row.msPerImage ?? Infinity) < (prev.msPerImage ?? Infinity)) best.set(e, row);
    }
  }
} finally {
  await browser.close();
  server.close();
}
const load1 = loadavg()[0];
if (smoke) {
  const bad = [...best.values()].filter((r) => r.error || !(r.worstRel <= 1e-6));
  if (bad.length || best.size !== ENGINES.length) throw new Error(`encoder bench smoke failed: ${JSON.stringify([...best.values()])}`);
  console.log(`encoder bench smoke ok: ${best.size} engines agree`);
  process.exit(0);
}

const NAMES = {
  'simd-1': 'Marginalia SIMD wasm, one worker',
  'scalar-1': 'Marginalia scalar wasm, one worker',
  'simd-pool': `Marginalia SIMD wasm, pool of ${info.cores} workers`,
  webgpu: `Marginalia WebGPU (${info.adapter ?? 'no adapter'})`,
  'ort-wasm-1': `onnxruntime-web ${ortVersion} wasm, 1 thread`,
  'ort-wasm-all': `onnxruntime-web ${ortVersion} wasm, ${info.cores} threads`,
  'ort-webgpu': `onnxruntime-web ${ortVersion} WebGPU (${info.adapter ?? 'no adapter'})`,
};
const ort1 = best.get('ort-wasm-1')?.msPerImage;
const lines = [
  `| engine | ms per image | images per second | vs onnxruntime-web 1 thread | agrees with SIMD (max abs error / max abs) |`,
  `|---|---|---|---|---|`,
  `| native (x86-64 SSE), 1 thread | ${native.ms_per_image_1.toFixed(1)} | ${(1000 / native.ms_per_image_1).toFixed(1)} | ${ort1 ? (ort1 / native.ms_per_image_1).toFixed(2) + '×' : '–'} | (the same Rust code) |`,
  `| native, ${native.threads} threads | ${native.ms_per_image_all.toFixed(1)} | ${(1000 / native.ms_per_image_all).toFixed(1)} | ${ort1 ? (ort1 / native.ms_per_image_all).toFixed(2) + '×' : '–'} | |`,
];
for (const e of ENGINES) {
  const row = best.get(e);
  if (!row) continue;
  if (row.error) {
    lines.push(`| ${NAMES[e]} | failed: ${row.error.slice(0, 120)} | | | |`);
    continue;
  }
  const ratio = ort1 ? `${(ort1 / row.msPerImage).toFixed(2)}×` : '–';
  lines.push(`| ${NAMES[e]}${gpuEngine(e) ? ' (2 images; SwiftShader is a CPU emulation: correctness only)' : ''} | ${row.msPerImage.toFixed(1)} | ${(1000 / row.msPerImage).toFixed(1)} | ${ratio} | ${row.worstRel.toExponential(1)} |`);
}
const pool = best.get('simd-pool')?.msPerImage;
const one = best.get('simd-1')?.msPerImage;
const ortAll = best.get('ort-wasm-all')?.msPerImage;
const summary = [
  '',
  `${n} images of 224 × 224, batches of 8; best of ${rounds} interleaved rounds; ${cpus().length} cores (${cpus()[0]?.model?.trim()}), load ${load0.toFixed(1)} → ${load1.toFixed(1)}; cross-origin isolated: ${info.crossOriginIsolated}; no GPU machine was available, so the WebGPU rows ran on SwiftShader.`,
  '',
  `Targets: SIMD on one worker ≥ 1× onnxruntime-web single-threaded: ${(ort1 / one).toFixed(2)}×; the pool ≥ 1.7× one worker: ${(one / pool).toFixed(2)}×; the pool ≥ 1× onnxruntime-web on all threads: ${(ortAll / pool).toFixed(2)}×. 2,000 photos on the pool: about ${((2000 * pool) / 1000).toFixed(0)} s of encoding.`,
].join('\n');
const table = lines.join('\n') + '\n' + summary;
console.log(table);
if (write) {
  const path = join(root, 'docs/BENCHMARKS.md');
  const doc = readFileSync(path, 'utf8');
  const begin = '<!-- encoder-speed:begin -->';
  const end = '<!-- encoder-speed:end -->';
  if (!doc.includes(begin)) throw new Error('docs/BENCHMARKS.md has no encoder-speed markers');
  writeFileSync(path, doc.replace(new RegExp(`${begin}[\\s\\S]*?${end}`), `${begin}\n${table}\n${end}`));
}
