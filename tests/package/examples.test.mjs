// The npm package as a user gets it: `npm pack` the built package, install the tarball into
// fresh copies of examples/vite-app, examples/webpack-app and examples/plain-html, build them, and drive each in
// Chromium: create a learner, add samples, query, teach, save, reload, restore; then bad
// input (unknown strategy, batch size 0, wrong feature length, a worker that cannot start,
// a second learner on the same store, ...) must fail with a clear message and a stable code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { run } from '../../scripts/run.mjs';
import { buildPackage, packPackage } from '../../scripts/build-package.mjs';
import { CHROMIUM, CHROMIUM_ARGS, launch } from '../e2e/harness.mjs';
import { serveStatic } from './static-server.mjs';

const root = resolve(import.meta.dirname, '../..');
const work = join(root, 'target/npm/examples');
let tarball;
const servers = [];

/** Copy an example to a fresh directory and install the packed tarball into it. */
async function install(name) {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(root, 'examples', name), dir, { recursive: true, filter: (src) => !/node_modules|dist|package-lock\.json/.test(src) });
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  pkg.dependencies.marginalia = `file:${tarball}`;
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  const r = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
  assert.equal(r.code, 0, `npm install in ${name} failed:\n${r.output}`);
  // The installed package is the tarball's content: the files whitelist, nothing else.
  for (const f of ['lib/index.js', 'lib/index.d.ts', 'lib/worker.js', 'lib/store/index.d.ts', 'lib/labeler.d.ts', 'pkg/simd/marginalia_bg.wasm', 'pkg/scalar/marginalia_bg.wasm']) {
    assert.ok(existsSync(join(dir, 'node_modules/marginalia', f)), `${name}: installed package lacks ${f}`);
  }
  return dir;
}

/** name → installed (and built, where the example has a build) directory, or the failure. */
let installed;
before(async () => {
  await buildPackage();
  tarball = await packPackage();
  // The three installs and builds are mostly waiting on npm and disk: run them together.
  const jobs = ['vite-app', 'webpack-app', 'plain-html'].map(async (name) => {
    try {
      const dir = await install(name);
      if (name !== 'plain-html') {
        const r = await run('npm', ['run', 'build', '--silent'], { cwd: dir });
        assert.equal(r.code, 0, `${name} build failed:\n${r.output}`);
      }
      return [name, dir];
    } catch (e) {
      return [name, e];
    }
  });
  installed = Object.fromEntries(await Promise.all(jobs));
});

/** The example's directory; rethrows its install or build failure inside the test that needs it. */
function example(name) {
  if (installed[name] instanceof Error) throw installed[name];
  return installed[name];
}
after(() => servers.forEach((s) => s.stop()));

/** console.error messages: the package logs errors nobody subscribed to there. */
function consoleErrorsOf(page) {
  const seen = [];
  page.on('console', (m) => m.type() === 'error' && seen.push(m.text()));
  return seen;
}

async function startApp(dir) {
  const s = await serveStatic(dir);
  servers.push(s);
  return s.url;
}

describe('npm package in a fresh Vite app', () => {
  test('tsc against the package types, vite build; label via <marginalia-labeler>, save, reload, restore; second tab locked out', async () => {
    const url = await startApp(join(example('vite-app'), 'dist'));
    const b = await launch();
    try {
      const { page, consoleErrors } = b;
      const logged = consoleErrorsOf(page);
      await page.goto(url);
      await page.waitForFunction(() => document.body.dataset.restored === 'false' || document.body.dataset.error, null, { timeout: 30_000 });
      assert.equal(await page.evaluate(() => document.body.dataset.error), undefined, await page.textContent('#status'));
      // Label four questions through the element's buttons (class = index parity, the truth).
      for (let n = 1; n <= 4; n++) {
        const index = Number(await page.waitForFunction(() => document.querySelector('marginalia-labeler')?.dataset.index).then((h) => h.jsonValue()));
        await page.click(`marginalia-labeler button[data-label="${index % 2}"]`);
        await page.waitForFunction((k) => document.body.dataset.saved === String(k), n);
      }
      await page.reload();
      await page.waitForFunction(() => document.body.dataset.restored === 'true', null, { timeout: 30_000 });
      assert.equal(await page.evaluate(() => document.body.dataset.labelled), '4', 'the four labels came back');
      assert.match(await page.textContent('#status'), /Restored session: 4 labels, 200 samples/);
      // The restored learner keeps asking and learning.
      const index = Number(await page.waitForFunction(() => document.querySelector('marginalia-labeler')?.dataset.index).then((h) => h.jsonValue()));
      await page.click(`marginalia-labeler button[data-label="${index % 2}"]`);
      await page.waitForFunction(() => document.body.dataset.saved === '5');
      // A second tab on the same stored session is refused, not allowed to overwrite it.
      const second = await b.context.newPage();
      await second.goto(url);
      await second.waitForFunction(() => document.body.dataset.error, null, { timeout: 30_000 });
      assert.equal(await second.evaluate(() => document.body.dataset.error), 'E_STORE_LOCKED');
      assert.match(await second.textContent('#status'), /already open in another learner/);
      assert.deepEqual(consoleErrors, []);
      assert.deepEqual(logged, []);
    } finally {
      await b.close();
    }
  });
});

/**
 * The headless flow of examples/plain-html and examples/webpack-app: three questions
 * answered, saved, the page reloaded, the session restored, one more answered.
 */
async function teachSaveReloadRestore(url, samples) {
  const b = await launch();
  try {
    const { page, consoleErrors } = b;
    const logged = consoleErrorsOf(page);
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.restored === 'false' || document.body.dataset.error, null, { timeout: 30_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.error), undefined, await page.textContent('#status'));
    for (let n = 1; n <= 3; n++) {
      await page.click('#teach-next');
      await page.waitForFunction((k) => document.body.dataset.labelled === String(k), n);
    }
    await page.click('#save');
    await page.waitForFunction(() => document.body.dataset.saved === '3');
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.restored === 'true', null, { timeout: 30_000 });
    assert.match(await page.textContent('#status'), new RegExp(`restored: 3 labels of ${samples} samples`));
    await page.click('#teach-next');
    await page.waitForFunction(() => document.body.dataset.labelled === '4');
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(logged, []);
  } finally {
    await b.close();
  }
}

