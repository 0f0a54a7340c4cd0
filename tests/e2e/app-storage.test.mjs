// Never lose a label, in Debian's Chromium with its real IndexedDB: the v1 → v2 schema
// upgrade with real data, a full disk, two tabs on one project, backup and restore
// round-trip exact, several projects, and offline use after the first visit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { currentSample, launch, pressForNext, serve } from './harness.mjs';
import { fashion, openProjectId, readStore } from './app-fixtures.mjs';

let server;
before(async () => {
  server = await serve();
});
after(() => server?.stop());

const press = (page, key) => labelCurrent(page, key);
const labelCurrent = (page, key) => pressForNext(page, key);

const strip = (r) => {
  const { project, ...rest } = r;
  return { ...rest, pixels: r.pixels ? Buffer.from(Object.values(r.pixels)).toString('base64') : r.pixels };
};

describe('storage', () => {
  test('a v1 database (the foundation schema) with real data upgrades to v2 (and v3) exactly', async () => {
    const { images, labels } = fashion();
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      // A page of the same origin that is not the app, to write the v1 database by hand.
      await page.goto(`${server.url}NOTICE.md`);
      const v1Labels = [
        { sampleId: 1, label: 0, labelledAt: 1700000000001 },
        { sampleId: 2, label: 5, labelledAt: 1700000000002 },
        { sampleId: 4, label: 9, labelledAt: 1700000000003 },
      ];
      await page.evaluate(
        ({ px, truth, v1Labels }) =>
          new Promise((resolve, reject) => {
            const open = indexedDB.open('marginalia', 1);
            open.onupgradeneeded = () => {
              const db = open.result;
              db.createObjectStore('meta');
              db.createObjectStore('samples', { keyPath: 'id' });
              db.createObjectStore('labels', { keyPath: 'sampleId' });
            };
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
              const db = open.result;
              const tx = db.transaction(['meta', 'samples', 'labels'], 'readwrite');
              const bytes = Uint8Array.from(atob(px), (c) => c.charCodeAt(0));
              for (let i = 0; i < truth.length; i++) {
                tx.objectStore('samples').put({ id: i, pixels: bytes.slice(i * 784, (i + 1) * 784), truth: truth[i], split: i % 10 < 3 && i > 9 ? 'test' : 'pool' });
              }
              for (const l of v1Labels) tx.objectStore('labels').put(l);
              const names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
              tx.objectStore('meta').put({ name: 'Fashion-MNIST 1k (demo)', classNames: names, width: 28, height: 28, count: truth.length }, 'dataset');
              tx.objectStore('meta').put(7, 'current');
              tx.oncomplete = () => {
                db.close();
                resolve();
              };
              tx.onerror = () => reject(tx.error);
            };
          }),
        { px: Buffer.concat(images.map((i) => Buffer.from(i))).toString('base64'), truth: labels, v1Labels },
      );
      await page.goto(server.url);
      assert.equal(await currentSample(page), 7, 'resumes on the sample v1 had on screen');
      assert.equal(await page.textContent('#label-count'), '3');
      assert.equal(await page.evaluate(() => new Promise((r) => { const o = indexedDB.open('marginalia'); o.onsuccess = () => { r(o.result.version); o.result.close(); }; })), 3, 'upgraded through v2 to the current schema');
      const stored = (await readStore(page, 'labels')).sort((a, b) => a.sampleId - b.sampleId);
      assert.deepEqual(stored, v1Labels.map((l) => ({ ...l, project: 'demo' })));
      const samples = await readStore(page, 'samples');
      assert.equal(samples.length, 1000);
      const s5 = samples.find((s) => s.id === 5);
      assert.equal(Buffer.from(Object.values(s5.pixels)).toString('hex'), Buffer.from(images[5]).toString('hex'));
      assert.equal(s5.truth, labels[5]);
      const [project] = await readStore(page, 'projects');
      assert.equal(project.id, 'demo');
      assert.equal(project.classNames.length, 10);
      // The migrated project keeps working: label one more.
      await labelCurrent(page, '2');
      assert.equal((await readStore(page, 'labels')).length, 4);
    } finally {
      await b.close();
    }
  });

  test('a full disk: clear message, a way out (backup export), no half-written label', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      // Chromium's quota is a share of the free disk (gigabytes): filling it for real would
      // make the test slow and machine-dependent. Instead the page's own put() throws the
      // real DOMException a full disk gives, on the *second* write of the label's
      // transaction, so a half-written record would show if the transaction were not
      // aborted as a whole.
      await page.addInitScript(() => {
        const put = IDBObjectStore.prototype.put;
        IDBObjectStore.prototype.put = function (...args) {
          if (window.__diskFull && this.name === 'projects') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          return put.apply(this, args);
        };
      });
      await page.goto(server.url);
      await labelCurrent(page, '1');
      const id = await currentSample(page);
      await page.evaluate(() => (window.__diskFull = true));
      await page.keyboard.press('2');
      await page.waitForSelector('#alert:not([hidden])');
      assert.match(await page.textContent('#alert'), /storage is full.*Nothing was half-written.*Export/s);
      assert.equal(await currentSample(page), id, 'the sample stays on screen');
      assert.equal((await readStore(page, 'labels')).length, 1, 'the failed label is not stored');
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#alert-export')]);
      const zip = readFileSync(await dl.path());
      assert.equal(zip.subarray(0, 2).toString(), 'PK', 'the way out is a backup file');
      await page.evaluate(() => (window.__diskFull = false));
      await labelCurrent(page, '2');
      assert.equal((await readStore(page, 'labels')).length, 2);
    } finally {
      await b.close();
    }
  });

  test('two tabs on one project: the second only shows it and says why; taking over moves writing; closing hands it back', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page, context } = b;
      await page.goto(server.url);
      await labelCurrent(page, '1');
      const page2 = await context.newPage();
      await page2.goto(server.url);
      await currentSample(page2);
      await page2.waitForSelector('#lockbar:not([hidden])');
      assert.match(await page2.textContent('#lockbar'), /open for labelling in another tab/);
      await page2.keyboard.press('3');
      await page2.waitForSelector('#alert:not([hidden])');
      assert.match(await page2.textContent('#alert'), /open in another tab/);
      assert.equal((await readStore(page, 'labels')).length, 1, 'the read-only tab wrote nothing');
      await labelCurrent(page, '4'); // the first tab goes on
      await page2.click('#lock-take');
      await page2.waitForSelector('#lockbar', { state: 'hidden' });
      await page.waitForSelector('#lockbar:not([hidden])');
      assert.equal(await page2.textContent('#label-count'), '2', 'the taking tab reads what the other wrote');
      await labelCurrent(page2, '5');
      await page.keyboard.press('6');
      await page.waitForSelector('#alert:not([hidden])');
      assert.equal((await readStore(page, 'labels')).length, 3);
      // When the labelling tab closes, the waiting tab takes over by itself.
      await page2.close();
      await page.waitForSelector('#lockbar', { state: 'hidden' });
      await page.waitForFunction(() => document.getElementById('label-count')?.textContent === '3');
      await page.click('#alert-close');
      await labelCurrent(page, '7');
      assert.equal((await readStore(page, 'labels')).length, 4);
    } finally {
      await b.close();
    }
  });

  test('backup to one file and restore: round-trip exact; projects renamed, switched, deleted', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      // The browser's own dialogs: only the delete's confirm (rename uses the page's dialog).
      const browserDialogs = [];
      page.on('dialog', (d) => {
        browserDialogs.push(d.type());
        void d.accept();
      });
      await page.goto(server.url);
      for (const k of ['1', '2', '3']) await labelCurrent(page, k);
      await press(page, ' '); // a skip moves the resume point, stored too
      // Let the background work on the demo finish first (the retrain's held-out point and
      // the cross-validated estimate go into the chart's history, written in a pause), so
      // the record compared below is the one backed up.
      for (let t = Date.now(); ; await new Promise((r) => setTimeout(r, 100))) {
        const h = (await readStore(page, 'projects')).find((p) => p.id === 'demo')?.history ?? [];
        if (h.some((e) => e.labels === 3 && e.accuracy != null && e.cv)) break;
        if (Date.now() - t > 30_000) throw new Error(`the demo's history never got its 3-label point: ${JSON.stringify(h)}`);
      }
      await page.keyboard.press('p');
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-backup')]);
      await page.setInputFiles('#restore', await dl.path());
      await page.waitForSelector('#notice:not([hidden])');
      assert.match(await page.textContent('#notice'), /Restored .*: 1000 samples, 3 labels/);
      const restoredId = await openProjectId(page);
      assert.notEqual(restoredId, 'demo');
      const projects = await readStore(page, 'projects');
      const a = projects.find((p) => p.id === 'demo');
      const r = projects.find((p) => p.id === restoredId);
      assert.deepEqual({ ...r, id: 'demo' }, a);
      const samples = await readStore(page, 'samples');
      const pick = (id) => samples.filter((s) => s.project === id).map(strip).sort((x, y) => x.id - y.id);
      assert.deepEqual(pick(restoredId), pick('demo'));
      const labels = await readStore(page, 'labels');
      const lpick = (id) => labels.filter((s) => s.project === id).map(strip).sort((x, y) => x.sampleId - y.sampleId);
      assert.deepEqual(lpick(restoredId), lpick('demo'));
      assert.equal(await currentSample(page), a.current, 'the restored project resumes where the original was');

      // Rename (text, not HTML), switch, delete.
      await page.click(`li[data-project-id="${restoredId}"] button:has-text("Rename")`);
      await page.waitForSelector('#ask[open]');
      await page.fill('#ask-input', 'Renamed <b>demo</b>');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.getElementById('project-title')?.textContent === 'Renamed <b>demo</b>');
      assert.deepEqual(browserDialogs, [], 'rename asks in the page, not with the browser\'s prompt');
      assert.equal(await page.locator('#project-title b').count(), 0);
      await page.click('li[data-project-id="demo"] button:has-text("Open")');
      await page.waitForFunction(() => /demo\)$/.test(document.getElementById('project-title')?.textContent ?? ''));
      await page.click(`li[data-project-id="${restoredId}"] button:has-text("Delete")`);
      await page.waitForFunction((id) => !document.querySelector(`li[data-project-id="${id}"]`), restoredId);
      assert.equal((await readStore(page, 'samples')).length, 1000);
      assert.equal((await readStore(page, 'labels')).length, 3);
    } finally {
      await b.close();
    }
  });

  test('offline after the first visit: the service worker serves the app; labelling goes on', async () => {
    const b = await launch();
    try {
      const { page, context } = b;
      await page.goto(server.url);
      await labelCurrent(page, '1');
      await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
      await page.evaluate(() => navigator.serviceWorker.ready);
      await context.setOffline(true);
      const failed = [];
      page.on('requestfailed', (r) => failed.push(r.url()));
      await page.reload();
      await currentSample(page);
      assert.equal(await page.textContent('#label-count'), '1');
      await labelCurrent(page, '2');
      assert.equal((await readStore(page, 'labels')).length, 2);
      assert.deepEqual(failed, []);
    } finally {
      await b.context.setOffline(false).catch(() => {});
      await b.close();
    }
  });
});
