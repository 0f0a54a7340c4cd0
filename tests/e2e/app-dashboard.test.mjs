// The dashboard in Debian's Chromium, on real IndexedDB and the real worker: the
// cross-validated confusion matrix after labels of several classes, the stop suggestion,
// the learner's settings (changed by keyboard, applied to the learner at once, kept
// across a reload), and the model export, read back outside the browser (Node loads the
// same wasm core) and checked against the app's own held-out accuracy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { unzipSync, strFromU8 } from 'fflate';
import { currentSample, launch, pressForNext, serve, until } from './harness.mjs';
import { demoProject } from './app-fixtures.mjs';

let server;
before(async () => {
  server = await serve();
});
after(() => server?.stop());

const press = (page, key) => pressForNext(page, key);


describe('dashboard', () => {
  test('confusion matrix, stop suggestion, settings that persist and reach the learner, model export round trip', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      const keys = ['1', '2', '3', '1', '2', '3', '1', '2', '3', '4'];
      for (const k of keys) await press(page, k);

      // Confusion matrix: the class names as header cells, one row per class, counts
      // summing to the number of labels.
      await page.keyboard.press('d');
      await page.waitForSelector('#confusion:not([hidden]) tbody tr');
      await page.waitForFunction((n) => {
        const cells = [...document.querySelectorAll('#confusion tbody td')].map((td) => Number(td.textContent));
        return cells.reduce((a, c) => a + c, 0) === n;
      }, keys.length);
      const cols = await page.$$eval('#confusion thead th[scope=col]', (t) => t.map((x) => x.textContent));
      assert.deepEqual(cols, (await demoProject(page)).classNames);
      assert.equal(await page.locator('#confusion tbody th[scope=row]').count(), cols.length);
      assert.match(await page.textContent('#confusion-note'), /\d+ of 10 right/);
      assert.match(await page.textContent('#stop'), /^(Keep labelling|You could stop here): \S/);
      assert.match(await page.textContent('#chart-note'), /Cross-validated estimate: \d+\.\d% ± \d+\.\d%/);
      await page.waitForSelector('#chart canvas');

      // Settings by keyboard: the model menu (one step down: the MLP), the strategy menu
      // (type-ahead to "margin"), the batch size (typed, Enter).
      await page.focus('#set-model');
      await page.keyboard.press('ArrowDown');
      await page.focus('#set-strategy');
      await page.keyboard.type('margin');
      await page.focus('#set-batch');
      await page.keyboard.press('ControlOrMeta+a');
      await page.keyboard.type('5');
      await page.keyboard.press('Enter');
      const want = { model: 'mlp', strategy: 'margin', batchSize: 5 };
      await until(async () => JSON.stringify((await demoProject(page)).settings) === JSON.stringify(want), 'the settings to be stored');
      // Bad input is refused with a reason and changes nothing.
      await page.focus('#set-batch');
      await page.keyboard.press('ControlOrMeta+a');
      await page.keyboard.type('0');
      await page.keyboard.press('Enter');
      assert.match(await page.textContent('#settings-status'), /whole number from 1 to 100; “0” was not applied/);
      assert.deepEqual((await demoProject(page)).settings, want);
      // The learner trains the MLP now and queries by margin: the reason under the next
      // sample says so (auto's reasons start with "auto →").
      await page.waitForFunction(() => /^mlp/.test(document.getElementById('set-trained').textContent));
      await page.keyboard.press('Escape');
      await page.keyboard.press('l');
      await press(page, '2');
      await page.waitForFunction(() => /^Why this one: margin/.test(document.getElementById('reason').textContent));

      // A reload keeps them: the menus show them and the learner runs them.
      await page.reload();
      await currentSample(page);
      await page.keyboard.press('d');
      await page.waitForFunction(() => /^mlp/.test(document.getElementById('set-trained').textContent));
      assert.equal(await page.inputValue('#set-model'), 'mlp');
      assert.equal(await page.inputValue('#set-strategy'), 'margin');
      assert.equal(await page.inputValue('#set-batch'), '5');
      await page.keyboard.press('b');
      await page.waitForSelector('#batch-grid .tile');
      assert.equal(await page.locator('#batch-grid .tile').count(), 5);

      // Model export: the app reads the file back before offering it.
      await page.keyboard.press('d');
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-model')]);
      assert.match(dl.suggestedFilename(), /-model\.zip$/);
      assert.match(await page.textContent('#model-status'), /Read back and checked: identical predictions on 64 samples/);
      const zip = unzipSync(readFileSync(await dl.path()));
      const manifest = JSON.parse(strFromU8(zip['model.json']));
      assert.equal(manifest.format, 'marginalia-model');
      assert.equal(manifest.version, 1);
      assert.equal(manifest.model, 'mlp');
      assert.equal(manifest.features.width, 784);
      assert.equal(manifest.labels, keys.length + 1);
      assert.deepEqual(manifest.classNames, (await demoProject(page)).classNames);

      // Outside the browser: Node loads the same wasm core and the model file, and scores
      // the held-out set. The app measured its model on the same set after its last
      // retrain and shows it (one decimal of a percentage of 300 samples: one count);
      // the exported model must score exactly that.
      const appAccuracy = (await page.textContent('#accuracy')).trim();
      const test = await page.evaluate(
        () =>
          new Promise((resolve) => {
            const o = indexedDB.open('marginalia');
            o.onsuccess = () => {
              const q = o.result.transaction('samples').objectStore('samples').getAll();
              q.onsuccess = () => {
                o.result.close();
                resolve(q.result.filter((s) => s.project === 'demo' && s.split === 'test').map((s) => ({ truth: s.truth, pixels: Array.from(s.pixels) })));
              };
            };
          }),
      );
      const core = await import('../../www/pkg/scalar/marginalia.js');
      core.initSync({ module: readFileSync(new URL('../../www/pkg/scalar/marginalia_bg.wasm', import.meta.url)) });
      const model = core.TrainedModel.fromBytes(zip['model.bin']);
      assert.equal(model.kind, 'mlp');
      assert.equal(model.width, 784);
      const x = new Float32Array(test.length * 784);
      test.forEach((s, i) => s.pixels.forEach((v, j) => (x[i * 784 + j] = v / 255)));
      const p = model.predictProba(x);
      const k = model.nClasses;
      let right = 0;
      test.forEach((s, i) => {
        let best = 0;
        for (let c = 1; c < k; c++) if (p[i * k + c] > p[i * k + best]) best = c;
        right += best === s.truth ? 1 : 0;
      });
      assert.equal(test.length, 300);
      assert.equal(`${((right / test.length) * 100).toFixed(1)}%`, appAccuracy);
      // A file that is not a model is refused with a reason.
      assert.throws(() => core.TrainedModel.fromBytes(zip['model.json']), /not a Marginalia model file/);
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
    }
  });
});
