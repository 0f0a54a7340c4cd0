// Image projects that learn from convolutional (Coates & Ng) features, in Debian's
// Chromium with its real IndexedDB and workers: import 120 Fashion-MNIST PNGs with them,
// label by keyboard, reload (the stored features are used, not recomputed: no featurizer
// worker starts), export the model (model.json records the featurization; Node restores
// the featurizer from the zip and gets the stored features back), back up and restore
// exactly, switch the project to pixels and back keeping the labels, add images (encoded
// with the stored featurizer, the stored features untouched); and a too-small
// import falls back to pixels with the reason, losing nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { currentSample, launch, pressForNext, serve } from './harness.mjs';
import { fashion, greyPng, imageFolder, openProjectId, readStore } from './app-fixtures.mjs';

let server;
before(async () => {
  server = await serve();
});
after(() => server?.stop());

const labelCurrent = (page, key) => pressForNext(page, key, { failOnAlert: true });

/** Wait until an element's text matches; on timeout, say what it said instead. */
async function waitText(page, id, re, timeout = 60_000) {
  try {
    await page.waitForFunction(([i, src]) => new RegExp(src, 's').test(document.getElementById(i)?.textContent ?? ''), [id, re.source], { timeout });
  } catch (e) {
    const alert = await page.textContent('#alert').catch(() => '');
    throw new Error(`#${id} never matched ${re}: it says “${await page.textContent(`#${id}`)}” (alert: “${alert}”)`, { cause: e });
  }
}

/** Wait until the page has switched to a project other than `from`; return its id. */
async function newProject(page, from) {
  for (let i = 0; i < 600; i++) {
    const id = await openProjectId(page);
    if (id !== from) return id;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the new project did not open');
}

/** One project's feature chunks, as plain numbers. */
async function chunksOf(page, project) {
  return (await readStore(page, 'features'))
    .filter((c) => c.project === project)
    .map((c) => ({ start: c.start, rows: c.rows, width: c.width, data: Float32Array.from(Object.values(c.data)) }));
}

/**
 * Open the app, then the Projects view's image import with `name` filled in; returns the
 * list of worker URLs the page starts from then on (to see whether a featurizer ran).
 */
async function openImageImport(page, name) {
  const workers = [];
  page.on('worker', (w) => workers.push(w.url()));
  await page.goto(server.url);
  await currentSample(page);
  await page.keyboard.press('p');
  await page.fill('#import-name', name);
  await page.keyboard.press('Escape');
  return workers;
}

describe('image projects with convolutional features', () => {
  test('import with them, label by keyboard, reload without recomputing, export the model, back up, switch to pixels and back', async () => {
    const fx = imageFolder({ Tshirt: 0, Trouser: 1, Sneaker: 7 }, 40);
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      const workers = await openImageImport(page, 'conv shoes');
      // Every size defaults to pretrained features: the person picks convolutional ones.
      await page.selectOption('#import-size', '28');
      assert.equal(await page.inputValue('#import-features'), 'pretrained');
      await page.selectOption('#import-features', 'coates');
      await page.setInputFiles('#pick-folder', fx.root);
      await page.waitForFunction(() => /Imported \d+ images/.test(document.getElementById('import-report')?.textContent ?? ''), null, { timeout: 120_000 });
      const report = await page.textContent('#import-report');
      assert.match(report, /Imported 120 images/);
      assert.match(report, /Convolutional features: 512 per image, learned from 120 of the images/);
      // The progress went through the encoding stage to the end.
      assert.match(await page.textContent('#import-count'), /encoding the images: 120 \/ 120/);
      const id = await newProject(page, 'demo');
      assert.ok(workers.some((u) => /coates\.worker/.test(u)), `the features were computed in their own worker (workers: ${workers.join(', ')})`);

      // Stored: the settings and the fitted snapshot with the project, 120 × 512 features.
      const project = (await readStore(page, 'projects')).find((p) => p.id === id);
      assert.deepEqual(project.imageFeatures, { kind: 'coates', centroids: 128, patch: 6, patches: 20000, seed: 1, fittedOn: 120 });
      assert.ok(Object.keys(project.featurizer).length > 1000, 'the featurizer snapshot is stored');
      const chunks = await chunksOf(page, id);
      assert.deepEqual(chunks.map((c) => [c.start, c.rows, c.width]), [[0, 120, 512]]);
      assert.ok(chunks[0].data.every(Number.isFinite));
      assert.ok(chunks[0].data.some((v) => Math.abs(v) > 0.5), 'standardized features, not zeros');

      // Label by keyboard: each label stored before the next sample shows.
      await page.waitForFunction(() => /conv shoes$/.test(document.getElementById('project-title')?.textContent ?? ''));
      await page.keyboard.press('l');
      for (let i = 0; i < 12; i++) {
        const sid = await labelCurrent(page, String((i % 3) + 1));
        assert.ok((await readStore(page, 'labels')).some((l) => l.project === id && l.sampleId === sid && l.label === i % 3));
      }
      assert.equal(await page.textContent('#label-count'), '12');

      // Reload: the session resumes on the same sample, from the stored features.
      const shown = await currentSample(page);
      const seen = workers.length;
      await page.reload();
      assert.equal(await currentSample(page), shown, 'reload resumes on the same sample');
      assert.equal(await page.textContent('#label-count'), '12');
      assert.ok(!workers.slice(seen).some((u) => /coates\.worker/.test(u)), 'no features were recomputed on reload');
      assert.deepEqual(await chunksOf(page, id), chunks, 'the stored features are unchanged');

      // The model learns from the features: the exported model reads 512 values per sample,
      // and its zip carries the featurizer, which Node restores to get the same features.
      await page.keyboard.press('d');
      const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('#export-model')]);
      assert.match(await page.textContent('#model-status'), /512 features.*Read back and checked: identical predictions/);
      const zip = unzipSync(readFileSync(await dl.path()));
      const manifest = JSON.parse(strFromU8(zip['model.json']));
      assert.equal(manifest.features.width, 512);
      assert.equal(manifest.features.coates.centroids, 128);
      assert.ok(zip['featurizer.bin'], 'model zip has featurizer.bin');
      const core = await import('../../www/pkg/scalar/marginalia.js');
      core.initSync({ module: readFileSync(new URL('../../www/pkg/scalar/marginalia_bg.wasm', import.meta.url)) });
      const samples = (await readStore(page, 'samples')).filter((s) => s.project === id).sort((a, c) => a.id - c.id);
      const grey = new Uint8Array(samples.length * 784);
      samples.forEach((s, i) => grey.set(Object.values(s.pixels), i * 784));
      const again = core.CoatesFeaturizer.restore(zip['featurizer.bin']).transform(grey);
      let worst = 0;
      for (let i = 0; i < again.length; i++) worst = Math.max(worst, Math.abs(again[i] - chunks[0].data[i]));
      assert.ok(worst < 1e-3, `features from the exported featurizer differ from the stored ones by up to ${worst}`);
      const model = core.TrainedModel.fromBytes(zip['model.bin']);
      assert.equal(model.width, 512);
      assert.equal(model.predictProba(again.subarray(0, 512)).length, 3);

      // Backup and restore: the same settings, snapshot, features and labels.
      await page.keyboard.press('p');
      const [bk] = await Promise.all([page.waitForEvent('download'), page.click('#export-backup')]);
      await page.setInputFiles('#restore', await bk.path());
      await page.waitForSelector('#notice:not([hidden])');
      assert.match(await page.textContent('#notice'), /Restored .*: 120 samples, 12 labels/);
      const restored = await newProject(page, id);
      const projects = await readStore(page, 'projects');
      const r = projects.find((p) => p.id === restored);
      const a = projects.find((p) => p.id === id);
      assert.deepEqual(r.imageFeatures, a.imageFeatures);
      assert.deepEqual(Object.values(r.featurizer), Object.values(a.featurizer));
      assert.deepEqual(await chunksOf(page, restored), chunks, 'restored features are bit for bit the same');
      await currentSample(page);

      // Back on the first project: switch to raw pixels (labels kept, features gone), then
      // back to convolutional features (recomputed from the stored images, same numbers).
      await page.click(`li[data-project-id="${id}"] button[aria-label^="Open"]`);
      await page.waitForFunction((pid) => document.querySelector(`li[data-project-id="${pid}"] button[aria-label^="Open"]`)?.disabled, id);
      await page.waitForSelector('#features-setting:not([hidden])');
      assert.match(await page.textContent('#features-now'), /convolutional features \(512 per image/);
      // The switch offers another kind than the one in use.
      assert.equal(await page.inputValue('#features-choice'), 'pretrained');
      await page.selectOption('#features-choice', 'pixels');
      await page.click('#features-apply');
      await waitText(page, 'features-text', /^Done: the learner now sees raw pixels/);
      assert.deepEqual(await chunksOf(page, id), []);
      const asPixels = (await readStore(page, 'projects')).find((p) => p.id === id);
      assert.ok(!('imageFeatures' in asPixels) && !('featurizer' in asPixels), 'stored as a project that never had them');
      assert.equal((await readStore(page, 'labels')).filter((l) => l.project === id).length, 12);
      await page.keyboard.press('l');
      assert.equal(await page.textContent('#label-count'), '12');
      await labelCurrent(page, '1');
      await page.keyboard.press('p');
      await page.selectOption('#features-choice', 'coates');
      await page.click('#features-apply');
      await waitText(page, 'features-text', /^Done: the learner now sees convolutional/, 120_000);
      const back = await chunksOf(page, id);
      assert.deepEqual(back.map((c) => [c.start, c.rows, c.width]), [[0, 120, 512]]);
      assert.deepEqual(back, chunks, 'the same images and seed give the same features');
      assert.equal((await readStore(page, 'labels')).filter((l) => l.project === id).length, 13);

      // Images added later are encoded with the stored featurizer: the features already
      // stored stay; the new rows are what the exported featurizer gives for them. On the
      // GPU here (?coates=webgpu: SwiftShader, which 'auto' passes over as slower than the
      // CPU), so the rows also show the GPU path agrees with the CPU within 1e-4.
      await page.goto(`${server.url}?coates=webgpu`);
      await currentSample(page);
      await page.keyboard.press('p');
      const { images: all, labels: truth } = fashion();
      const extra = all.filter((_, i) => truth[i] === 9).slice(0, 5);
      const addDir = join(fx.dir, 'more');
      mkdirSync(addDir);
      extra.forEach((px, i) => writeFileSync(join(addDir, `boot-${i}.png`), greyPng(px, 28, 28)));
      await page.setInputFiles('#add-images', extra.map((_, i) => join(addDir, `boot-${i}.png`)));
      await waitText(page, 'features-text', /^Added 5 images \(unlabelled\), encoded with this project's convolutional features in [\d.]+ s on the GPU \(.+\)\.$/, 120_000);
      const grown = await chunksOf(page, id);
      assert.deepEqual(grown.map((c) => [c.start, c.rows, c.width]), [[0, 120, 512], [120, 5, 512]]);
      assert.deepEqual(grown[0], chunks[0]);
      const added = (await readStore(page, 'samples')).filter((x) => x.project === id && x.id >= 120).sort((x, y) => x.id - y.id);
      assert.deepEqual(added.map((x) => x.id), [120, 121, 122, 123, 124]);
      const extraGrey = new Uint8Array(5 * 784);
      extra.forEach((px, i) => extraGrey.set(px, i * 784));
      const expected = core.CoatesFeaturizer.restore(zip['featurizer.bin']).transform(extraGrey);
      worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - grown[1].data[i]));
      assert.ok(worst <= 1e-4, `added images' features (GPU) differ from the CPU featurizer's by up to ${worst}`);
      // The learner has them: the pool grew, the labels stayed.
      await page.keyboard.press('Escape');
      await page.keyboard.press('l');
      assert.equal(await page.textContent('#label-count'), '13');
      await labelCurrent(page, '2');
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
      rmSync(fx.dir, { recursive: true, force: true });
    }
  });

  test('too few images for convolutional features: the import says why and uses pixels; nothing is lost', async () => {
    const fx = imageFolder({ Tshirt: 0, Trouser: 1, Sneaker: 7 }, 10);
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      const workers = await openImageImport(page, 'tiny set');
      await page.selectOption('#import-features', 'coates');
      await page.setInputFiles('#pick-folder', fx.root);
      await page.waitForFunction(() => /Imported \d+ images/.test(document.getElementById('import-report')?.textContent ?? ''), null, { timeout: 60_000 });
      assert.match(
        await page.textContent('#import-report'),
        /Imported 30 images.*Convolutional features were not used: convolutional features are learned from the images themselves and need at least 100; there are 30\. This project uses raw pixels\./s,
      );
      const id = await newProject(page, 'demo');
      assert.ok(!workers.some((u) => /coates\.worker/.test(u)), 'no featurizer was started for an import it cannot serve');
      const p = (await readStore(page, 'projects')).find((x) => x.id === id);
      assert.ok(!p.imageFeatures);
      assert.equal((await readStore(page, 'samples')).filter((s) => s.project === id).length, 30);
      assert.deepEqual(await chunksOf(page, id), []);
      // The project works on pixels; switching it now is refused with the same reason.
      await waitText(page, 'project-title', /^tiny set$/);
      await page.keyboard.press('p');
      await page.waitForSelector('#features-setting:not([hidden])');
      assert.match(await page.textContent('#features-now'), /raw pixels/);
      await page.selectOption('#features-choice', 'coates');
      await page.click('#features-apply');
      await waitText(page, 'features-text', /^The features were not changed: convolutional features .* need at least 100; there are 30/);
      assert.ok(!(await readStore(page, 'projects')).find((x) => x.id === id).imageFeatures);
      await page.keyboard.press('l');
      await currentSample(page);
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
      rmSync(fx.dir, { recursive: true, force: true });
    }
  });
});