describe('npm package in a fresh webpack app', () => {
  test('webpack build with no marginalia-specific config; create, add, query, teach, save, reload, restore', async () => {
    await teachSaveReloadRestore(await startApp(join(example('webpack-app'), 'dist')), 60);
  });

  test('raw images through the bundled worker: canvases as PNG Blobs, query, teach, save, restore, add more', async () => {
    const b = await launch();
    try {
      const { page, consoleErrors } = b;
      await page.goto(await startApp(join(example('webpack-app'), 'dist')));
      await page.click('#images');
      await page.waitForFunction(() => document.body.dataset.images, null, { timeout: 60_000 });
      const r = JSON.parse(await page.evaluate(() => document.body.dataset.images));
      assert.deepEqual([r.labelled, r.samples, r.features, r.error], [6, 40, 256, undefined], JSON.stringify(r));
      assert.ok(r.right >= 7, `discs above vs bars below, 6 labels: ${r.right} of 8 new images right`);
      assert.deepEqual(consoleErrors, []);
    } finally {
      await b.close();
    }
  });
});

describe('npm package in a plain page (import map, static files)', () => {
  let url;
  before(async () => {
    url = await startApp(example('plain-html'));
  });

  test('create, add samples, query, teach, save, reload, restore', () => teachSaveReloadRestore(url, 100));

  test('the headless API: save/restore bytes, undo, events, predict, evaluate', async () => {
    const b = await launch();
    try {
      const { page } = b;
      await page.goto(url);
      const r = await page.evaluate(async () => {
        const { createLearner, restoreLearner } = await import('marginalia');
        const l = await createLearner({ features: 2, classes: ['a', 'b'], seed: 3 });
        const fits = [];
        const off = l.on('progress', (p) => fits.push(p));
        await l.addSamples([[0, 0], [0.1, 0.2], [2, 2], [2.1, 1.9], [1, 1.1], [0.2, 0.1], [1.9, 2.2]]);
        await l.teach([{ index: 0, label: 0 }, { index: 2, label: 1 }]);
        const picks = await l.query(3);
        await l.teach(picks[0].index, 1);
        const undone = await l.undo();
        const afterUndo = (await l.stats()).labelled;
        await l.query(1); // refits after the undo: one more progress event
        off();
        await l.teach(5, 0);
        await l.query(1); // fits, but nobody is listening any more
        const probs = Array.from(await l.predict([0, 0, 2, 2]));
        const ev = await l.evaluate([0, 0, 2, 2], [0, 1]);
        const bytes = await l.save();
        const again = await restoreLearner(bytes);
        const same = JSON.stringify(await again.labels()) === JSON.stringify(await l.labels());
        const restoredProbs = Array.from(await again.predict([0, 0, 2, 2]));
        return { picks, undone, picked: picks[0].index, afterUndo, fits: fits.length, probs, ev, same, restoredProbs, bytes: bytes.length, strategies: l.strategies, stats: await again.stats() };
      });
      assert.equal(r.picks.length, 3);
      assert.ok(r.picks.every((p) => ![0, 2].includes(p.index)), 'labelled samples are never asked again');
      assert.ok(r.picks[0].reason.startsWith('margin'), r.picks[0].reason);
      assert.deepEqual(r.undone, { index: r.picked, label: 1 });
      assert.equal(r.afterUndo, 2);
      assert.equal(r.fits, 2, 'two fits while subscribed, none after unsubscribing');
      assert.ok(r.probs[0] > 0.5 && r.probs[3] > 0.5, `class a near (0,0), b near (2,2): ${r.probs}`);
      assert.deepEqual(r.ev, { accuracy: 1, samples: 2 });
      assert.ok(r.same, 'restored labels equal the saved ones');
      r.probs.forEach((p, i) => assert.ok(Math.abs(p - r.restoredProbs[i]) < 1e-4, 'the restored model predicts the same'));
      assert.equal(r.stats.labelled, 3);
      assert.equal(r.stats.samples, 7);
      assert.ok(r.strategies.includes('margin') && r.strategies.includes('random'));
    } finally {
      await b.close();
    }
  });

  test('pretrained image features: embedImages with the packaged weights, then a learner on them; a wrong weight file is refused', async () => {
    const b = await launch();
    try {
      const { page, consoleErrors, requests } = b;
      await page.goto(url);
      const r = await page.evaluate(async () => {
        const { embedImages, ENCODER_DIM } = await import('marginalia/encoder');
        const { createLearner } = await import('marginalia');
        // Discs (class 0) and bars (class 1) of random colours on white, drawn here.
        const draw = (kind, i) => {
          const c = new OffscreenCanvas(64, 48);
          const g = c.getContext('2d');
          g.fillStyle = '#fff';
          g.fillRect(0, 0, 64, 48);
          g.fillStyle = `hsl(${(i * 47) % 360} 70% 45%)`;
          if (kind === 0) {
            g.beginPath();
            g.arc(20 + (i % 5) * 5, 24, 12 + (i % 3) * 2, 0, 2 * Math.PI);
            g.fill();
          } else g.fillRect(6 + (i % 4) * 3, 8 + (i % 5) * 3, 52 - (i % 4) * 3, 8);
          return c.convertToBlob({ type: 'image/png' });
        };
        const blobs = [];
        const truth = [];
        for (let i = 0; i < 24; i++) {
          blobs.push(await draw(i % 2, i));
          truth.push(i % 2);
        }
        const stages = [];
        const e = await embedImages(blobs, { onProgress: (d, t, s) => stages.push(s) });
        const again = await embedImages(blobs.slice(0, 2), { size: 224 });
        const l = await createLearner({ features: e.dim, classes: ['disc', 'bar'], seed: 1 });
        await l.addSamples(e.features.subarray(0, 16 * e.dim));
        await l.teach(Array.from({ length: 16 }, (_, i) => ({ index: i, label: truth[i] })));
        const probs = await l.predict(e.features.subarray(16 * e.dim));
        let right = 0;
        for (let i = 0; i < 8; i++) right += (probs[i * 2 + 1] > 0.5 ? 1 : 0) === truth[16 + i] ? 1 : 0;
        let wrong = null;
        try {
          await embedImages(blobs.slice(0, 1), { weightsUrl: new URL('./node_modules/marginalia/pkg/simd/marginalia_bg.wasm', location.href) });
        } catch (err) {
          wrong = { code: err.code, message: err.message };
        }
        const same = e.features.subarray(0, 2 * e.dim).every((v, i) => v === again.features[i]);
        // Aborting stops the workers and rejects with the signal's reason (no hang).
        const ac = new AbortController();
        let aborted = null;
        try {
          await embedImages(blobs, { signal: ac.signal, onProgress: (d, t, s) => /encoding the images/.test(s) && ac.abort(new DOMException('enough', 'AbortError')) });
        } catch (err) {
          aborted = err.name;
        }
        return { aborted, dim: e.dim, expected: ENCODER_DIM, version: e.version, rows: e.features.length / e.dim, finite: e.features.every(Number.isFinite), same, right, stages: [stages[0], stages.at(-1)], wrong };
      });
      assert.equal(r.dim, 1280);
      assert.equal(r.aborted, 'AbortError');
      assert.equal(r.expected, 1280);
      assert.equal(r.version, 'efficientnet-lite0/1 f16 224px');
      assert.equal(r.rows, 24);
      assert.ok(r.finite);
      assert.ok(r.same, 'the same images give the same features');
      assert.ok(r.right >= 7, `discs against bars, 16 labels: ${r.right} of 8 right`);
      assert.match(r.stages[0], /downloading the image encoder/);
      assert.match(r.stages[1], /encoding the images: [\d.]+ per second/);
      assert.equal(r.wrong?.code, 'E_FORMAT', JSON.stringify(r.wrong));
      assert.match(r.wrong.message, /not the expected one/);
      assert.ok(requests.some((u) => u.endsWith('/node_modules/marginalia/weights/efficientnet-lite0.f16.safetensors')), 'the packaged weights were fetched');
      assert.deepEqual(consoleErrors, []);
    } finally {
      await b.close();
    }
  });

  test('the merged core: MLP, a committee strategy, bit-exact restore, stop suggestion, CV estimate, texts and rows', async () => {
    const b = await launch();
    try {
      const { page, consoleErrors } = b;
      await page.goto(url);
      const r = await page.evaluate(async () => {
        const { createLearner, restoreLearner } = await import('marginalia');
        // Two noisy blobs on a grid of 40 points; class = which side of x + y = 1.
        const rows = [];
        for (let i = 0; i < 40; i++) rows.push([(i % 8) / 4 + 0.03 * (i % 3), Math.floor(i / 8) / 2.5 - 0.02 * (i % 5)]);
        const truth = rows.map(([x, y]) => (x + y > 1 ? 1 : 0));
        const teachSome = async (l, idx) => l.teach(idx.map((index) => ({ index, label: truth[index] })));
        const out = {};

        // MLP with a committee strategy: the learner trains a committee for it.
        const l = await createLearner({ features: 2, classes: ['low', 'high'], model: 'mlp', strategy: 'vote_entropy', seed: 4 });
        out.models = l.models;
        out.strategies = l.strategies;
        await l.addSamples(rows);
        out.cold = (await l.query(2))[0].reason;
        await teachSome(l, [0, 39, 3, 36, 9, 30, 12, 27]);
        const picks = await l.query(3);
        out.committeeReason = picks[0].reason;
        out.stats = await l.stats();
        out.estimate = await l.estimateAccuracy(4);
        out.taughtPerClass = [0, 1].map((c) => [0, 39, 3, 36, 9, 30, 12, 27].filter((i) => truth[i] === c).length);
        // Stop suggestion: refit the same labels until four fits agree (kappa 1).
        out.stopEarly = await l.stopSuggestion(20);
        for (const m of ['softmax', 'mlp', 'softmax']) {
          await l.configure({ model: m });
          await l.query(1);
        }
        out.stopLater = await l.stopSuggestion(8);
        // Snapshot: the restored learner predicts bit for bit and queries the same ids.
        const bytes = await l.save();
        const again = await restoreLearner(bytes);
        const grid = rows.flat();
        out.sameProbs = JSON.stringify(Array.from(await l.predict(grid))) === JSON.stringify(Array.from(await again.predict(grid)));
        out.sameQuery = JSON.stringify(await l.query(4)) === JSON.stringify(await again.query(4));
        out.restoredStats = await again.stats();
        out.restoredUndo = await again.undo();
        out.configureCommittee = (await again.configure({ committee: 3, strategy: 'max_kl' })).committee;
        out.maxKl = (await again.query(1))[0].reason;
        l.dispose();
        again.dispose();

        // Raw texts through the core's TF-IDF.
        const texts = await createLearner({ input: 'text', classes: ['ham', 'spam'], seed: 1 });
        const docs = ['win cheap pills now', 'cheap pills win big', 'lunch at noon today', 'meeting at noon', 'win a prize now', 'lunch meeting today', 'cheap prize win', 'noon lunch with team'];
        out.addTexts = await texts.addTexts(docs);
        await texts.teach([{ index: 0, label: 1 }, { index: 2, label: 0 }, { index: 1, label: 1 }, { index: 3, label: 0 }]);
        out.textQuery = (await texts.query(1))[0].reason;
        const f = await texts.featurize(['cheap pills', 'lunch at noon']);
        const p = await texts.predict(f);
        out.textProbs = [p[1], p[2]];
        out.textWidth = (await texts.stats()).features;
        const textBack = await restoreLearner(await texts.save());
        out.textRestored = Array.from(await textBack.predict(await textBack.featurize(['cheap pills', 'lunch at noon'])));
        out.textSame = JSON.stringify(out.textRestored) === JSON.stringify(Array.from(p));
        // Texts added after the restore use the saved vocabulary: same features as before.
        out.textAddedAfter = await textBack.addTexts(['cheap pills', 'team lunch']);
        out.textSameAfter = JSON.stringify(Array.from(await textBack.featurize(['cheap pills']))) === JSON.stringify(Array.from(f.subarray(0, f.length / 2)));
        texts.dispose();
        textBack.dispose();

        // Table rows through the core's tabular encoder (numbers standardized, categories one-hot).
        const table = await createLearner({ input: 'table', classes: ['small', 'big'], columns: ['size', 'colour'] });
        out.addRows = await table.addRows('size,colour,note\n1,red,a\n2,blue,b\n9,red,c\n10,green,d\n3,blue,e\n8,green,f\n');
        out.tableWidth = (await table.stats()).features;
        await table.teach([{ index: 0, label: 0 }, { index: 3, label: 1 }]);
        const tp = await table.predict(await table.featurize('colour,size\nred,1.5\ngreen,9.5\n'));
        out.tableProbs = [tp[0], tp[3]];
        out.wrongInput = await table.addSamples([[1, 2, 3, 4]]).catch((e) => e.code);
        out.missingColumn = await table.addRows('size\n4\n').catch((e) => e.code);
        // Rows added after a restore use the saved encoder (means, scales, categories).
        const tableBack = await restoreLearner(await table.save());
        const extra = 'colour,size\nred,1.5\ngreen,9.5\n';
        out.rowsAddedAfter = await tableBack.addRows(extra);
        out.tableSameAfter = JSON.stringify(Array.from(await tableBack.featurize(extra))) === JSON.stringify(Array.from(await table.featurize(extra)));
        table.dispose();
        tableBack.dispose();
        return out;
      });
      assert.deepEqual(r.models, ['softmax', 'mlp']);
      for (const s of ['margin', 'vote_entropy', 'consensus_entropy', 'mean_kl', 'max_kl', 'auto']) assert.ok(r.strategies.includes(s), s);
      assert.match(r.cold, /cold start/);
      assert.match(r.committeeReason, /committee/);
      assert.equal(r.stats.model, 'mlp');
      assert.ok(r.stats.fitted);
      assert.equal(r.estimate.folds, 4);
      assert.ok(r.estimate.mean >= 0 && r.estimate.mean <= 1 && r.estimate.se >= 0, JSON.stringify(r.estimate));
      // Out-of-fold confusion: a row per class given, each summing to that class's labels.
      assert.equal(r.estimate.confusion.length, 2);
      assert.deepEqual(r.estimate.confusion.map((row) => row.reduce((a, b) => a + b, 0)), r.taughtPerClass, JSON.stringify(r.estimate.confusion));
      assert.equal(typeof r.stopEarly.reason, 'string');
      assert.equal(r.stopEarly.budgetLeft, 12);
      assert.equal(r.stopEarly.kappa, null);
      assert.equal(typeof r.stopEarly.uncertainty, 'number');
      assert.equal(r.stopLater.stop, true, r.stopLater.reason);
      assert.equal(r.stopLater.budgetLeft, 0);
      assert.equal(typeof r.stopLater.kappa, 'number', 'four fits: kappa is known');
      assert.ok(r.sameProbs, 'the restored model predicts bit for bit the same');
      assert.ok(r.sameQuery, 'the restored learner asks about the same samples');
      assert.deepEqual([r.restoredStats.labelled, r.restoredStats.model, r.restoredStats.strategy], [8, 'softmax', 'vote_entropy']);
      assert.deepEqual(r.restoredUndo, { index: 27, label: 1 }, 'the undo history came back too');
      assert.equal(r.configureCommittee, 3);
      assert.match(r.maxKl, /committee member disagrees/);
      assert.deepEqual(r.addTexts, { first: 0, count: 8 });
      assert.ok(r.textWidth > 0);
      assert.ok(r.textProbs[0] > 0.5 && r.textProbs[1] > 0.5, `spam-ish text is spam, lunch is ham: ${r.textProbs}`);
      assert.ok(r.textSame, 'the restored text learner featurizes and predicts the same');
      assert.deepEqual(r.addRows, { first: 0, count: 6 });
      assert.equal(r.tableWidth, 4, 'size + three colours');
      assert.ok(r.tableProbs[0] > 0.5 && r.tableProbs[1] > 0.5, `small row is small, big row is big: ${r.tableProbs}`);
      assert.equal(r.wrongInput, 'E_STATE');
      assert.deepEqual(r.textAddedAfter, { first: 8, count: 2 });
      assert.ok(r.textSameAfter, 'texts after a restore are featurized as before it');
      assert.deepEqual(r.rowsAddedAfter, { first: 6, count: 2 });
      assert.ok(r.tableSameAfter, 'rows after a restore are encoded as before it');
      assert.equal(r.missingColumn, 'E_INVALID_PARAM');
      assert.deepEqual(consoleErrors, []);
    } finally {
      await b.close();
    }
  });

  test("backend 'webgpu': pool scored on the GPU (SwiftShader), same picks as the CPU, device loss falls back to the CPU", async () => {
    const b = await launch();
    try {
      const { page } = b;
      await page.goto(url);
      const r = await page.evaluate(async () => {
        const { createLearner } = await import('marginalia');
        // 3 classes in 4-D, pseudo-random (no exact ties between margins).
        let seed = 7;
        const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
        const rows = [];
        for (let i = 0; i < 300; i++) {
          const c = i % 3;
          rows.push([c + rnd() * 1.6, (c === 1 ? 1 : 0) + rnd() * 1.6, rnd(), rnd() - c * 0.3]);
        }
        const labels = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((index) => ({ index, label: index % 3 }));
        const out = { hasGpu: 'gpu' in navigator };
        const gpu = await createLearner({ features: 4, classes: 3, backend: 'webgpu', seed: 1 });
        const cpu = await createLearner({ features: 4, classes: 3, backend: 'cpu', seed: 1 });
        out.backends = [gpu.backend, cpu.backend];
        for (const l of [gpu, cpu]) {
          await l.addSamples(rows);
          await l.teach(labels);
        }
        const ids = (q) => q.map((c) => c.index);
        out.gpuPicks = ids(await gpu.query(8));
        out.cpuPicks = ids(await cpu.query(8));
        out.gpuStats = await gpu.stats();
        out.lost = await gpu._loseGpuForTesting();
        out.afterLoss = ids(await gpu.query(8));
        out.afterStats = await gpu.stats();
        // The session goes on after the loss: a label, a refit, a query.
        await gpu.teach(out.afterLoss[0], 0);
        out.goesOn = (await gpu.query(2)).length;
        gpu.dispose();
        cpu.dispose();
        // A committee of MLPs with a disagreement strategy: every member's probabilities
        // come from the GPU round.
        const opts = { features: 4, classes: 3, seed: 1, model: 'mlp', strategy: 'mean_kl', committee: 3 };
        const gq = await createLearner({ ...opts, backend: 'webgpu' });
        const cq = await createLearner({ ...opts, backend: 'cpu' });
        for (const l of [gq, cq]) {
          await l.addSamples(rows);
          await l.teach(labels);
        }
        out.committeePicks = [ids(await gq.query(8)), ids(await cq.query(8))];
        out.committeeBackend = (await gq.stats()).backend;
        gq.dispose();
        cq.dispose();
        return out;
      });
      assert.ok(r.hasGpu, 'the harness runs Chromium with WebGPU (SwiftShader when no GPU)');
      assert.deepEqual(r.backends, ['webgpu', 'cpu']);
      assert.equal(r.gpuStats.backend, 'webgpu', 'the query scored on the GPU');
      assert.deepEqual(r.gpuPicks, r.cpuPicks, 'GPU scoring picks what the CPU picks');
      assert.ok(r.lost);
      assert.deepEqual(r.afterLoss, r.gpuPicks, 'after the device is lost the CPU answers with the same ids');
      assert.equal(r.afterStats.backend, 'cpu');
      assert.match(r.afterStats.gpuFallback, /\S/, 'says why the GPU was dropped');
      assert.equal(r.goesOn, 2);
      assert.equal(r.committeeBackend, 'webgpu', 'the committee round scored on the GPU');
      assert.deepEqual(r.committeePicks[0], r.committeePicks[1], 'committee picks on the GPU are the CPU ones');
    } finally {
      await b.close();
    }
  });

  test('bad input: clear errors with stable codes, nothing lost', async () => {
    const b = await launch();
    try {
      const { page } = b;
      await page.goto(url);
      const r = await page.evaluate(async () => {
        const { createLearner, restoreLearner, MarginaliaError } = await import('marginalia');
        const { openSessionStore } = await import('marginalia/store');
        const caught = async (f) => {
          try {
            await f();
            return { code: 'none' };
          } catch (e) {
            return { isError: e instanceof Error, isMarginalia: e instanceof MarginaliaError, code: e.code, message: e.message };
          }
        };
        const out = {};
        out.unknownStrategy = await caught(() => createLearner({ features: 2, classes: 2, strategy: 'nope' }));
        out.batchZero = await caught(() => createLearner({ features: 2, classes: 2, batchSize: 0 }));
        out.oneClass = await caught(() => createLearner({ features: 2, classes: ['only'] }));
        out.badBackend = await caught(() => createLearner({ features: 2, classes: 2, backend: 'cuda' }));
        out.noWorker = await caught(() => createLearner({ features: 2, classes: 2, worker: () => new Worker('./no-such-worker.js', { type: 'module' }) }));
        // A worker that loads but never answers (an empty module): give up after the timeout.
        const silent = URL.createObjectURL(new Blob([''], { type: 'text/javascript' }));
        out.silentWorker = await caught(() => createLearner({ features: 2, classes: 2, startTimeoutMs: 300, worker: () => new Worker(silent, { type: 'module' }) }));
        out.badSnapshot = await caught(() => restoreLearner(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])));
        const l = await createLearner({ features: 2, classes: 2 });
        await l.addSamples([[0, 0], [1, 1], [2, 2]]);
        out.shape = await caught(() => l.addSamples([0, 1, 2]));
        out.nonFinite = await caught(() => l.addSamples([[0, NaN]]));
        out.queryZero = await caught(() => l.query(0));
        out.predictEarly = await caught(() => l.predict([0, 0]));
        out.labelRange = await caught(() => l.teach([{ index: 0, label: 0 }, { index: 1, label: 5 }]));
        out.unknownSample = await caught(() => l.teach(99, 0));
        out.configure = await caught(() => l.configure({ strategy: 'nope' }));
        out.predictWidth = await caught(() => l.predict([1, 2, 3]));
        out.evaluateLabels = await caught(() => l.evaluate([[0, 0], [1, 1]], [0]));
        out.restoreOption = await caught(async () => restoreLearner(await l.save(), { strategy: 'entropy' }));
        out.statsAfter = await l.stats(); // nothing half-applied
        const store = await openSessionStore('bad-input');
        out.secondStore = await caught(() => openSessionStore('bad-input'));
        await store.close();
        const reopened = await openSessionStore('bad-input');
        await reopened.close();
        out.reopened = true;
        l.dispose();
        out.disposed = await caught(() => l.stats());
        return out;
      });
      const expect = {
        unknownStrategy: ['E_INVALID_PARAM', /unknown strategy 'nope'; known: .*margin/],
        batchZero: ['E_INVALID_PARAM', /batchSize must be a whole number ≥ 1, got 0/],
        oneClass: ['E_INVALID_PARAM', /at least 2 classes/],
        badBackend: ['E_INVALID_PARAM', /backend must be 'auto', 'webgpu' or 'cpu', got 'cuda'/],
        noWorker: ['E_WORKER', /worker/],
        silentWorker: ['E_WORKER', /did not answer within 300 ms/],
        badSnapshot: ['E_SNAPSHOT', /not a saved Marginalia session/],
        shape: ['E_SHAPE', /3 values is not a whole number of samples of 2 features/],
        nonFinite: ['E_NONFINITE', /row 0, column 1/],
        queryZero: ['E_INVALID_PARAM', /got 0/],
        predictEarly: ['E_STATE', /two classes/],
        labelRange: ['E_LABEL_RANGE', /label 5 for sample 1 is out of range: there are 2 classes/],
        unknownSample: ['E_UNKNOWN_SAMPLE', /99/],
        configure: ['E_INVALID_PARAM', /unknown strategy/],
        predictWidth: ['E_SHAPE', /predict: 3 values is not a whole number of samples of 2 features/],
        evaluateLabels: ['E_SHAPE', /evaluate: 2 samples but 1 labels/],
        restoreOption: ['E_INVALID_PARAM', /unknown option for restoreLearner \(the others are in the saved bytes\) 'strategy'/],
        secondStore: ['E_STORE_LOCKED', /already open/],
        disposed: ['E_DISPOSED', /disposed/],
      };
      for (const [k, [code, msg]] of Object.entries(expect)) {
        assert.equal(r[k].code, code, `${k}: ${JSON.stringify(r[k])}`);
        assert.ok(r[k].isError && r[k].isMarginalia, `${k} is a MarginaliaError (an Error)`);
        assert.match(r[k].message, msg, k);
      }
      assert.deepEqual([r.statsAfter.samples, r.statsAfter.labelled, r.statsAfter.strategy], [3, 0, 'margin'], 'failed calls changed nothing');
      assert.ok(r.reopened, 'the store can be opened again once closed');
    } finally {
      await b.close();
    }
  });
});

