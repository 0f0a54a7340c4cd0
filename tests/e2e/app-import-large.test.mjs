// A 200 MB CSV imported through the file input in Chromium: read as a stream in the data
// worker (never whole), with a progress bar by bytes; the first 100,000 rows are imported
// and the rest counted, and the report says how many were left out; rows skipped late in
// the imported part (a wrong width, bytes that are not UTF-8) are listed with their lines;
// the new project can be labelled; the project that was there is untouched.
//
// The file is written by the test into a temp folder and deleted after. Rows are short
// (about 14 bytes) so that most of the 200 MB is rows past the cap, which are only counted:
// that part also holds quoted fields with commas and newlines, which must not count as rows,
// and ends with a quote never closed, which stops the count (said so) but not the import.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentSample, launch, serve } from './harness.mjs';
import { openProjectId, readStore } from './app-fixtures.mjs';
import { BIG_BYTES, LATIN1_ROW, WIDE_ROW, writeBigCsv } from './big-csv.mjs';

let server;
let dir;
before(async () => {
  server = await serve();
  dir = mkdtempSync(join(tmpdir(), 'marginalia-large-'));
});
after(() => {
  server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a 200 MB CSV: streamed with progress, first 100,000 rows imported, the rest counted and reported; labelling works; the other project is untouched', async () => {
  const t0 = Date.now();
  const path = join(dir, 'big.csv');
  const { leftOut, latin1Offset, brokenLine } = writeBigCsv(path);
  assert.ok(statSync(path).size > BIG_BYTES - 64, `${statSync(path).size} bytes`);
  const tWritten = Date.now();
  const b = await launch({ serviceWorkers: 'block' });
  try {
    const { page } = b;
    await page.goto(server.url);
    await currentSample(page);
    // The project already there (the demo) with two labels.
    for (const key of ['1', '2']) {
      const before = await currentSample(page);
      await page.keyboard.press(key);
      await page.waitForFunction((id) => document.getElementById('labeler')?.dataset.sampleId !== String(id), before);
    }
    const demoLabels = (await readStore(page, 'labels')).filter((l) => l.project === 'demo');
    assert.equal(demoLabels.length, 2);
    const projectsBefore = await readStore(page, 'projects');
    await page.keyboard.press('p');

    // The preview reads the first MB only: columns, first rows, an estimate of the rows.
    const tPick = Date.now();
    await page.setInputFiles('#pick-data', path);
    await page.waitForFunction(() => !document.getElementById('data-form').hidden || /Nothing was stored/.test(document.getElementById('import-report').textContent), null, { timeout: 30_000 });
    const summary = await page.textContent('#data-summary');
    assert.match(summary, /^big\.csv: CSV, 200 MB, 4 column\(s\); [\d,]+ rows in its first 1\.0 MB, so about [\d,]+ in all\. The rows are counted as the file is read; the first 100,000 are imported \(65,536 for text\)\.$/);
    assert.deepEqual(await page.locator('#data-preview thead th').allTextContents(), ['note', 'x', 'y', 'label']);
    assert.ok(Date.now() - tPick < 10_000, `the preview took ${Date.now() - tPick} ms: it must not read the whole file`);
    assert.equal(await page.inputValue('#data-kind'), 'table');

    // Import, recording every progress text and bar value the page shows.
    await page.evaluate(() => {
      window.__progress = [];
      const count = document.getElementById('import-count');
      const bar = document.getElementById('import-progress');
      new MutationObserver(() => window.__progress.push([count.textContent, bar.value, bar.max])).observe(count, { childList: true, characterData: true, subtree: true });
    });
    await page.selectOption('#data-label', 'label');
    const tImport = Date.now();
    await page.click('#data-import');
    await page.waitForFunction(() => /Imported|failed/.test(document.getElementById('import-report').textContent), null, { timeout: 180_000 });
    const importMs = Date.now() - tImport;
    const report = await page.textContent('#import-report');
    assert.match(report, /Imported 99,998 rows into “big”/);
    assert.ok(report.includes(`big.csv (200 MB): the first 100,000 rows were imported; at least ${leftOut.toLocaleString('en')} more were left out (the limit is 100,000 samples per project: split the file to label the rest).`), report);
    // The last row's quote is never closed: that stops the count, not the import.
    assert.ok(report.includes(`Counting the rows after those stopped at a broken row: CSV: line ${brokenLine}, column 6: quote opened here is never closed. The rows imported are not affected.`), report);
    assert.ok(report.includes(`Skipped 1 row(s) with the wrong number of fields: line ${WIDE_ROW + 1} (the header has 4).`), report);
    assert.ok(report.includes(`Skipped 1 row(s) that are not UTF-8 text: line ${LATIN1_ROW + 1} (first: line ${LATIN1_ROW + 1}, column 4: not valid UTF-8 text (byte offset ${latin1Offset})).`), report);

    // Progress by bytes while reading: several steps between 0 and the whole file.
    const steps = await page.evaluate(() => window.__progress);
    const reading = steps.filter(([t]) => /^reading/.test(t));
    const partial = reading.filter(([t, v, max]) => v > 0 && v < max && /^reading \([\d,]+ rows\): \d+ MB of 200 MB$/.test(t));
    assert.ok(partial.length >= 5, `progress while reading: ${JSON.stringify(reading.slice(0, 8))}`);
    assert.ok(steps.some(([t]) => /^encoding: 99,998 \/ 99,998$/.test(t)), JSON.stringify(steps.slice(-5)));
    // Storing 100,000 samples takes seconds: that has its progress too.
    assert.ok(steps.some(([t, v, max]) => v > 0 && v < max && /^storing: [\d,]+ \/ 99,998$/.test(t)), JSON.stringify(steps.slice(-5)));

    // The new project opens and takes a label.
    const projects = await readStore(page, 'projects');
    assert.equal(projects.length, projectsBefore.length + 1);
    const big = projects.find((p) => !projectsBefore.some((q) => q.id === p.id));
    for (let i = 0; i < 600 && (await openProjectId(page)) !== big.id; i++) await new Promise((r) => setTimeout(r, 100));
    await page.waitForFunction(() => document.getElementById('labeler').getAttribute('aria-busy') === 'false', null, { timeout: 60_000 });
    await page.keyboard.press('Escape');
    await page.keyboard.press('l');
    const id = await currentSample(page);
    await page.keyboard.press('2');
    await page.waitForFunction((s) => document.getElementById('labeler')?.dataset.sampleId !== String(s), id, { timeout: 60_000 });
    const labels = await readStore(page, 'labels');
    assert.deepEqual(labels.filter((l) => l.project === big.id).map((l) => [l.sampleId, l.label]), [[id, 1]]);
    assert.equal(big.classNames.join(), 'a,b,c');
    // The demo project is exactly as it was.
    assert.deepEqual(labels.filter((l) => l.project === 'demo'), demoLabels);
    assert.deepEqual((await readStore(page, 'projects')).find((p) => p.id === 'demo').classNames, projectsBefore.find((p) => p.id === 'demo').classNames);
    assert.deepEqual(b.consoleErrors, []);
    console.log(`# 200 MB CSV: written in ${((tWritten - t0) / 1000).toFixed(1)} s, imported in ${(importMs / 1000).toFixed(1)} s, whole test ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await b.close();
    rmSync(path, { force: true });
  }
});
