// How long the labelling app takes to compute convolutional (Coates & Ng) features for an
// image import, in headless Chromium, through the app itself: N 28×28 Fashion-MNIST PNGs
// (the 1k subset, repeated for larger N) imported with "convolutional features"; the
// times are the featurizer worker's own (the core's fit, which also encodes the images
// it learns from for the scaling, then the encoding of the rest), read from the import
// report, plus the wall time of the whole import (decoding the PNGs included).
//
//   node scripts/build.mjs && node bench/coates-app.mjs [N ...] [--backend cpu,webgpu] [--write]
//
// --backend: where the app encodes (its ?coates= switch): 'cpu', 'webgpu' (here
// SwiftShader, a CPU emulation of a GPU, unless the machine has a real one) or 'auto'.
// Encoding happens apart from the fit only beyond the 2,000 images the filters are learned
// from, so the GPU figures need N > 2,000.
//
// --write replaces the section between the coates-app markers in docs/BENCHMARKS.md.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, serve } from '../tests/e2e/harness.mjs';
import { fashion, greyPng } from '../tests/e2e/app-fixtures.mjs';

const args = process.argv.slice(2);
const write = args.includes('--write');
// Bare numbers are the import sizes (not the values of --add and --backend).
const sizes = args.filter((a, i) => /^\d+$/.test(a) && !['--add', '--backend'].includes(args[i - 1])).map(Number);
if (!sizes.length) sizes.push(1000, 10000);
const bi = args.indexOf('--backend');
const backends = bi >= 0 ? args[bi + 1].split(',') : ['cpu'];
const ai = args.indexOf('--add');
/** Images added to the project after each import, encoded on each backend in turn. */
const addN = ai >= 0 ? Number(args[ai + 1]) : 0;
const added = [];

function folder(n) {
  const { images } = fashion();
  const dir = mkdtempSync(join(tmpdir(), 'marginalia-coates-bench-'));
  const root = join(dir, 'images');
  mkdirSync(root);
  for (let i = 0; i < n; i++) writeFileSync(join(root, `${String(i).padStart(6, '0')}.png`), greyPng(images[i % images.length], 28, 28));
  return { dir, root };
}

const server = await serve();
const rows = [];
const load0 = loadavg()[0];
let browserVersion = '?';
try {
  for (const backend of backends) for (const n of sizes) {
    const fx = folder(n);
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      browserVersion = b.context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent.match(/Chrome\/([\d.]+)/)?.[1] ?? '?'));
      await page.goto(`${server.url}?coates=${backend}`);
      await page.waitForFunction(() => document.getElementById('labeler')?.dataset.sampleId, null, { timeout: 120_000 });
      await page.keyboard.press('p');
      await page.selectOption('#import-size', '28');
      await page.selectOption('#import-features', 'coates');
      const t0 = Date.now();
      await page.setInputFiles('#pick-folder', fx.root);
      await page.waitForFunction(() => /Imported \d+ images/.test(document.getElementById('import-report')?.textContent ?? ''), null, { timeout: 1_800_000 });
      const wall = (Date.now() - t0) / 1000;
      const report = await page.textContent('#import-report');
      const m = /learned from (\d+) of the images; computed for all (\d+) in ([\d.]+) s(?: \(encoded on the (GPU|CPU)(?: \((.*?)\))?\))?\./.exec(report);
      if (!m) throw new Error(`no timing in the report: ${report}`);
      const on = m[4] === 'GPU' ? `GPU (${m[5]})` : 'CPU (wasm SIMD)';
      rows.push({ n, fittedOn: Number(m[1]), total: Number(m[3]), wall, on });
      console.log(`N = ${n}, ${on}: features ${m[3]} s (filters from ${m[1]} images), whole import ${wall.toFixed(1)} s`);
      // Images added to the project are encoded with its featurizer alone (no fit): the
      // encoding on its own, on each backend (after the first import only).
      if (addN && rows.length === 1) {
        // The report shows before the new project has finished opening: wait for it.
        await page.waitForFunction(() => document.getElementById('project-title')?.textContent === 'My images', null, { timeout: 120_000 });
        await page.waitForFunction(() => document.getElementById('labeler')?.dataset.sampleId, null, { timeout: 120_000 });
        const { images } = fashion();
        const addDir = join(fx.dir, 'add');
        mkdirSync(addDir);
        const paths = [];
        for (let i = 0; i < addN; i++) {
          paths.push(join(addDir, `a${i}.png`));
          writeFileSync(paths[i], greyPng(images[(i * 7) % images.length], 28, 28));
        }
        for (const be of ['cpu', 'webgpu']) {
          await page.goto(`${server.url}?coates=${be}`);
          await page.waitForFunction(() => document.getElementById('labeler')?.dataset.sampleId, null, { timeout: 120_000 });
          await page.keyboard.press('p');
          await page.setInputFiles('#add-images', paths);
          await page.waitForFunction(() => /^(Added|No images)/.test(document.getElementById('features-text')?.textContent ?? ''), null, { timeout: 600_000 });
          const t = await page.textContent('#features-text');
          const a = /in ([\d.]+) s on the (GPU|CPU)(?: \((.*)\))?\.$/.exec(t);
          if (!a) throw new Error(`adding images: ${t}`);
          added.push({ n: addN, s: Number(a[1]), on: a[2] === 'GPU' ? `GPU (${a[3]})` : 'CPU (wasm SIMD)' });
          console.log(`added ${addN} images: ${a[1]} s on ${added.at(-1).on}`);
        }
      }
    } finally {
      await b.close();
      rmSync(fx.dir, { recursive: true, force: true });
    }
  }
} finally {
  server.stop();
}
const load1 = loadavg()[0];

