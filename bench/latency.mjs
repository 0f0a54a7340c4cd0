// Keypress → next sample on screen, in Debian's Chromium against the built app (dist/).
//
//   node scripts/build.mjs && node bench/latency.mjs [--presses 200] [--write] [--paced-only]
//
// For each pool size (the 1k demo, and 10k samples made from it by perturbing each image
// with seeded noise and a small shift), label `presses` samples by keyboard, one at a time
// as a person would (press, wait for the next sample), and read the app's own
// `performance.measure('label→next')` entries: from the keydown event's timestamp to just
// after the frame that shows the next sample. That span includes committing the label to
// IndexedDB (strict durability) and drawing the sample; retraining runs in the worker
// meanwhile. Prints a table; with --write, replaces the "Labelling latency" section of
// docs/BENCHMARKS.md.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';
import { currentSample, launch, serve } from '../tests/e2e/harness.mjs';

const args = process.argv.slice(2);
const presses = Number(args[args.indexOf('--presses') + 1]) || 200;
const write = args.includes('--write');
// Only the row the target is about (10k pool, 400 ms between labels): for A/B runs.
const pacedOnly = args.includes('--paced-only');

/** Make a project of `n` samples from the demo's pool, stored straight into IndexedDB. */
async function makePool(page, n) {
  await page.evaluate(async (n) => {
    const db = await new Promise((res, rej) => {
      const o = indexedDB.open('marginalia');
      o.onsuccess = () => res(o.result);
      o.onerror = () => rej(o.error);
    });
    const get = (store, key) => new Promise((res) => { const q = db.transaction(store).objectStore(store).get(key); q.onsuccess = () => res(q.result); });
    const all = (store) => new Promise((res) => { const q = db.transaction(store).objectStore(store).getAll(); q.onsuccess = () => res(q.result); });
    const demo = await get('projects', 'demo');
    const base = (await all('samples')).filter((s) => s.project === 'demo');
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const tx = db.transaction(['projects', 'samples', 'meta'], 'readwrite');
    const id = `bench-${n}`;
    tx.objectStore('projects').put({ ...demo, id, name: `bench ${n}`, current: null, history: [], createdAt: Date.now() });
    for (let i = 0; i < n; i++) {
      const src = base[i % base.length];
      const px = new Uint8Array(784);
      const dx = i < base.length ? 0 : Math.floor(rnd() * 3) - 1;
      for (let y = 0; y < 28; y++)
        for (let x = 0; x < 28; x++) {
          const sx = Math.min(27, Math.max(0, x - dx));
          const noise = i < base.length ? 0 : Math.round((rnd() - 0.5) * 30);
          px[y * 28 + x] = Math.min(255, Math.max(0, src.pixels[y * 28 + sx] + noise));
        }
      tx.objectStore('samples').put({ project: id, id: i, pixels: px, truth: src.truth, split: src.split, source: `bench #${i}` });
    }
    tx.objectStore('meta').put(id, 'lastProject');
    await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = () => rej(tx.error); });
    db.close();
  }, n);
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(server, poolSize, durability = 'strict', pauseMs = 0) {
  const b = await launch({ serviceWorkers: 'block' });
  try {
    const { page } = b;
    if (durability === 'relaxed') {
      // For comparison only: what the disk flush costs. The app asks for strict durability
      // on every label; here the page's transaction() is made to ask for relaxed instead.
      await page.addInitScript(() => {
        const tx = IDBDatabase.prototype.transaction;
        IDBDatabase.prototype.transaction = function (stores, mode, opts) {
          return tx.call(this, stores, mode, { ...(opts ?? {}), durability: 'relaxed' });
        };
      });
    }
    await page.goto(server.url);
    await currentSample(page);
    if (poolSize !== 1000) {
      await makePool(page, poolSize);
      await page.reload();
      await page.waitForFunction((n) => document.getElementById('project-title')?.textContent === `bench ${n}`, poolSize);
      await currentSample(page);
    }
    for (let i = 0; i < presses; i++) {
      if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs)); // a person looking
      const before = await currentSample(page);
      await page.keyboard.press(String((i % 10 + 1) % 10));
      await page.waitForFunction((b) => {
        const id = document.getElementById('labeler')?.dataset.sampleId;
        return id && id !== String(b);
      }, before);
    }
    // The last measure is taken at the next frame: wait for it.
    await page.waitForFunction((n) => performance.getEntriesByName('label→next').length >= n, presses);
    const read = (name) => page.evaluate((n) => performance.getEntriesByName(n).map((e) => e.duration), name).then((v) => v.sort((a, b) => a - b));
    const ms = await read('label→next');
    const commit = await read('label commit');
    // Split by whether the worker was training (refit or estimate) when the key came.
    const split = await page.evaluate(() => performance.getEntriesByName('label→next').map((e) => [e.duration, e.detail?.workerBusy === true]));
    const busy = split.filter(([, b]) => b).map(([d]) => d).sort((a, b) => a - b);
    const idle = split.filter(([, b]) => !b).map(([d]) => d).sort((a, b) => a - b);
    return {
      poolSize, durability, pauseMs, n: ms.length, p50: pct(ms, 50), p95: pct(ms, 95), max: ms[ms.length - 1], c50: pct(commit, 50), c95: pct(commit, 95),
      busyN: busy.length, busy95: busy.length ? pct(busy, 95) : null, idle95: idle.length ? pct(idle, 95) : null,
    };
  } finally {
    await b.close();
  }
}