describe('raw images in a plain page (examples/plain-html/images.html)', () => {
  let url;
  before(async () => {
    url = await startApp(example('plain-html'));
  });

  test('PNG files by URL: create, add, query, teach, save, reload, restore, add more after the restore', async () => {
    const b = await launch();
    try {
      const { page, consoleErrors } = b;
      const logged = consoleErrorsOf(page);
      await page.goto(`${url}images.html`);
      await page.waitForFunction(() => document.body.dataset.restored === 'false' || document.body.dataset.error, null, { timeout: 60_000 });
      assert.equal(await page.evaluate(() => document.body.dataset.error), undefined, await page.textContent('#status'));
      assert.match(await page.textContent('#status'), /new: 0 labels of 24 images \(784 features each\)/);
      for (let n = 1; n <= 4; n++) {
        await page.click('#teach-next');
        await page.waitForFunction((k) => document.body.dataset.labelled === String(k), n);
      }
      await page.click('#save');
      await page.waitForFunction(() => document.body.dataset.saved === '4');
      await page.reload();
      await page.waitForFunction(() => document.body.dataset.restored === 'true' || document.body.dataset.error, null, { timeout: 60_000 });
      assert.match(await page.textContent('#status'), /restored: 4 labels of 24 images/);
      await page.click('#teach-next');
      await page.waitForFunction(() => document.body.dataset.labelled === '5');
      // Images added after the restore go through the same decoding: the model, trained on
      // five labels, tells T-shirts from trousers among the eight held-out files.
      await page.click('#add-more');
      await page.waitForFunction(() => document.body.dataset.heldOutRight !== undefined || document.body.dataset.error);
      assert.equal(await page.evaluate(() => document.body.dataset.samples), '32');
      const right = Number(await page.evaluate(() => document.body.dataset.heldOutRight));
      assert.ok(right >= 7, `held-out images predicted right: ${right} of 8`);
      assert.deepEqual(consoleErrors, []);
      assert.deepEqual(logged, []);
    } finally {
      await b.close();
    }
  });

  test('every image form (Blob, File, ImageBitmap, ImageData, <img>, canvas, URL) gives the dataset pixels / 255; RGB; Coates features save and restore', async () => {
    const manifest = JSON.parse(readFileSync(join(root, 'examples/plain-html/images/manifest.json'), 'utf8'));
    const idx = gunzipSync(readFileSync(join(root, manifest.source)));
    const first = manifest.files[0];
    const truth = Array.from(idx.subarray(16 + first.idx * 784, 16 + (first.idx + 1) * 784));
    const b = await launch();
    try {
      const { page, consoleErrors } = b;
      await page.goto(`${url}images.html`);
      await page.waitForFunction(() => document.body.dataset.restored, null, { timeout: 60_000 });
      const r = await page.evaluate(async (manifest) => {
        const { createLearner, restoreLearner } = await import('marginalia');
        const urls = manifest.files.map((f) => `./images/${f.file}`);
        const blob = await (await fetch(urls[0])).blob();
        const bitmap = await createImageBitmap(blob);
        const canvas = document.createElement('canvas');
        canvas.width = canvas.height = 28;
        canvas.getContext('2d').drawImage(bitmap, 0, 0);
        const imageData = canvas.getContext('2d').getImageData(0, 0, 28, 28);
        const img = new Image();
        img.src = urls[0]; // still loading when handed over: addImages waits for it
        const file = new File([blob], 'tshirt.png', { type: 'image/png' });
        const out = {};
        const grey = await createLearner({ input: 'image', image: { size: 28 }, classes: manifest.classes });
        const forms = { url: urls[0], absolute: new URL(urls[0], location.href), blob, file, bitmap, imageData, img, canvas };
        out.forms = {};
        for (const [k, v] of Object.entries(forms)) out.forms[k] = Array.from(await grey.featurize([v]), (x) => Math.round(x * 255));
        out.range = Array.from(await grey.featurize([blob])).every((x) => x >= 0 && x <= 1);
        out.bitmapUsable = bitmap.width; // the caller's bitmap is not consumed
        // Calls sent without waiting are answered in order: the second batch lands after
        // the first, and stats sent meanwhile sees both (decoding awaits inside the worker).
        const [b1, b2, mid] = await Promise.all([grey.addImages(urls.slice(0, 20)), grey.addImages([blob]), grey.stats()]);
        out.ordered = [b1, b2, mid.samples];
        // Resized and RGB: a 14×14 colour learner sees 14·14·3 features.
        const rgb = await createLearner({ input: 'image', image: { size: 14, channels: 3 }, classes: 2 });
        out.rgbAdd = await rgb.addImages(urls.slice(0, 4));
        out.rgbStats = await rgb.stats();
        // Coates & Ng features learned from the pool: restored bit for bit, and images
        // added after the restore are featurized as the saved learner would.
        const co = await createLearner({ input: 'image', image: { size: 28, features: 'coates', centroids: 16, patches: 2000 }, classes: manifest.classes, seed: 2 });
        const pool = manifest.files.filter((f) => Number(f.file.slice(-6, -4)) < 12);
        const later = manifest.files.filter((f) => Number(f.file.slice(-6, -4)) >= 12).map((f) => `./images/${f.file}`);
        const progress = [];
        const off = co.on('progress', (p) => p.stage === 'images' && progress.push([p.done, p.total]));
        out.coAdd = await co.addImages(pool.map((f) => `./images/${f.file}`));
        off();
        out.progress = progress;
        out.coStats = await co.stats();
        await co.teach(pool.filter((_, i) => i % 3 === 0).map((f) => ({ index: pool.indexOf(f), label: f.label })));
        const bytes = await co.save();
        const back = await restoreLearner(bytes);
        const a = Array.from(await co.featurize(later));
        const c = Array.from(await back.featurize(later));
        out.coSameFeatures = JSON.stringify(a) === JSON.stringify(c);
        out.coFinite = a.every(Number.isFinite);
        await co.addImages(later);
        await back.addImages(later);
        out.coSameQuery = JSON.stringify(await co.query(3)) === JSON.stringify(await back.query(3));
        const probs = await back.predict(await back.featurize(later));
        const truthLater = manifest.files.filter((f) => Number(f.file.slice(-6, -4)) >= 12).map((f) => f.label);
        out.coRight = truthLater.filter((l, i) => probs[i * 2 + l] >= 0.5).length;
        out.coBackStats = await back.stats();
        for (const l of [grey, rgb, co, back]) l.dispose();
        return out;
      }, manifest);
      for (const [k, v] of Object.entries(r.forms)) assert.deepEqual(v, truth, `${k}: the decoded pixels are the dataset's bytes`);
      assert.ok(r.range, 'features in [0, 1]');
      assert.equal(r.bitmapUsable, 28);
      assert.deepEqual(r.ordered, [{ first: 0, count: 20 }, { first: 20, count: 1 }, 21]);
      assert.deepEqual(r.rgbAdd, { first: 0, count: 4 });
      assert.equal(r.rgbStats.features, 14 * 14 * 3);
      assert.deepEqual(r.rgbStats.image, { size: 14, channels: 3, features: 'pixels', centroids: 128, patch: 6, patches: 20000 });
      assert.deepEqual(r.coAdd, { first: 0, count: 24 });
      assert.deepEqual(r.progress, [[24, 24]], 'decoding progress: every 32 images and the last');
      assert.equal(r.coStats.features, 64, '4 quadrants × 16 centroids');
      assert.ok(r.coSameFeatures, 'the restored featurizer encodes new images bit for bit the same');
      assert.ok(r.coFinite);
      assert.ok(r.coSameQuery, 'images added after the restore: same pool, same questions');
      assert.ok(r.coRight >= 7, `Coates features, 8 labels: ${r.coRight} of 8 held-out images right`);
      assert.equal(r.coBackStats.samples, 32);
      assert.deepEqual(consoleErrors, []);
    } finally {
      await b.close();
    }
  });

  test('bad image input and options: clear errors with stable codes, nothing added', async () => {
    const b = await launch();
    try {
      const { page } = b;
      await page.goto(`${url}images.html`);
      await page.waitForFunction(() => document.body.dataset.restored, null, { timeout: 60_000 });
      const r = await page.evaluate(async () => {
        const { createLearner, MarginaliaError } = await import('marginalia');
        const caught = async (f) => {
          try {
            await f();
            return { code: 'none' };
          } catch (e) {
            return { isMarginalia: e instanceof MarginaliaError && e instanceof Error, code: e.code, message: e.message };
          }
        };
        const out = {};
        const classes = ['tshirt', 'trouser'];
        out.sizeZero = await caught(() => createLearner({ input: 'image', image: { size: 0 }, classes }));
        out.channelsTwo = await caught(() => createLearner({ input: 'image', image: { channels: 2 }, classes }));
        out.coatesRgb = await caught(() => createLearner({ input: 'image', image: { channels: 3, features: 'coates' }, classes }));
        out.unknownImageOption = await caught(() => createLearner({ input: 'image', image: { sise: 28 }, classes }));
        out.imageWithoutInput = await caught(() => createLearner({ features: 4, image: { size: 28 }, classes }));
        out.wrongFeatures = await caught(() => createLearner({ input: 'image', image: { size: 28 }, features: 100, classes }));
        out.misspelt = await caught(() => createLearner({ features: 2, classes, batchsize: 4 }));
        out.unknownModel = await caught(() => createLearner({ features: 2, classes, model: 'svm' }));
        out.noFeatures = await caught(() => createLearner({ classes }));
        const l = await createLearner({ input: 'image', image: { size: 28 }, classes });
        await l.addImages(['./images/tshirt-00.png', './images/trouser-00.png']);
        out.notAnImage = await caught(() => l.addImages([42]));
        out.empty = await caught(() => l.addImages([]));
        out.textBlob = await caught(() => l.addImages(['./images/tshirt-01.png', new Blob(['not a picture'], { type: 'text/plain' })]));
        out.missingUrl = await caught(() => l.addImages(['./images/no-such.png']));
        const broken = new Image();
        broken.src = './images/no-such.png';
        out.brokenImg = await caught(() => l.addImages([broken]));
        out.after = (await l.stats()).samples; // none of the failed batches added anything
        out.ok = await l.addImages(['./images/tshirt-01.png']); // and the learner goes on
        const f = await createLearner({ features: 2, classes });
        out.imagesOnFeatures = await caught(() => f.addImages(['./images/tshirt-00.png']));
        out.raggedRows = await caught(() => f.addSamples([[0, 1], [2, 3, 4], [5, 6]]));
        out.predictRagged = await caught(() => f.predict([[0, 1], [2]]));
        l.dispose();
        f.dispose();
        return out;
      });
      const expect = {
        sizeZero: ['E_INVALID_PARAM', /image.size .* got 0/],
        channelsTwo: ['E_INVALID_PARAM', /image.channels must be 1 \(grey\) or 3 \(RGB\), got 2/],
        coatesRgb: ['E_INVALID_PARAM', /grey images/],
        unknownImageOption: ['E_INVALID_PARAM', /unknown option image.'sise'/],
        imageWithoutInput: ['E_INVALID_PARAM', /need input: 'image'/],
        wrongFeatures: ['E_INVALID_PARAM', /784 for these image options.*got 100/],
        misspelt: ['E_INVALID_PARAM', /unknown option 'batchsize'; did you mean 'batchSize'\?/],
        unknownModel: ['E_INVALID_PARAM', /unknown model 'svm'; known: softmax, mlp/],
        noFeatures: ['E_INVALID_PARAM', /features .* got undefined/],
        notAnImage: ['E_INVALID_PARAM', /image 0 is a number/],
        empty: ['E_INVALID_PARAM', /non-empty array/],
        textBlob: ['E_IMAGE', /1 of 2 images could not be read, so none was added: image 1 \(a Blob, text\/plain, 13 bytes\) not a readable image/],
        missingUrl: ['E_IMAGE', /no-such\.png\) could not be fetched \(HTTP 404\)/],
        brokenImg: ['E_IMAGE', /<img src=.*no-such\.png">\) could not be read/],
        imagesOnFeatures: ['E_STATE', /addImages needs a learner created with input: 'image'/],
        raggedRows: ['E_SHAPE', /row 1 has 3 values, row 0 has 2/],
        predictRagged: ['E_SHAPE', /row 1 has 1 values/],
      };
      for (const [k, [code, msg]] of Object.entries(expect)) {
        assert.equal(r[k].code, code, `${k}: ${JSON.stringify(r[k])}`);
        assert.ok(r[k].isMarginalia, `${k} is a MarginaliaError (an Error)`);
        assert.match(r[k].message, msg, k);
      }
      assert.equal(r.after, 2, 'failed batches added nothing');
      assert.deepEqual(r.ok, { first: 2, count: 1 });
    } finally {
      await b.close();
    }
  });
});

