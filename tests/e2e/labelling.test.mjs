// End to end, in Debian's Chromium: label by keyboard, reload, resume; nothing leaves
// 127.0.0.1; bad input (unknown class key, corrupt record, failed wasm load) is reported
// and costs no label.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { currentSample, isLocal, launch, pressForNext, serve } from './harness.mjs';

let server;
before(async () => {
  server = await serve();
});
after(() => server?.stop());

/** Read every label record straight from IndexedDB (not through the app). */
async function storedLabels(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('marginalia');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const req = db.transaction('labels').objectStore('labels').getAll();
          req.onsuccess = () => {
            db.close();
            resolve(req.result);
          };
          req.onerror = () => reject(req.error);
        };
      }),
  );
}

/** Press a key and wait until a different sample is on screen. */
const labelCurrent = (page, key) => pressForNext(page, key);

describe('labelling loop', () => {
  test('label 5 by keyboard, reload, labels kept and resumed; no request leaves 127.0.0.1', async () => {
    const b = await launch();
    try {
      const { page, requests } = b;
      await page.goto(server.url);
      const labelled = [];
      const keys = ['1', '3', '0', '7', '9'];
      for (const key of keys) {
        const id = await labelCurrent(page, key);
        // The label is in IndexedDB before the next sample is shown.
        const rec = (await storedLabels(page)).find((r) => r.sampleId === id);
        assert.ok(rec, `label of sample ${id} was not stored before moving on`);
        // The number row: key 1 = first class (index 0), …, key 0 = tenth (index 9).
        assert.equal(rec.label, key === '0' ? 9 : Number(key) - 1);
        assert.equal(rec.project, 'demo');
        labelled.push(id);
      }
      assert.equal(new Set(labelled).size, 5, 'five different samples were shown');
      await page.waitForFunction(() => document.getElementById('label-count')?.textContent === '5');
      const shownBeforeReload = await currentSample(page);
      // Held-out accuracy appears once two classes are labelled.
      await page.waitForFunction(() => /%$/.test(document.getElementById('accuracy')?.textContent ?? ''));

      mkdirSync('docs', { recursive: true });
      await page.screenshot({ path: 'docs/screenshot-labelling.png' });

      await page.reload();
      const resumed = await currentSample(page);
      assert.equal(await page.textContent('#label-count'), '5');
      const stored = await storedLabels(page);
      assert.deepEqual(stored.map((r) => r.sampleId).sort((a, b) => a - b), [...labelled].sort((a, b) => a - b));
      assert.ok(!labelled.includes(resumed), `resumed on sample ${resumed}, which is already labelled`);
      assert.equal(resumed, shownBeforeReload, 'reload resumes on the sample that was on screen');

      const outside = requests.filter((u) => !isLocal(u));
      assert.deepEqual(outside, [], `requests left 127.0.0.1: ${outside.join(', ')}`);
      assert.ok(requests.some((u) => u.endsWith('.wasm')), 'the wasm core was requested');
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
    }
  });

  test('a digit key for a class that does not exist shows a clear message and stores nothing', async () => {
    const b = await launch();
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      // Make the demo look like a 3-class project by renaming its classes in storage, the
      // way an imported 3-class dataset would be stored.
      await page.evaluate(
        () =>
          new Promise((resolve, reject) => {
            const open = indexedDB.open('marginalia');
            open.onsuccess = () => {
              const db = open.result;
              const tx = db.transaction(['projects', 'samples'], 'readwrite');
              const store = tx.objectStore('projects');
              const get = store.get('demo');
              get.onsuccess = () => store.put({ ...get.result, classNames: get.result.classNames.slice(0, 3) });
              // Held-out samples of the other classes would be reported as damaged: keep
              // the pool only (a 3-class import has no held-out set either).
              const samples = tx.objectStore('samples');
              const all = samples.getAll();
              all.onsuccess = () => {
                for (const r of all.result) if (r.truth >= 3) samples.put({ ...r, truth: null, split: 'pool' });
              };
              tx.oncomplete = () => {
                db.close();
                resolve();
              };
              tx.onerror = () => reject(tx.error);
            };
          }),
      );
      await page.reload();
      const id = await currentSample(page);
      await page.keyboard.press('7');
      await page.waitForSelector('#alert:not([hidden])');
      assert.match(await page.textContent('#alert'), /Key 7 is for class 7, but this project has 3 classes/);
      assert.equal(await currentSample(page), id, 'the sample stays on screen');
      assert.deepEqual(await storedLabels(page), []);
    } finally {
      await b.close();
    }
  });

  test('a corrupt stored record is reported and skipped; labels survive', async () => {
    const b = await launch();
    try {
      const { page } = b;
      await page.goto(server.url);
      const first = await labelCurrent(page, '2');
      const second = await labelCurrent(page, '5');
      // Corrupt one unlabelled sample's pixels, directly in IndexedDB.
      const victim = await currentSample(page);
      await page.evaluate(
        (victimId) =>
          new Promise((resolve, reject) => {
            const open = indexedDB.open('marginalia');
            open.onsuccess = () => {
              const db = open.result;
              const tx = db.transaction('samples', 'readwrite');
              tx.objectStore('samples').put({ project: 'demo', id: victimId, pixels: 'garbage', truth: 1, split: 'pool', source: null });
              tx.oncomplete = () => {
                db.close();
                resolve();
              };
              tx.onerror = () => reject(tx.error);
            };
          }),
        victim,
      );
      await page.reload();
      const now = await currentSample(page);
      assert.notEqual(now, victim, 'the corrupt sample is not shown');
      const notice = await page.textContent('#notice');
      assert.match(notice, new RegExp(`sample ${victim}: pixels are missing or not bytes`));
      assert.equal(await page.textContent('#label-count'), '2');
      const stored = (await storedLabels(page)).map((r) => r.sampleId).sort((a, b) => a - b);
      assert.deepEqual(stored, [first, second].sort((a, b) => a - b));
    } finally {
      await b.close();
    }
  });

  test('a failed wasm load shows a clear message and keeps stored labels', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page, context } = b;
      await page.goto(server.url);
      await labelCurrent(page, '4');
      await context.route('**/*.wasm', (route) => route.abort());
      await page.reload();
      await page.waitForSelector('#alert:not([hidden])');
      const text = await page.textContent('#alert');
      assert.match(text, /learning engine could not be loaded/);
      assert.match(text, /Your 1 project\(s\) and their labels are safe/);
      await context.unroute('**/*.wasm');
      assert.equal((await storedLabels(page)).length, 1);
    } finally {
      await b.close();
    }
  });
});
