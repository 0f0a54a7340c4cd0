// Image projects that learn from pretrained features (EfficientNet-Lite0, issue 13), in
// Debian's Chromium with its real IndexedDB, workers and service worker: the first page
// load fetches no weights; an import with the default features downloads them once from
// the app's own origin (kept in the service worker's cache), encodes on a pool of workers
// and stores 1,280 values per image, which match the core's encoder run again in Node;
// labelling works; a reload encodes nothing and fetches nothing; the exported model names
// the encoder.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { currentSample, isLocal, launch, pressForNext, serve } from './harness.mjs';
import { greyPng, imageFolder, openProjectId, readStore } from './app-fixtures.mjs';

let server;
before(async () => {
  server = await serve();
});
after(() => server?.stop());

const weightRequests = (requests) => requests.filter((u) => /\/weights\/efficientnet-lite0\.f16\.safetensors/.test(u));

describe('image projects with pretrained features', () => {
  test('downloaded once when needed, encoded on a worker pool, stored, the same as the core computes; reload recomputes nothing', async () => {
    const fx = imageFolder({ Tshirt: 0, Trouser: 1, Sneaker: 7 }, 8);
    const b = await launch();
    try {
      const { page, requests } = b;
      const workers = [];
      page.on('worker', (w) => workers.push(w.url()));
      await page.goto(server.url);
      await currentSample(page);
      assert.deepEqual(weightRequests(requests), [], 'the first page load fetches no weights');

      await page.keyboard.press('p');
      await page.fill('#import-name', 'pretrained shoes');
      await page.keyboard.press('Escape');
      assert.equal(await page.inputValue('#import-features'), 'pretrained', 'pretrained features are the default');
      await page.setInputFiles('#pick-folder', fx.root);
      await page.waitForFunction(() => /Imported \d+ images/.test(document.getElementById('import-report')?.textContent ?? ''), null, { timeout: 180_000 });
      const report = await page.textContent('#import-report');
      assert.match(report, /Imported 24 images/);
      assert.match(report, /Learning from pretrained features \(1,280 per image from efficientnet-lite0\/1 f16 224px.*computed for all 24 images in [\d.]+ s on \d+ CPU workers?, one per core \(the WebGPU adapter is a software one \(.+\), slower than the CPU\)/s);
      assert.match(await page.textContent('#import-count'), /encoding the images: [\d.]+ per second on \d+ cores?: 24 \/ 24/);
      assert.equal(weightRequests(requests).length >= 1, true, 'the weights were fetched');
      assert.ok(requests.every(isLocal), `nothing left the machine: ${requests.filter((u) => !isLocal(u)).join(', ')}`);
      const pool = workers.filter((u) => /encoder-worker/.test(u)).length;
      assert.ok(pool >= 1 && pool <= 3, `one encoder worker per core, at most one per chunk (${pool})`);
      const cached = await page.evaluate(async () => (await (await caches.open('marginalia-weights')).keys()).map((r) => r.url));
      assert.equal(cached.length, 1, 'the service worker keeps the weights for offline use');

      let id;
      for (let i = 0; i < 100 && (!id || id === 'demo'); i++) {
        id = await openProjectId(page);
        await new Promise((r) => setTimeout(r, 100));
      }
      const project = (await readStore(page, 'projects')).find((p) => p.id === id);
      assert.deepEqual(project.imageFeatures, { kind: 'pretrained', encoder: 'efficientnet-lite0/1 f16 224px', size: 224, dim: 1280 });
      const chunks = (await readStore(page, 'features')).filter((c) => c.project === id);
      assert.deepEqual(chunks.map((c) => [c.start, c.rows, c.width]), [[0, 24, 1280]]);
      const stored = Float32Array.from(Object.values(chunks[0].data));

      // The same images through the core's encoder in Node (the scalar build): the stored
      // features are the encoder's (f16-rounded), not something else.
      const core = await import('../../www/pkg/scalar/marginalia.js');
      core.initSync({ module: readFileSync(new URL('../../www/pkg/scalar/marginalia_bg.wasm', import.meta.url)) });
      const samples = (await readStore(page, 'samples')).filter((s) => s.project === id).sort((a, c) => a.id - c.id);
      const per = project.width * project.height * project.channels;
      const pixels = new Uint8Array(samples.length * per);
      samples.forEach((s, i) => pixels.set(Object.values(s.pixels), i * per));
      const enc = new core.ImageEncoder(readFileSync('weights/efficientnet-lite0.f16.safetensors'), 224);
      const again = enc.encode(pixels.subarray(0, 4 * per), project.width, project.height, project.channels);
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < again.length; i++) {
        worst = Math.max(worst, Math.abs(again[i] - stored[i]));
        scale = Math.max(scale, Math.abs(again[i]));
      }
      assert.ok(scale > 0.1 && worst <= 1e-3 * scale, `stored features differ from the core's by up to ${worst} (largest value ${scale})`);

      // Label by keyboard on the new features.
      await page.waitForFunction(() => /pretrained shoes$/.test(document.getElementById('project-title')?.textContent ?? ''));
      await page.keyboard.press('l');
      for (let i = 0; i < 6; i++) await pressForNext(page, String((i % 3) + 1), { failOnAlert: true });
      assert.equal(await page.textContent('#label-count'), '6');

      // Reload: nothing encoded, nothing fetched again.
      const seenWorkers = workers.length;
      const seenWeights = weightRequests(requests).length;
      await page.reload();
      await currentSample(page);
      assert.equal(await page.textContent('#label-count'), '6');
      assert.ok(!workers.slice(seenWorkers).some((u) => /encoder-worker/.test(u)), 'no features were recomputed on reload');
      assert.equal(weightRequests(requests).length, seenWeights, 'no weights were fetched on reload');

      // The exported model names the encoder that makes its features.
      await page.keyboard.press('d');
      const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('#export-model')]);
      const manifest = JSON.parse(strFromU8(unzipSync(readFileSync(await dl.path()))['model.json']));
      assert.equal(manifest.features.width, 1280);
      assert.equal(manifest.features.pretrained.encoder, 'efficientnet-lite0/1 f16 224px');

      // Backup and restore: the settings, features and labels come back as they were.
      await page.keyboard.press('p');
      const [bk] = await Promise.all([page.waitForEvent('download'), page.click('#export-backup')]);
      await page.setInputFiles('#restore', await bk.path());
      await page.waitForSelector('#notice:not([hidden])');
      assert.match(await page.textContent('#notice'), /Restored .*: 24 samples, 6 labels/);
      let restored = id;
      for (let i = 0; i < 100 && restored === id; i++) {
        restored = await openProjectId(page);
        await new Promise((r) => setTimeout(r, 100));
      }
      const rp = (await readStore(page, 'projects')).find((p) => p.id === restored);
      assert.deepEqual(rp.imageFeatures, project.imageFeatures);
      const rc = (await readStore(page, 'features')).filter((c) => c.project === restored);
      assert.deepEqual(Float32Array.from(Object.values(rc[0].data)), stored, 'restored features are bit for bit the same');

      // Back on the first project: images added later are encoded with the same encoder;
      // the features already stored stay as they are.
      await page.click(`li[data-project-id="${id}"] button[aria-label^="Open"]`);
      await page.waitForSelector('#features-setting:not([hidden])');
      assert.match(await page.textContent('#features-now'), /pretrained features \(1,280 per image from efficientnet-lite0/);
      const more = imageFolder({ Bag: 8 }, 2);
      try {
        const files = readdirSync(join(more.root, 'Bag')).map((f) => join(more.root, 'Bag', f));
        await page.setInputFiles('#add-images', files);
        await page.waitForFunction(() => /^Added 2 images \(unlabelled\), encoded with this project's pretrained encoder/.test(document.getElementById('features-text')?.textContent ?? ''), null, { timeout: 120_000 });
      } finally {
        rmSync(more.dir, { recursive: true, force: true });
      }
      const grown = (await readStore(page, 'features')).filter((c) => c.project === id).sort((x, y) => x.start - y.start);
      assert.deepEqual(grown.map((c) => [c.start, c.rows, c.width]), [[0, 24, 1280], [24, 2, 1280]]);
      assert.deepEqual(Float32Array.from(Object.values(grown[0].data)), stored);

      // Switch to raw pixels and back: labels kept, the same features computed again.
      await page.selectOption('#features-choice', 'pixels');
      await page.click('#features-apply');
      await page.waitForFunction(() => /^Done: the learner now sees raw pixels/.test(document.getElementById('features-text')?.textContent ?? ''), null, { timeout: 60_000 });
      await page.selectOption('#features-choice', 'pretrained');
      await page.click('#features-apply');
      await page.waitForFunction(() => /^Done: the learner now sees pretrained features/.test(document.getElementById('features-text')?.textContent ?? ''), null, { timeout: 120_000 });
      const back = (await readStore(page, 'features')).filter((c) => c.project === id);
      assert.deepEqual(back.map((c) => [c.start, c.rows, c.width]), [[0, 26, 1280]]);
      assert.deepEqual(Float32Array.from(Object.values(back[0].data)).subarray(0, 24 * 1280), stored, 'the same images give the same features');
      assert.equal((await readStore(page, 'labels')).filter((l) => l.project === id).length, 6);
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
      rmSync(fx.dir, { recursive: true, force: true });
    }
  });

  test('awkward and broken files: CMYK, 16-bit, transparent, animated, truncated, 50 megapixels, not an image; each encoded or skipped with its name and reason', async () => {
    const bad = join(import.meta.dirname, '..', 'fixtures', 'images-bad');
    const fx = imageFolder({ Tshirt: 0, Trouser: 1 }, 4, {
      'Tshirt/cmyk.jpg': readFileSync(join(bad, 'cmyk.jpg')),
      'Tshirt/grey16.png': readFileSync(join(bad, 'grey16.png')),
      'Trouser/transparent.png': readFileSync(join(bad, 'transparent.png')),
      'Trouser/animated.gif': readFileSync(join(bad, 'animated.gif')),
      'Trouser/truncated.jpg': readFileSync(join(bad, 'truncated.jpg')),
      // 8192 × 6144 grey (50.3 megapixels): 50 MB of pixels, a small file.
      'Tshirt/huge.png': greyPng(new Uint8Array(8192 * 6144).fill(128), 8192, 6144),
      'Tshirt/notes.png': Buffer.from('not an image at all'),
    });
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      await page.keyboard.press('p');
      await page.fill('#import-name', 'awkward');
      await page.keyboard.press('Escape');
      await page.setInputFiles('#pick-folder', fx.root);
      await page.waitForFunction(() => /Imported \d+ images/.test(document.getElementById('import-report')?.textContent ?? ''), null, { timeout: 180_000 });
      const report = await page.textContent('#import-report');
      assert.match(report, /Learning from pretrained features/, report);
      const m = report.match(/Imported (\d+) images/);
      const skippedNames = [...report.matchAll(/([\w.-]+\.(?:png|jpg|gif)): ([^\n]+?)(?=[\w.-]+\.(?:png|jpg|gif):|$)/g)].map((x) => x[1]);
      // The named broken file is skipped with the browser's reason; every other file is in.
      assert.match(report, /notes\.png: not a readable image/);
      const all = ['cmyk.jpg', 'grey16.png', 'transparent.png', 'animated.gif', 'truncated.jpg', 'huge.png', 'notes.png'];
      let id;
      for (let i = 0; i < 100 && (!id || id === 'demo'); i++) {
        id = await openProjectId(page);
        await new Promise((r) => setTimeout(r, 100));
      }
      const samples = (await readStore(page, 'samples')).filter((x) => x.project === id);
      const imported = new Set(samples.map((x) => x.source.split('/').pop()));
      for (const f of all) assert.ok(imported.has(f) !== skippedNames.includes(f), `${f} is either imported or skipped with its reason (report: ${report})`);
      for (const f of ['cmyk.jpg', 'grey16.png', 'transparent.png', 'animated.gif', 'huge.png']) assert.ok(imported.has(f), `${f} decodes in Chromium and is encoded`);
      assert.equal(Number(m[1]), samples.length);
      const chunks = (await readStore(page, 'features')).filter((c) => c.project === id);
      assert.equal(chunks.reduce((a, c) => a + c.rows, 0), samples.length, 'every imported image has its features');
      assert.ok(chunks.every((c) => Object.values(c.data).every(Number.isFinite)));
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
      rmSync(fx.dir, { recursive: true, force: true });
    }
  });

  test('stopping the encoding makes the project with raw pixels; every image is kept', async () => {
    const fx = imageFolder({ Tshirt: 0, Trouser: 1, Sneaker: 7, Bag: 8 }, 60);
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      const workers = [];
      page.on('worker', (w) => workers.push(w.url()));
      await page.goto(server.url);
      await currentSample(page);
      await page.keyboard.press('p');
      await page.fill('#import-name', 'stopped');
      await page.keyboard.press('Escape');
      await page.setInputFiles('#pick-folder', fx.root);
      await page.waitForFunction(() => /encoding the images: [\d.]+ per second/.test(document.getElementById('import-count')?.textContent ?? ''), null, { timeout: 120_000 });
      await page.click('#import-cancel');
      await page.waitForFunction(() => /Imported \d+ images/.test(document.getElementById('import-report')?.textContent ?? ''), null, { timeout: 120_000 });
      const report = await page.textContent('#import-report');
      assert.match(report, /Imported 240 images.*Encoding was stopped, as you asked\. This project uses raw pixels/s);
      assert.ok(await page.isHidden('#import-cancel'));
      let id;
      for (let i = 0; i < 100 && (!id || id === 'demo'); i++) {
        id = await openProjectId(page);
        await new Promise((r) => setTimeout(r, 100));
      }
      const project = (await readStore(page, 'projects')).find((p) => p.id === id);
      assert.ok(!project.imageFeatures, 'a pixel project');
      assert.equal((await readStore(page, 'samples')).filter((x) => x.project === id).length, 240);
      assert.deepEqual((await readStore(page, 'features')).filter((c) => c.project === id), []);
      // The workers were stopped: none is left encoding behind the page's back.
      assert.equal(await page.evaluate(() => document.getElementById('import-count').textContent.includes('240 / 240') && /encoding/.test(document.getElementById('import-count').textContent)), false);
      await page.keyboard.press('l');
      await currentSample(page);
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
      rmSync(fx.dir, { recursive: true, force: true });
    }
  });

  test('?encoder=webgpu: the same features from the GPU path (SwiftShader here), within 1e-3 of the core on the CPU', async () => {
    // Two images: SwiftShader runs the shaders on the CPU, about 8 s per 224 px image here.
    const fx = imageFolder({ Tshirt: 0, Sneaker: 7 }, 1);
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(`${server.url}?encoder=webgpu`);
      await currentSample(page);
      await page.keyboard.press('p');
      await page.fill('#import-name', 'on the gpu');
      await page.keyboard.press('Escape');
      await page.setInputFiles('#pick-folder', fx.root);
      await page.waitForFunction(() => /Imported \d+ images/.test(document.getElementById('import-report')?.textContent ?? ''), null, { timeout: 300_000 });
      const report = await page.textContent('#import-report');
      assert.match(report, /Imported 2 images.*computed for all 2 images in [\d.]+ s on the GPU \(.+\)\./s, report);
      let id;
      for (let i = 0; i < 100 && (!id || id === 'demo'); i++) {
        id = await openProjectId(page);
        await new Promise((r) => setTimeout(r, 100));
      }
      const project = (await readStore(page, 'projects')).find((p) => p.id === id);
      const stored = Float32Array.from(Object.values((await readStore(page, 'features')).find((c) => c.project === id).data));
      const core = await import('../../www/pkg/scalar/marginalia.js');
      core.initSync({ module: readFileSync(new URL('../../www/pkg/scalar/marginalia_bg.wasm', import.meta.url)) });
      const samples = (await readStore(page, 'samples')).filter((s) => s.project === id).sort((a, c) => a.id - c.id);
      const per = project.width * project.height * project.channels;
      const pixels = new Uint8Array(samples.length * per);
      samples.forEach((s, i) => pixels.set(Object.values(s.pixels), i * per));
      const cpu = new core.ImageEncoder(readFileSync('weights/efficientnet-lite0.f16.safetensors'), 224).encode(pixels, project.width, project.height, project.channels);
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < cpu.length; i++) {
        worst = Math.max(worst, Math.abs(cpu[i] - stored[i]));
        scale = Math.max(scale, Math.abs(cpu[i]));
      }
      assert.ok(worst <= 1e-3 * scale, `GPU features differ from the CPU's by up to ${worst} (largest value ${scale})`);
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
      rmSync(fx.dir, { recursive: true, force: true });
    }
  });
});