describe("backend: 'auto' | 'webgpu' | 'cpu' is honoured and reported", () => {
  let url;
  before(async () => {
    url = await startApp(example('plain-html'));
  });

  /** Pool scoring in `page` for each backend: where each query ran, and why not on the GPU. */
  const probe = (page, big) =>
    page.evaluate(async (big) => {
      const { createLearner } = await import('marginalia');
      // 3 classes; `big`: 7000 × 1000 × 3 = 2.1·10⁷ multiply-adds a round, past 'auto''s threshold.
      const [rows, width] = big ? [7000, 1000] : [300, 4];
      const x = new Float32Array(rows * width);
      let seed = 11;
      for (let i = 0; i < x.length; i++) x[i] = ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) + ((Math.floor(i / width) % 3) === i % 3 ? 1 : 0);
      const labels = [0, 1, 2, 3, 4, 5].map((index) => ({ index, label: index % 3 }));
      const out = {};
      for (const backend of ['auto', 'webgpu', 'cpu']) {
        try {
          const l = await createLearner({ features: width, classes: 3, backend, seed: 1 });
          await l.addSamples(x);
          const cold = (await l.stats()).gpuFallback;
          await l.query(1);
          const afterCold = await l.stats();
          await l.teach(labels);
          const picks = (await l.query(4)).map((c) => c.index);
          const s = await l.stats();
          // expected gradient length needs the model's gradients, which the GPU does not score.
          await l.configure({ strategy: 'egl' });
          await l.query(1);
          const committee = await l.stats();
          out[backend] = { start: l.backend, cold, afterCold: [afterCold.backend, afterCold.gpuFallback], picks, backend: s.backend, why: s.gpuFallback, committee: [committee.backend, committee.gpuFallback] };
          l.dispose();
        } catch (e) {
          out[backend] = { code: e.code, message: e.message };
        }
      }
      return out;
    }, big);

  test('with WebGPU (SwiftShader): auto stays on the CPU for small rounds and passes over the software adapter for large ones, saying why; webgpu uses it; same picks', async () => {
    const b = await launch();
    try {
      await b.page.goto(url);
      const small = await probe(b.page, false);
      assert.equal(small.auto.start, 'cpu');
      assert.equal(small.auto.cold, null, 'no query yet, nothing to explain');
      assert.deepEqual(small.auto.afterCold, ['cpu', 'no fitted model yet (cold-start picks need no scoring)']);
      assert.equal(small.auto.backend, 'cpu');
      assert.match(small.auto.why, /backend 'auto': a round is 3600 multiply-adds, below the 20000000/);
      assert.deepEqual([small.webgpu.start, small.webgpu.backend, small.webgpu.why], ['webgpu', 'webgpu', null]);
      assert.deepEqual([small.cpu.start, small.cpu.backend, small.cpu.why], ['cpu', 'cpu', "backend 'cpu' was asked for"]);
      assert.deepEqual(small.auto.picks, small.cpu.picks);
      assert.deepEqual(small.webgpu.picks, small.cpu.picks);
      assert.equal(small.webgpu.committee[0], 'cpu');
      assert.match(small.webgpu.committee[1], /the GPU scores softmax regression, the MLP and committees with auto, margin, entropy or least_confident \(committees also with vote_entropy, consensus_entropy, mean_kl or max_kl\); this session uses softmax with egl/);
      const big = await probe(b.page, true);
      // SwiftShader is the only adapter here: a software one, slower than the wasm CPU path.
      assert.equal(big.auto.backend, 'cpu', JSON.stringify(big.auto));
      assert.match(big.auto.why, /software fallback/);
      assert.deepEqual([big.webgpu.backend, big.webgpu.why], ['webgpu', null], JSON.stringify(big.webgpu));
      assert.deepEqual(big.auto.picks, big.cpu.picks);
      assert.deepEqual(big.webgpu.picks, big.cpu.picks, 'the GPU picks what the CPU picks');
    } finally {
      await b.close();
    }
  });

  test('without a WebGPU adapter: auto falls back to the CPU and says so, webgpu is E_BACKEND_UNAVAILABLE', async () => {
    // Chromium without --enable-unsafe-webgpu on this headless Linux: navigator.gpu exists,
    // but requestAdapter() resolves to null, as on a machine whose GPU is blocklisted.
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu') });
    try {
      const page = await browser.newPage();
      await page.goto(url);
      assert.equal(await page.evaluate(async () => (await navigator.gpu?.requestAdapter()) ?? null), null, 'no adapter in this browser');
      const big = await probe(page, true);
      assert.equal(big.webgpu.code, 'E_BACKEND_UNAVAILABLE', JSON.stringify(big.webgpu));
      assert.match(big.webgpu.message, /backend 'webgpu' was requested, but WebGPU cannot be used here .*; use 'auto' or 'cpu'/);
      assert.deepEqual([big.auto.start, big.auto.backend], ['cpu', 'cpu']);
      assert.match(big.auto.why, /^no WebGPU adapter/);
      assert.deepEqual(big.auto.picks, big.cpu.picks);
    } finally {
      await browser.close();
    }
  });
});

