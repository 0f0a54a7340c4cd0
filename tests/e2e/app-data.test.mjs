// Text, table and embedding projects, end to end in Debian's Chromium with its real
// IndexedDB and real files: spam subjects (text) and penguins (table) from datasets/ are
// imported, 20 labelled by keyboard, one undone, the page reloaded and resumed, the labels
// exported and the export imported again with the same sample → label pairs. Embeddings
// come as a .npy and as a CSV of vectors. Bad files are reported (what, where) and never
// cost the data already stored. Every request is recorded: none may leave 127.0.0.1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { currentSample, isLocal, launch, pressForNext, serve } from './harness.mjs';
import { importData, openProjectId, pickData, readStore } from './app-fixtures.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is now. */
async function axeProblems(page, where) {
  // Through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(`${AXE}\n;0`);
  const v = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations.map((x) => ({ id: x.id, impact: x.impact, nodes: x.nodes.map((n) => n.target.join(' ')).slice(0, 3) })));
  return v.filter((x) => x.impact === 'serious' || x.impact === 'critical').map((x) => `${where}: ${x.id} (${x.impact}) at ${x.nodes.join(', ')}`);
}

const XSS_TEXT = '<img src=x onerror=window.__xss=1> free money';

let server;
let dir;
before(async () => {
  server = await serve();
  dir = mkdtempSync(join(tmpdir(), 'marginalia-data-'));
});
after(() => {
  server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function file(name, content) {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** A small spam/ham TSV from the shared dataset: the first `n` of each class, interleaved. */
function spamSubset(n) {
  const lines = readFileSync('datasets/spamassassin-subjects.tsv', 'utf8').trim().split('\n');
  const by = { ham: [], spam: [] };
  for (const l of lines.slice(1)) {
    const [label, subject] = l.split('\t');
    if (by[label].length < n && subject.trim()) by[label].push(subject);
  }
  const rows = [];
  for (let i = 0; i < n; i++) rows.push(['ham', by.ham[i]], ['spam', by.spam[i]]);
  rows.push(['spam', XSS_TEXT]);
  return { tsv: `label\tsubject\n${rows.map((r) => r.join('\t')).join('\n')}\n`, truth: new Map(rows.map(([l, s]) => [s, l])) };
}

/** A little-endian float32 .npy (v1), as np.save writes it. */
function npy(shape, values, descr = '<f4') {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64) header += ' ';
  header += '\n';
  const data = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => (descr.startsWith('>') ? data.writeFloatBE(v, i * 4) : data.writeFloatLE(v, i * 4)));
  const pre = Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), data]);
}

const report = (page) => page.textContent('#import-report');

const labelCurrent = (page, key) => pressForNext(page, key, { failOnAlert: true });

async function projectData(page, id) {
  const project = (await readStore(page, 'projects')).find((p) => p.id === id);
  const samples = (await readStore(page, 'samples')).filter((s) => s.project === id).sort((a, b) => a.id - b.id);
  const labels = (await readStore(page, 'labels')).filter((l) => l.project === id);
  const features = (await readStore(page, 'features')).filter((f) => f.project === id).sort((a, b) => a.start - b.start);
  return { project, samples, labels, features };
}

/**
 * Label 20 by keyboard (the right class, from `truthOf(sample)`), undo the last, label it
 * again, reload, and check the page resumes; returns the project's stored data.
 */
async function labelTwentyUndoReload(page, projectId, truthOf) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('l');
  const order = [];
  for (let i = 0; i < 20; i++) {
    const id = await currentSample(page);
    const { project, samples } = await projectData(page, projectId);
    const cls = project.classNames.indexOf(truthOf(samples.find((s) => s.id === id)));
    assert.ok(cls >= 0 && cls < 9);
    await labelCurrent(page, String(cls + 1));
    const stored = (await readStore(page, 'labels')).find((l) => l.project === projectId && l.sampleId === id);
    assert.ok(stored, `label of sample ${id} stored before the next sample showed`);
    assert.equal(stored.label, cls);
    order.push(id);
  }
  assert.equal(new Set(order).size, 20);
  await page.keyboard.press('Backspace');
  await page.waitForFunction((id) => document.getElementById('labeler')?.dataset.sampleId === String(id), order[19]);
  assert.equal(await page.textContent('#label-count'), '19');
  assert.ok(!(await readStore(page, 'labels')).some((l) => l.project === projectId && l.sampleId === order[19]));
  const { project, samples } = await projectData(page, projectId);
  await labelCurrent(page, String(project.classNames.indexOf(truthOf(samples.find((s) => s.id === order[19]))) + 1));
  // The model has had 20 labels of two or more classes: it guesses, with a reason.
  await page.waitForFunction(() => /Model's guess: .+ \(\d+% sure\)/.test(document.getElementById('guess').textContent), null, { timeout: 60_000 });
  assert.match(await page.textContent('#reason'), /Why this one: ./);
  const shown = await currentSample(page);
  await page.reload();
  assert.equal(await currentSample(page), shown, 'reload resumes on the same sample');
  assert.equal(await page.textContent('#label-count'), '20');
  return projectData(page, projectId);
}