const fmt = (x) => x.toLocaleString('en');
const table = [
  `Command: \`node bench/coates-app.mjs ${sizes.join(' ')} --backend ${backends.join(',')}${addN ? ` --add ${addN}` : ''}\` (${new Date().toISOString().slice(0, 10)}). Chromium ${browserVersion} headless, ${cpus().length} CPU cores (${cpus()[0]?.model.trim()}) shared with other work: load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end. Wall times: the featurizer runs on one core in its worker.`,
  '',
  '| images (28×28, grey) | encoded on | filters learned from | features computed (worker) | per 1,000 images | whole import (decoding the PNGs included) |',
  '|---:|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${fmt(r.n)} | ${r.n > r.fittedOn ? r.on : 'CPU (in the fit)'} | ${fmt(r.fittedOn)} | ${r.total.toFixed(1)} s | ${((r.total / r.n) * 1000).toFixed(1)} s | ${r.wall.toFixed(1)} s |`),
  ...(added.length
    ? [
      '',
      `Encoding alone (images added to a project, no fit; \`--add ${addN}\`), the same images on each backend:`,
      '',
      '| images added | encoded on | time | per 1,000 images |',
      '|---:|---|---:|---:|',
      ...added.map((r) => `| ${fmt(r.n)} | ${r.on} | ${r.s.toFixed(2)} s | ${((r.s / r.n) * 1000).toFixed(1)} s |`),
    ]
    : []),
  '',
  'The fit (20,000 random 6×6 patches whitened, k-means with 128 centroids for 10 iterations, and each image it learns from encoded once for the scaling) costs the same from 2,000 images on (the filters are learned from at most 2,000, spread over the import); each further image costs only its encoding, 529 patch positions × 36 × 128 ≈ 2.4 M multiply-adds for a 28×28 image. The features are computed once, at import (or when a project switches to them), and stored: opening the project again reads them back. The GPU row ran on SwiftShader, a CPU emulation of a GPU (the only adapter on this machine): it shows the GPU path works and agrees with the CPU (within 1e-4, tests/wasm_compute.rs and tests/e2e/app-coates.test.mjs), not how fast a real GPU is; the app\'s default (\'auto\') passes over a software adapter and encodes on the CPU. A hardware-GPU figure is not measured yet.',
].join('\n');
console.log(`\n${table}\n`);

if (write) {
  const path = 'docs/BENCHMARKS.md';
  const doc = readFileSync(path, 'utf8');
  const start = '<!-- coates-app:start (written by node bench/coates-app.mjs --write) -->';
  const end = '<!-- coates-app:end -->';
  const section = `${start}\n## Convolutional image features in the app\n\n${table}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  writeFileSync(path, i >= 0 && j > i ? doc.slice(0, i) + section + doc.slice(j + end.length) : `${doc.trimEnd()}\n\n${section}\n`);
  console.log(`wrote ${path}`);
}
