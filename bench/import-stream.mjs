// Streamed import of a 200 MB CSV through the app's file input, in headless Chromium:
//   node scripts/build.mjs && node bench/import-stream.mjs [--runs 3] [--write]
// The file is the large-import test's (tests/e2e/big-csv.mjs: 100,000 rows imported, 12.5 M
// more counted), written to a temp folder and deleted after. Prints a table: the preview
// (first MB), the read (worker: File.stream() into the Rust reader, its MB/s), the whole
// import (click to report: read, featurize, store), the wasm memory's size after the read,
// and the peak resident memory of all the browser's processes (sampled every 50 ms from
// /proc) against before the file was chosen. With --write, replaces the "Streamed import"
// section of docs/BENCHMARKS.md.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, currentSample, launch, serve } from '../tests/e2e/harness.mjs';
import { BIG_BYTES, writeBigCsv } from '../tests/e2e/big-csv.mjs';

const args = process.argv.slice(2);
const write = args.includes('--write');
const runs = Number(args[args.indexOf('--runs') + 1]) || (args.includes('--runs') ? 1 : 3);

/** Resident memory (bytes) of the process whose command line names `profile`, and its descendants. */
function rssOfBrowser(profile) {
  const procs = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      procs.push({ pid: Number(pid), ppid, rss, root: cmd.includes(profile) && !cmd.includes('--type=') });
    } catch {
      /* gone meanwhile */
    }
  }
  const inTree = new Set(procs.filter((p) => p.root).map((p) => p.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!inTree.has(p.pid) && inTree.has(p.ppid)) (inTree.add(p.pid), (grew = true));
  }
  return procs.filter((p) => inTree.has(p.pid)).reduce((n, p) => n + p.rss, 0);
}

const dir = mkdtempSync(join(tmpdir(), 'marginalia-bench-import-'));
const path = join(dir, 'big.csv');
const { leftOut } = writeBigCsv(path);
const server = await serve();
const load0 = loadavg()[0];
const results = [];
try {
  for (let run = 0; run < runs; run++) {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page, profile } = b;
      await page.goto(server.url);
      await currentSample(page);
      await page.keyboard.press('p');
      const base = rssOfBrowser(profile);
      let peak = base;
      const timer = setInterval(() => (peak = Math.max(peak, rssOfBrowser(profile))), 50);
      const t0 = performance.now();
      await page.setInputFiles('#pick-data', path);
      await page.waitForFunction(() => !document.getElementById('data-form').hidden, null, { timeout: 60_000 });
      const preview = performance.now() - t0;
      const t1 = performance.now();
      await page.click('#data-import');
      await page.waitForFunction(() => /Imported|failed/.test(document.getElementById('import-report').textContent), null, { timeout: 300_000 });
      const whole = performance.now() - t1;
      clearInterval(timer);
      const report = await page.textContent('#import-report');
      if (!/Imported/.test(report)) throw new Error(report);
      const read = JSON.parse(await page.getAttribute('#import-report', 'data-read'));
      results.push({ preview, read, whole, base, peak, report });
    } finally {
      await b.close();
    }
  }
} finally {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
}

const mbs = (n) => (n / 1024 / 1024).toFixed(0);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const table = [
  '| run | preview, first MB (ms) | read: File.stream() → Rust reader (s) | read throughput (MB/s) | whole import: read, featurize, store (s) | wasm memory after the read (MB) | browser RSS before → peak (MB) |',
  '|---:|---:|---:|---:|---:|---:|---:|',
  ...results.map((r, i) => `| ${i + 1} | ${r.preview.toFixed(0)} | ${r.read.seconds.toFixed(2)} | ${(r.read.bytes / 1024 / 1024 / r.read.seconds).toFixed(0)} | ${(r.whole / 1000).toFixed(1)} | ${mbs(r.read.wasmBytes)} | ${mbs(r.base)} → ${mbs(r.peak)} |`),
  `| median | ${median(results.map((r) => r.preview)).toFixed(0)} | ${median(results.map((r) => r.read.seconds)).toFixed(2)} | ${median(results.map((r) => r.read.bytes / 1024 / 1024 / r.read.seconds)).toFixed(0)} | ${(median(results.map((r) => r.whole)) / 1000).toFixed(1)} | ${mbs(median(results.map((r) => r.read.wasmBytes)))} | ${mbs(median(results.map((r) => r.base)))} → ${mbs(median(results.map((r) => r.peak)))} |`,
].join('\n');
console.log(table);

if (write) {
  const section = `## Streamed import (200 MB CSV)

A ${mbs(BIG_BYTES)} MB CSV (\`tests/e2e/big-csv.mjs\`: a header, 100,000 rows of ~14 bytes imported as a
table of 4 columns, then ${leftOut.toLocaleString('en')} more rows with quoted commas and newlines, only
counted, and a last row whose quote never closes, which stops the count) imported through the app's file input, measured by \`node bench/import-stream.mjs --write\`
(${runs} runs, a fresh browser profile each). The preview reads the first MB. The read is
the data worker's \`File.stream()\` fed chunk by chunk into the Rust reader (\`data::stream\`,
wasm SIMD build): it parses and keeps the first 100,000 rows and scans the rest for record
ends (quotes included) to count them. The whole import adds the table encoding of the
100,000 rows, building the project and storing it in IndexedDB; the storing is most of
it (12.7 s of a 16.0 s import in one run timed by stage: 100,000 sample records put in one
transaction, awaiting every 500th, in \`store/db.ts\`), the read about a tenth. Memory: the wasm
instance's size after the read (it only grows, so this is its peak during the read), and
the resident memory of all the browser's processes, before choosing the file and at its
peak (sampled every 50 ms from /proc). Headless ${CHROMIUM}, ${cpus().length} CPU cores
(${cpus()[0]?.model.trim()}), shared with other work: load average ${load0.toFixed(1)} at the start,
${loadavg()[0].toFixed(1)} at the end.

${table}
`;
  const doc_ = 'docs/BENCHMARKS.md';
  let doc = existsSync(doc_) ? readFileSync(doc_, 'utf8') : '# Benchmarks\n';
  const re = /## Streamed import \(200 MB CSV\)\n[\s\S]*?(?=\n## |$)/;
  doc = re.test(doc) ? doc.replace(re, section.trimEnd() + '\n') : `${doc.trimEnd()}\n\n${section}`;
  writeFileSync(doc_, doc);
  console.log(`wrote the "Streamed import (200 MB CSV)" section of ${doc_}`);
}