const load0 = loadavg()[0];
const server = await serve();
const rows = [];
try {
  if (!pacedOnly) for (const size of [1000, 10000]) rows.push(await measure(server, size));
  rows.push(await measure(server, 10000, 'strict', 400));
  if (!pacedOnly) rows.push(await measure(server, 10000, 'relaxed'));
} finally {
  server.stop();
}

const chromium = execFileSync('/usr/bin/chromium', ['--version']).toString().trim();
const f = (x) => (x == null ? '–' : x.toFixed(1));
const table = [
  '| pool | pace | label commit | presses | p50 (ms) | p95 (ms) | max (ms) | of which IndexedDB commit p50 / p95 (ms) | p95 with the worker training / idle at the keypress (presses training) |',
  '|---:|:---|:---|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.poolSize.toLocaleString('en')} | ${r.pauseMs ? `${r.pauseMs} ms between labels` : 'as fast as it goes'} | ${r.durability === 'strict' ? 'strict (the app)' : 'relaxed (comparison)'} | ${r.n} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.max)} | ${f(r.c50)} / ${f(r.c95)} | ${f(r.busy95)} / ${f(r.idle95)} (${r.busyN}) |`),
].join('\n');
console.log(table);

if (write) {
  const section = `## Labelling latency

Keypress → next sample on screen, measured by \`node bench/latency.mjs --write\` (target: p95 < 50 ms
with a 10k pool). From the keydown event's timestamp to just after the frame that shows the
next sample was produced (a message posted from requestAnimationFrame): the label is
committed to IndexedDB first (strict durability: flushed to disk), then the sample drawn;
retraining runs in the Web Worker meanwhile. The "IndexedDB commit" column is the commit
alone (the app's \`label commit\` measure). The last row, for comparison only, forces relaxed
durability (no flush to disk) to show what the flush costs. One sample labelled at a time
(press, wait for the next sample), ${presses} presses per row, either as fast as the app allows
or with 400 ms between labels, like a person looking at each sample. The last column
splits the p95 by whether the worker was retraining (or estimating accuracy) when the key
came, and counts those presses. The app times retraining to fit between two labels
(\`www/app/pacing.ts\`): at once after the next sample is painted when the last round was
shorter than the person's pace, after a pause as long as a round when rounds cost more
(early on, \`auto\`'s TypiClust k-means over the pool takes seconds on a 10k pool), and
soon whenever the queue of picks runs low. The 10k pool is the demo's images with seeded
noise and a one-pixel shift. Headless ${chromium}, ${cpus().length} CPU cores (${cpus()[0]?.model.trim()}), shared
with other work: load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end.

${table}
`;
  const path = 'docs/BENCHMARKS.md';
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const re = /## Labelling latency\n[\s\S]*?(?=\n## |$)/;
  doc = re.test(doc) ? doc.replace(re, section.trimEnd() + '\n') : `${doc.trimEnd()}\n\n${section}`;
  writeFileSync(path, doc);
  console.log(`wrote the "Labelling latency" section of ${path}`);
}
