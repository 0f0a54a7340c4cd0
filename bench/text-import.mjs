// The app's first text import with the sentence encoder's download included (issue 14), in
// headless Chromium: the spam subjects (4,307 rows, datasets/) imported into a fresh
// browser profile (no cached weights) with the default features (words and meaning), then
// again in the same profile (weights now in the service worker's cache), then with words
// only (TF-IDF), each timed from the click to the report.
//   node scripts/build.mjs && node bench/text-import.mjs [--write]
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { currentSample, launch, serve } from '../tests/e2e/harness.mjs';
import { pickData } from '../tests/e2e/app-fixtures.mjs';

const root = resolve(import.meta.dirname, '..');
const data = join(root, 'datasets/spamassassin-subjects.tsv');
const load0 = loadavg()[0];
const server = await serve();
const b = await launch();
const rows = [];
try {
  const { page, requests } = b;
  await page.goto(server.url);
  await currentSample(page);
  // The service worker must control the page for its cache to keep the weights.
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 }).catch(() => page.reload());
  for (const [what, features] of [['first import (weights downloaded)', 'pretrained'], ['second import (weights cached)', 'pretrained'], ['words only (TF-IDF)', 'tfidf']]) {
    await page.keyboard.press('p');
    await pickData(page, data);
    await page.selectOption('#data-text-features', features);
    const fetched = requests.filter((u) => /minilm-l6/.test(u)).length;
    const t0 = Date.now();
    await page.click('#data-import');
    await page.waitForFunction(() => /Imported|failed/.test(document.getElementById('import-report').textContent), null, { timeout: 600_000 });
    const secs = (Date.now() - t0) / 1000;
    const report = await page.textContent('#import-report');
    if (!/Imported/.test(report)) throw new Error(report);
    const encoded = /computed for all [\d,]+ texts in ([\d.]+) s on (\d+) cores? \((\d+) per second\)/.exec(report);
    rows.push({ what, secs, encoded, downloads: requests.filter((u) => /minilm-l6/.test(u)).length - fetched });
    console.error(`${what}: ${secs.toFixed(1)} s`);
    await page.keyboard.press('Escape');
  }
} finally {
  await b.close();
  server.stop();
}
const table = [
  '| import of the 4,307 spam subjects | click → report | of which encoding | requests for the weights (page and service worker) |',
  '|---|---|---|---|',
  ...rows.map((r) => `| ${r.what} | ${r.secs.toFixed(1)} s | ${r.encoded ? `${r.encoded[1]} s on ${r.encoded[2]} cores (${r.encoded[3]} per second)` : '–'} | ${r.downloads} |`),
  '',
  `${cpus().length} cores (${cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}), load ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}; the weights (23 MB) come from the app's own origin on 127.0.0.1, so the download here is a local copy: over a network add 23 MB at its speed. On the second import the page's one request is answered from the service worker's cache.`,
].join('\n');
console.log(table);
if (process.argv.includes('--write')) {
  const path = join(root, 'docs/BENCHMARKS.md');
  const doc = readFileSync(path, 'utf8');
  if (!doc.includes('<!-- text-import:begin -->')) throw new Error('docs/BENCHMARKS.md has no text-import markers');
  writeFileSync(path, doc.replace(/<!-- text-import:begin -->[\s\S]*?<!-- text-import:end -->/, `<!-- text-import:begin -->\n${table}\n<!-- text-import:end -->`));
}