describe('text, table and embedding projects', () => {
  test('spam subjects (TSV): import, label 20 by keyboard, undo, reload, export JSONL, re-import: same text → label; text stays text', async () => {
    const { tsv, truth } = spamSubset(60);
    const path = file('spam-subjects.tsv', tsv);
    const b = await launch();
    try {
      const { page, requests } = b;
      page.on('dialog', (d) => void d.dismiss());
      await page.goto(server.url);
      await currentSample(page);
      await page.keyboard.press('p');
      await pickData(page, path);
      assert.match(await page.textContent('#data-summary'), /spam-subjects\.tsv: TSV, 121 rows, 2 column\(s\)\./);
      assert.equal(await page.inputValue('#data-kind'), 'text');
      assert.equal(await page.inputValue('#data-text'), 'subject');
      assert.equal(await page.inputValue('#data-label'), 'label');
      assert.equal(await page.locator('#data-preview tbody tr').count(), 5);
      const a11y = await axeProblems(page, 'data import form');
      const r = await importData(page, { labels: 'classes' });
      assert.match(r, /Imported 121 texts into “spam-subjects” \([\d,]+ features each; classes: ham, spam\)/);
      // By default the texts learn from words and meaning: the TF-IDF, then the sentence
      // encoder's 384 values, its weights fetched from this origin and kept for offline use.
      assert.match(r, /Learning from words and meaning: [\d,]+ TF-IDF terms and 384 values per text from all-minilm-l6-v2\/1 i8 128tok, computed for all 121 texts in [\d.]+ s on \d+ cores? \(\d+ per second\)/);
      assert.equal(requests.filter((u) => /\/weights\/minilm-l6\.i8\.safetensors/.test(u)).length >= 1, true, 'the sentence encoder was fetched');
      assert.ok(requests.every(isLocal), 'nothing left the machine');
      // The progress bar went all the way.
      assert.equal(await page.evaluate(() => { const p = document.getElementById('import-progress'); return p.value === p.max; }), true);
      const projectId = await openProjectId(page);
      const before = await projectData(page, projectId);
      assert.equal(before.project.kind, 'text');
      assert.ok(before.project.featurizer?.length > 0, 'the TF-IDF vocabulary is stored with the project');
      assert.equal(before.labels.length, 0, "'name the classes' imports no labels");
      const width = before.project.width;
      assert.deepEqual(before.project.textFeatures, { kind: 'tfidf+pretrained', encoder: 'all-minilm-l6-v2/1 i8 128tok', dim: 384, tfidfWidth: width - 384 });
      {
        // The last 384 columns are the core's sentence embeddings of the same texts.
        const core = await import('../../www/pkg/scalar/marginalia.js');
        core.initSync({ module: readFileSync(new URL('../../www/pkg/scalar/marginalia_bg.wasm', import.meta.url)) });
        const enc = new core.SentenceEncoder(readFileSync('weights/minilm-l6.i8.safetensors'));
        const rows = before.samples.slice().sort((x, y) => x.id - y.id).slice(0, 5);
        const again = enc.encode(rows.map((x) => x.text)).features;
        const data = Object.values(before.features[0].data);
        rows.forEach((x, i) => {
          const stored = data.slice(x.id * width + width - 384, (x.id + 1) * width);
          const worst = stored.reduce((m, v, j) => Math.max(m, Math.abs(v - again[i * 384 + j])), 0);
          assert.ok(worst < 1e-6, `sample ${x.id}: stored embedding differs by ${worst}`);
        });
        enc.free();
      }
      assert.ok(before.samples.every((s) => typeof s.text === 'string'));
      // The features are stored with the pool, in chunks: sample i is row i.
      assert.deepEqual(before.features.map((f) => [f.start, f.rows, f.width, Object.keys(f.data).length]), [[0, 121, width, 121 * width]]);

      // The text shows as text: readable, the canvas hidden, a script-like subject inert.
      await page.keyboard.press('Escape');
      await page.keyboard.press('l');
      const id = await currentSample(page);
      assert.equal(await page.textContent('#sample-text'), before.samples.find((s) => s.id === id).text);
      assert.ok(await page.isHidden('#sample'));
      assert.match(await page.textContent('#sample-source'), /^spam-subjects\.tsv:\d+$/);
      a11y.push(...(await axeProblems(page, 'text label view')));
      assert.deepEqual(a11y, []);

      const after = await labelTwentyUndoReload(page, projectId, (s) => truth.get(s.text));
      assert.equal(after.labels.length, 20);
      // Reload read the stored features: nothing was refitted (same vocabulary bytes).
      assert.deepEqual(after.project.featurizer, before.project.featurizer);

      // The exported model says which columns are TF-IDF and names the sentence encoder.
      await page.keyboard.press('d');
      const [modelDl] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('#export-model')]);
      const modelZipFiles = unzipSync(readFileSync(await modelDl.path()));
      const manifest = JSON.parse(strFromU8(modelZipFiles['model.json']));
      assert.equal(manifest.features.width, width);
      assert.equal(manifest.features.pretrained.encoder, 'all-minilm-l6-v2/1 i8 128tok');
      assert.match(manifest.features.text.columns, new RegExp(`^the first ${width - 384} are the TF-IDF`));
      assert.ok(modelZipFiles['featurizer.bin'], 'the TF-IDF vocabulary travels with the model');

      // The batch view shows texts too.
      await page.keyboard.press('b');
      await page.waitForFunction(() => document.querySelectorAll('#batch-grid .tile-text').length > 0);

      // Export JSONL ({text, label}, as Prodigy writes it) and CSV.
      await page.keyboard.press('p');
      const [jsonlDl] = await Promise.all([page.waitForEvent('download'), page.click('#export-jsonl')]);
      const exported = join(dir, 'spam-labels.jsonl');
      await jsonlDl.saveAs(exported);
      const lines = readFileSync(exported, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(lines.length, 20);
      for (const l of lines) {
        assert.deepEqual(Object.keys(l), ['id', 'source', 'text', 'label', 'labelled_at']);
        assert.equal(l.label, truth.get(l.text));
        assert.match(l.source, /^spam-subjects\.tsv:\d+$/);
        assert.match(l.labelled_at, /^\d{4}-\d\d-\d\dT/);
      }
      const [csvDl] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
      const csv = readFileSync(await csvDl.path(), 'utf8').split('\r\n');
      assert.equal(csv[0], 'sample_id,source,text,label,labelled_at');
      assert.equal(csv.filter(Boolean).length, 21);
      assert.ok(await page.isHidden('#export-zip'), 'no images to zip in a text project');

      // Re-import the JSONL export, its labels as labels: the same text → label pairs.
      await pickData(page, exported);
      assert.equal(await page.inputValue('#data-text'), 'text');
      assert.equal(await page.inputValue('#data-label'), 'label');
      const r2 = await importData(page, { labels: 'labels' });
      assert.match(r2, /Imported 20 texts .*20 labelled from “label”/);
      const again = await projectData(page, await openProjectId(page));
      const pairs = (d) => d.labels.map((l) => [d.samples.find((s) => s.id === l.sampleId).text, d.project.classNames[l.label]]).sort();
      assert.deepEqual(pairs(again), pairs(after));

      assert.equal(await page.evaluate(() => window.__xss), undefined);
      assert.equal(await page.locator('#sample-text img, #batch-grid img, #decisions img, #data-preview img').count(), 0);
      const outside = requests.filter((u) => !isLocal(u));
      assert.deepEqual(outside, [], `requests left 127.0.0.1: ${outside.join(', ')}`);
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
    }
  });

  test('penguins (CSV table): label 20 by keyboard, undo, reload, export CSV, re-import: same rows → labels; the row shows as a card', async () => {
    const b = await launch();
    try {
      const { page, requests } = b;
      await page.goto(server.url);
      await currentSample(page);
      await page.keyboard.press('p');
      await pickData(page, join(process.cwd(), 'datasets/penguins.csv'));
      assert.equal(await page.inputValue('#data-kind'), 'table');
      assert.equal(await page.inputValue('#data-label'), 'Species');
      assert.ok(await page.isDisabled('#data-column-boxes input[value="Species"]'), 'the label is not a feature');
      // A fifth of each species held out with its label, to measure accuracy.
      const r = await importData(page, { labels: 'heldout' });
      assert.match(r, /Imported 344 rows into “penguins” \(\d+ features each; classes: Adelie, Chinstrap, Gentoo\)/);
      const held = Number(r.match(/(\d+) labelled rows \(20% of each class\) are held out to measure accuracy; you label the other (\d+)/)?.[1]);
      assert.ok(held >= 66 && held <= 72, r);
      const projectId = await openProjectId(page);
      const before = await projectData(page, projectId);
      assert.deepEqual(before.project.columns, ['Island', 'Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)', 'Sex']);
      assert.equal(before.samples.filter((x) => x.split === 'test' && x.truth != null).length, held);
      // Numbers standardized, 3 islands and 3 sexes (MALE, FEMALE, '.') one-hot: 4 + 3 + 3.
      assert.equal(before.project.width, 10);
      // Species truth for the keyboard, from the file itself (line → species).
      const file = readFileSync('datasets/penguins.csv', 'utf8').split('\n');
      const truthOf = (s) => file[Number(s.source.split(':').pop()) - 1].split(',')[0];

      await page.keyboard.press('Escape');
      await page.keyboard.press('l');
      const id = await currentSample(page);
      const shownRow = before.samples.find((s) => s.id === id).row;
      assert.ok(await page.isVisible('#sample-card'));
      assert.deepEqual(await page.locator('#sample-card th').allTextContents(), before.project.columns);
      assert.deepEqual(await page.locator('#sample-card td').allTextContents(), shownRow.map((v) => v ?? '(missing)'));
      assert.deepEqual(await axeProblems(page, 'table label view'), []);

      const after = await labelTwentyUndoReload(page, projectId, truthOf);
      // 20 labels of the right species: the held-out accuracy is measured, and high.
      await page.waitForFunction(() => /%$/.test(document.getElementById('accuracy').textContent), null, { timeout: 60_000 });
      const acc = parseFloat(await page.textContent('#accuracy'));
      assert.ok(acc >= 80, `held-out accuracy ${acc}% after 20 labels`);
      await page.keyboard.press('p');
      const [csvDl] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
      const exported = join(dir, 'penguins-labels.csv');
      await csvDl.saveAs(exported);
      const csv = readFileSync(exported, 'utf8').trim().split('\r\n');
      assert.equal(csv[0], 'sample_id,source,Island,Beak Length (mm),Beak Depth (mm),Flipper Length (mm),Body Mass (g),Sex,label,labelled_at');
      assert.equal(csv.length, 21);

      // Re-import: the export's own columns (sample_id, source, labelled_at) are not ticked
      // as features by default; 'label' holds the labels.
      await pickData(page, exported);
      assert.equal(await page.inputValue('#data-label'), 'label');
      for (const c of ['sample_id', 'source', 'labelled_at']) assert.equal(await page.isChecked(`#data-column-boxes input[value="${c}"]`), false);
      const r2 = await importData(page, { kind: 'table', labels: 'labels' });
      assert.match(r2, /Imported 20 rows .*20 labelled from “label”/);
      const again = await projectData(page, await openProjectId(page));
      assert.deepEqual(again.project.columns, before.project.columns);
      const pairs = (d) => d.labels.map((l) => JSON.stringify([d.samples.find((s) => s.id === l.sampleId).row, d.project.classNames[l.label]])).sort();
      assert.deepEqual(pairs(again), pairs(after));

      // Back to the first project: the batch view shows rows as cards with the model's
      // guesses filled in; accepting stores them together.
      await page.click('#project-list button[aria-label="Open penguins"]');
      await page.waitForFunction((id) => document.getElementById('project-title').textContent === 'penguins', projectId);
      await page.keyboard.press('b');
      await page.waitForFunction(() => document.querySelectorAll('#batch-grid .tile-card').length > 0, null, { timeout: 60_000 });
      const guessed = await page.locator('#batch-grid select').evaluateAll((ss) => ss.filter((x) => x.value !== '').length);
      assert.ok(guessed > 0, 'the model filled in guesses');
      await page.click('#batch-accept');
      let stored = 0;
      for (let i = 0; i < 300 && stored !== 20 + guessed; i++) {
        await new Promise((res) => setTimeout(res, 100));
        stored = (await readStore(page, 'labels')).filter((l) => l.project === projectId).length;
      }
      assert.equal(stored, 20 + guessed, 'the accepted batch is stored');

      const outside = requests.filter((u) => !isLocal(u));
      assert.deepEqual(outside, [], `requests left 127.0.0.1: ${outside.join(', ')}`);
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
    }
  });

  test('embeddings: a float32 .npy and a CSV of vectors import as they are; backup and restore round-trip', async () => {
    const n = 40;
    const d = 12;
    // Two clusters, so labelling a few gives the model something to learn.
    const values = Array.from({ length: n * d }, (_, i) => Math.fround(Math.floor(i / d) % 2 ? 1 + ((i * 7) % 13) / 13 : -1 - ((i * 5) % 11) / 11));
    const npyPath = file('vectors.npy', npy([n, d], values));
    const csvRows = Array.from({ length: n }, (_, r) => [...values.slice(r * d, (r + 1) * d).map(String), r % 2 ? 'up' : 'down'].join(','));
    const header = [...Array.from({ length: d }, (_, j) => `d${j + 1}`), 'label'].join(',');
    const csvPath = file('vectors.csv', `${header}\n${csvRows.join('\n')}\n`);
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      await page.keyboard.press('p');
      await pickData(page, npyPath);
      assert.match(await page.textContent('#data-summary'), /vectors\.npy: a NumPy array of 40 vectors × 12 values/);
      assert.equal(await page.inputValue('#data-kind'), 'embedding');
      assert.match(await importData(page), /Imported 40 vectors into “vectors” \(12 features each\)/);
      const id = await openProjectId(page);
      const fromNpy = await projectData(page, id);
      const feats = (d) => d.features.flatMap((f) => Object.values(f.data));
      assert.deepEqual(feats(fromNpy), values, 'the numbers are the features, bit for bit');
      assert.equal(fromNpy.samples[3].source, 'vectors.npy:4');
      await page.keyboard.press('Escape');
      await page.keyboard.press('l');
      await page.waitForFunction(() => /A vector of 12 values: /.test(document.getElementById('sample-text').textContent));

      // CSV of vectors, no header (all numbers), the last column the label.
      await page.keyboard.press('p');
      await pickData(page, csvPath);
      // Numbers preselect a table (readable rows); embeddings are the person's choice.
      assert.equal(await page.inputValue('#data-kind'), 'table');
      assert.equal(await page.inputValue('#data-label'), 'label');
      const r = await importData(page, { kind: 'embedding', labels: 'labels' });
      assert.match(r, /Imported 40 vectors .*12 features each; 40 labelled from “label”; classes: down, up/);
      const csvId = await openProjectId(page);
      const fromCsv = await projectData(page, csvId);
      assert.deepEqual(feats(fromCsv), values);

      // Backup and restore: features, labels and classes come back exactly.
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-backup')]);
      const backup = join(dir, 'vectors.marginalia.zip');
      await dl.saveAs(backup);
      await page.setInputFiles('#restore', backup);
      await page.waitForFunction((old) => {
        const t = document.getElementById('notice').textContent;
        return /Restored/.test(t);
      }, csvId, { timeout: 60_000 });
      const restoredId = await openProjectId(page);
      assert.notEqual(restoredId, csvId);
      const restored = await projectData(page, restoredId);
      assert.deepEqual(feats(restored), values);
      const strip = (d) => d.labels.map((l) => [l.sampleId, l.label, l.labelledAt]).sort();
      assert.deepEqual(strip(restored), strip(fromCsv));
      assert.deepEqual(restored.project.classNames, ['down', 'up']);
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
    }
  });

  test('bad input: each reported with what and where; the rest imports where sensible; stored labels untouched', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      // Data already there: two demo labels.
      await labelCurrent(page, '1');
      await labelCurrent(page, '2');
      const keep = await readStore(page, 'labels');
      const projectsBefore = (await readStore(page, 'projects')).length;
      await page.keyboard.press('p');

      // A file dropped on the data drop zone is read like a chosen one; a pandas-style
      // header (an unnamed index column, a repeated name) gets usable column names.
      await page.evaluate(() => {
        document.getElementById('import-report').textContent = '';
        const dt = new DataTransfer();
        dt.items.add(new File([',text,text,<svg onload=window.__xss=5>\n0,hello there,x,1\n1,general kenobi,y,2\n'], 'dropped.csv'));
        document.getElementById('drop-data').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      });
      await page.waitForFunction(() => !document.getElementById('data-form').hidden);
      assert.match(await page.textContent('#data-summary'), /dropped\.csv: CSV, 2 rows, 4 column\(s\)/);
      assert.deepEqual(await page.locator('#data-preview thead th').allTextContents(), ['column 1', 'text', 'text (2)', '<svg onload=window.__xss=5>']);
      assert.equal(await page.locator('#data-form svg, #data-form img').count(), 0, 'column names are text');

      // An empty CSV, and one with a header only.
      await pickData(page, file('empty.csv', ''));
      assert.match(await report(page), /empty\.csv is empty \(0 bytes\): there is nothing to import\. Nothing was stored/);
      await pickData(page, file('header.csv', 'text,label\n'));
      assert.match(await report(page), /header\.csv: CSV \(a header but no data rows\) is empty/);

      // Not UTF-8 (Latin-1 é): that row is skipped, said so with where; the rest imports.
      await pickData(page, file('latin1.csv', Buffer.concat([Buffer.from('text,label\nok,a\ncaf'), Buffer.from([0xe9]), Buffer.from(',b\nfine,b\n')])));
      assert.match(
        await page.textContent('#data-summary'),
        /1 row\(s\) are not UTF-8 text and will be skipped: line 3 \(first: line 3, column 4: not valid UTF-8 text \(byte offset 19\)\)\. Save the file as UTF-8 to keep them\./,
      );
      const rl = await importData(page, { kind: 'text', text: 'text', label: 'label', labels: 'labels' });
      assert.match(rl, /Imported 2 texts/);
      assert.match(rl, /Skipped 1 row\(s\) that are not UTF-8 text: line 3 \(first: line 3, column 4: not valid UTF-8 text \(byte offset 19\)\)/);
      assert.deepEqual((await projectData(page, await openProjectId(page))).samples.map((x) => x.text), ['ok', 'fine']);
      await page.keyboard.press('p');

      // 200 MB with no line end (a sparse file: no disk): the preview reads its first MB
      // only and says it is no text file, at once.
      const big = join(dir, 'big.csv');
      closeSync(openSync(big, 'w'));
      truncateSync(big, 200 * 1024 * 1024);
      const t0 = Date.now();
      await pickData(page, big);
      assert.match(await report(page), /big\.csv: CSV: line 1, column 1: no line ends in the first 1048576 bytes read: is this a text file\?/);
      assert.ok(Date.now() - t0 < 10_000, 'refused at once');
      // A .npy is read whole: over its limit it is refused by its size, before reading.
      const bigNpy = join(dir, 'big.npy');
      closeSync(openSync(bigNpy, 'w'));
      truncateSync(bigNpy, 200 * 1024 * 1024);
      await pickData(page, bigNpy);
      assert.match(await report(page), /big\.npy is 200 MB; a \.npy is read whole \(an array has no rows to read one by one\), so this page takes \.npy files up to 128 MB/);

      // An unknown format.
      await pickData(page, file('notes.docx', 'PK\x03\x04 not really'));
      assert.match(await report(page), /notes\.docx: \.docx is not a format this page imports as data \(CSV, TSV, JSONL, TXT or NPY/);

      // A .npy that is not little-endian float: what to do instead.
      await pickData(page, file('be.npy', npy([2, 2], [1, 2, 3, 4], '>f4')));
      assert.match(await report(page), /be\.npy: NPY file: dtype '>f4' is big-endian/);

      // Rows with the wrong number of columns: listed before the import, skipped, the rest imported.
      const rows = ['text,label', 'win a prize now,spam', 'lunch at noon,ham', 'oops,one,too many', 'cheap pills,spam', 'minutes of the meeting,ham', 'no label column', 'see you soon,ham'];
      await pickData(page, file('ragged.csv', rows.join('\n')));
      assert.match(await page.textContent('#data-summary'), /2 row\(s\) have the wrong number of fields and will be skipped: lines 4 and 7 \(the header has 2\)/);
      const r = await importData(page, { kind: 'text', text: 'text', label: 'label', labels: 'labels' });
      assert.match(r, /Imported 5 texts/);
      assert.match(r, /Skipped 2 row\(s\) with the wrong number of fields: lines 4 and 7/);
      const ragged = await projectData(page, await openProjectId(page));
      assert.deepEqual(ragged.samples.map((s) => s.source), ['ragged.csv:2', 'ragged.csv:3', 'ragged.csv:5', 'ragged.csv:6', 'ragged.csv:8']);

      // A vector with a cell that is not a number (past the preview): the import fails
      // naming the file, line and column, and stores nothing.
      const vrows = Array.from({ length: 8 }, (_, r) => Array.from({ length: 9 }, (_, j) => (r === 6 && j === 2 ? 'n/a' : String(r + j / 10))).join(','));
      await pickData(page, file('vec-bad.csv', `${Array.from({ length: 9 }, (_, j) => `x${j}`).join(',')}\n${vrows.join('\n')}\n`));
      assert.equal(await page.inputValue('#data-kind'), 'table');
      const rv = await importData(page, { kind: 'embedding', label: '' });
      assert.match(rv, /The import failed: vec-bad\.csv: vectors: line 8, column 3: 'x2' is 'n\/a', not a number\. Nothing was stored/);

      // A label column with one value: imported unlabelled, with that class, and said so.
      await page.keyboard.press('p');
      // (The class name is script-like: it must show as text.)
      const SPAM = '<img src=x onerror=window.__xss=4>';
      await pickData(page, file('onlyspam.csv', `text,label\nwin money,${SPAM}\ncheap pills,${SPAM}\nhot deals,${SPAM}\n`));
      const r1 = await importData(page, { kind: 'text', text: 'text', label: 'label', labels: 'labels' });
      assert.ok(r1.includes(`The label column “label” has only one value (“${SPAM}”): a classifier needs at least two classes, so the rows were imported unlabelled, with “${SPAM}” as the first class`), r1);
      const one = await projectData(page, await openProjectId(page));
      assert.deepEqual(one.project.classNames, [SPAM]);
      assert.equal(one.labels.length, 0);
      await page.keyboard.press('Escape');
      await page.keyboard.press('l');
      await page.waitForFunction(() => document.querySelectorAll('#classes button').length === 1);
      assert.ok((await page.locator('#classes button').allTextContents()).some((t) => t.includes(SPAM)));
      assert.equal(await page.locator('#classes img, #import-report img').count(), 0);

      // Plain text: one sample per line, blank lines skipped; no label column to choose.
      await page.keyboard.press('p');
      await pickData(page, file('lines.txt', 'first sample\n\nsecond sample\nthird sample\n'));
      assert.equal(await page.inputValue('#data-kind'), 'text');
      assert.ok(await page.isDisabled('#data-kind option[value="table"]'));
      const rt = await importData(page, {});
      assert.match(rt, /Imported 3 texts into “lines”/);
      const txt = await projectData(page, await openProjectId(page));
      assert.deepEqual(txt.samples.map((x) => [x.source, x.text]), [['lines.txt:1', 'first sample'], ['lines.txt:3', 'second sample'], ['lines.txt:4', 'third sample']]);
      assert.equal(await page.evaluate(() => window.__xss), undefined);

      // Nothing already stored was lost: the demo's labels are exactly as they were, and
      // only the four good imports added projects.
      const now = await readStore(page, 'labels');
      assert.deepEqual(now.filter((l) => l.project === 'demo'), keep);
      assert.equal((await readStore(page, 'projects')).length, projectsBefore + 4);
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
    }
  });
});