describe('events and a failing worker (plain page)', () => {
  let url;
  before(async () => {
    url = await startApp(example('plain-html'));
  });

  test("'error' events: a worker that dies is reported once, pending and later calls reject; unsubscribe works", async () => {
    const b = await launch();
    try {
      const { page, consoleErrors } = b;
      const logged = consoleErrorsOf(page);
      await page.goto(url);
      const r = await page.evaluate(async () => {
        const { createLearner } = await import('marginalia');
        const real = new URL('./node_modules/marginalia/lib/worker.js', location.href).href;
        // The package's worker, hosted by the page (the `worker` option), with one extra
        // message that makes it fail outside any call: first a rejected promise nobody
        // awaits (reported, not fatal), then an uncaught exception (fatal).
        const hosted = (extra) => URL.createObjectURL(new Blob([`import '${real}';\n${extra}`], { type: 'text/javascript' }));
        const src = hosted(`self.addEventListener('message', (e) => {
          if (e.data === 'reject') Promise.reject(new Error('late failure'));
          if (e.data === 'crash') setTimeout(() => { throw new Error('boom from the worker'); });
        });`);
        let w;
        const l = await createLearner({ features: 2, classes: 2, worker: () => (w = new Worker(src, { type: 'module' })) });
        await l.addSamples([[0, 0], [1, 1]]);
        const seen = [];
        const dropped = [];
        l.on('error', (e) => seen.push({ code: e.code, message: e.message, isError: e instanceof Error }));
        const off = l.on('error', (e) => dropped.push(e.code));
        off();
        w.postMessage('reject');
        const stillWorks = (await l.stats()).samples; // a reported failure is not fatal
        const pending = l.query(1).then(() => 'answered', (e) => e.code);
        w.postMessage('crash');
        await new Promise((r) => setTimeout(r, 300));
        const later = await l.stats().then(() => 'answered', (e) => ({ code: e.code, message: e.message }));
        // A worker whose script throws while loading: createLearner rejects with E_WORKER.
        const broken = hosted(`throw new Error('worker script failed at load');`);
        const atLoad = await createLearner({ features: 2, classes: 2, worker: () => new Worker(broken, { type: 'module' }) }).then(
          () => 'started',
          (e) => ({ code: e.code, message: e.message }),
        );
        return { seen, dropped, stillWorks, pending: await pending, later, atLoad };
      });
      assert.equal(r.stillWorks, 2);
      assert.equal(r.seen.length, 2, JSON.stringify(r.seen));
      assert.deepEqual(r.seen[0], { code: 'E_INTERNAL', message: 'Error: late failure', isError: true });
      assert.equal(r.seen[1].code, 'E_WORKER');
      assert.match(r.seen[1].message, /the learner's worker failed: .*boom from the worker/);
      assert.deepEqual(r.dropped, [], 'an unsubscribed listener hears nothing');
      assert.ok(['answered', 'E_WORKER'].includes(r.pending), r.pending);
      assert.equal(r.later.code, 'E_WORKER', 'calls after the failure reject with it');
      assert.equal(r.atLoad.code, 'E_WORKER');
      assert.match(r.atLoad.message, /worker script failed at load/);
      assert.deepEqual(consoleErrors, []);
      assert.deepEqual(logged, [], 'subscribed errors are not also logged');
    } finally {
      await b.close();
    }
  });
});
