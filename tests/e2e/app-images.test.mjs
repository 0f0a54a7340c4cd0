// The full image flow, in Debian's Chromium with its real IndexedDB: import a folder of
// PNGs (3 class subfolders, a corrupt and an empty file, script-injection names), label
// 20 by keyboard, undo one, reload and resume, export (CSV, images zip), re-import the
// zip and compare. Every request is recorded: none may leave 127.0.0.1. User-supplied
// names must show as text, never run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { currentSample, isLocal, launch, pressForNext, serve } from './harness.mjs';
import { fashion, greyPng, imageFolder, openProjectId, readStore } from './app-fixtures.mjs';

const XSS_CLASS = '<img src=x onerror=window.__xss=1>';
const XSS_FILE = '<svg onload=window.__xss=2>.png';

let server;
before(async () => {
  server = await serve();
});
after(() => server?.stop());

const labelCurrent = (page, key) => pressForNext(page, key, { failOnAlert: true });

/** A project's labels as {file name → class name}, read from IndexedDB. */
async function labelsByFile(page, projectId) {
  const projects = await readStore(page, 'projects');
  const p = projects.find((x) => x.id === projectId);
  const samples = (await readStore(page, 'samples')).filter((s) => s.project === projectId);
  const labels = (await readStore(page, 'labels')).filter((l) => l.project === projectId);
  const byId = new Map(samples.map((s) => [s.id, s]));
  const out = new Map();
  for (const l of labels) out.set(byId.get(l.sampleId).source.split('/').pop(), p.classNames[l.label]);
  return { out, samples, labels, project: p };
}

describe('image projects', () => {
  test('import a folder, label 20 by keyboard, undo, reload, export, re-import: same labels; nothing leaves 127.0.0.1; names stay text', async () => {
    const { images } = fashion();
    const fx = imageFolder({ 'T-shirt': 0, Trouser: 1, [XSS_CLASS]: 7 }, 10, {
      'bad.png': Buffer.from('this is not a png at all'),
      'empty.png': Buffer.alloc(0),
      [`${XSS_CLASS}/${XSS_FILE}`]: greyPng(images[3], 28, 28),
    });
    const b = await launch();
    const dialogs = [];
    try {
      const { page, requests } = b;
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(server.url);
      await currentSample(page); // the demo opens first
      await page.keyboard.press('p');
      await page.fill('#import-name', `${XSS_CLASS} photos`);
      await page.selectOption('#import-size', '28');
      await page.selectOption('#import-features', 'pixels'); // these tests are about pixels, not the default
      await page.setInputFiles('#pick-folder', fx.root);
      await page.waitForFunction(() => /Imported \d+ images/.test(document.getElementById('import-report')?.textContent ?? ''), null, { timeout: 60_000 });
      const report = await page.textContent('#import-report');
      assert.match(report, /Imported 31 images/);
      assert.match(report, /Skipped 2 file\(s\)/);
      assert.match(report, /photos\/bad\.png: not a readable image/);
      assert.match(report, /photos\/empty\.png: empty file \(0 bytes\)/);
      // The report shows before the new project has finished opening: wait for it.
      let projectId = await openProjectId(page);
      for (let i = 0; i < 300 && projectId === 'demo'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        projectId = await openProjectId(page);
      }
      assert.notEqual(projectId, 'demo');

      // Label 20 by keyboard; each label is stored before the next sample shows.
      await page.waitForFunction(() => /photos$/.test(document.getElementById('project-title')?.textContent ?? ''));
      await page.keyboard.press('Escape'); // leave the name field: keys are shortcuts again
      await page.keyboard.press('l');
      const order = [];
      for (let i = 0; i < 20; i++) {
        const key = String((i % 3) + 1);
        const id = await labelCurrent(page, key);
        const stored = (await readStore(page, 'labels')).find((l) => l.project === projectId && l.sampleId === id);
        assert.ok(stored, `label of sample ${id} stored before the next sample showed`);
        assert.equal(stored.label, i % 3);
        order.push(id);
      }
      assert.equal(new Set(order).size, 20);
      assert.equal(await page.textContent('#label-count'), '20');

      // Undo: the last labelled sample comes back, its label is gone from storage.
      await page.keyboard.press('Backspace');
      await page.waitForFunction((id) => document.getElementById('labeler')?.dataset.sampleId === String(id), order[19]);
      assert.equal(await page.textContent('#label-count'), '19');
      assert.ok(!(await readStore(page, 'labels')).some((l) => l.project === projectId && l.sampleId === order[19]));
      await labelCurrent(page, '3');
      // The list is redrawn after the label is committed: wait for it rather than race it.
      await page.waitForFunction(() => document.querySelectorAll('#decisions li').length === 20, null, { timeout: 10_000 })
        .catch(() => {});
      assert.equal(await page.locator('#decisions li').count(), 20, 'the last 20 decisions are listed');

      const shown = await currentSample(page);
      await page.reload();
      assert.equal(await currentSample(page), shown, 'reload resumes on the same sample');
      assert.equal(await page.textContent('#label-count'), '20');

      // Names are text: the class button shows the payload literally, nothing ran.
      const buttons = await page.locator('#classes button').allTextContents();
      assert.ok(buttons.some((t) => t.includes(XSS_CLASS)), `class buttons: ${buttons.join(' | ')}`);
      assert.equal(await page.evaluate(() => window.__xss), undefined);
      assert.equal(await page.locator('#classes img, #decisions img, #project-title img, #labeler svg').count(), 0);

      // Export: CSV and the images zip, as downloads made in the page.
      const before = await labelsByFile(page, projectId);
      assert.equal(before.out.size, 20);
      await page.keyboard.press('p');
      const [csvDl] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
      const csv = readFileSync(await csvDl.path(), 'utf8').trim().split('\r\n');
      assert.equal(csv[0], 'sample_id,source,label,labelled_at');
      assert.equal(csv.length, 21);
      const [zipDl] = await Promise.all([page.waitForEvent('download'), page.click('#export-zip')]);
      const zipPath = join(fx.dir, 'export.zip');
      await zipDl.saveAs(zipPath);

      // Re-import the zip with its folders as labels: the same file → class pairs.
      await page.selectOption('#import-folders', 'labels');
      await page.selectOption('#import-size', '28'); // the page was reloaded: options reset
      await page.selectOption('#import-features', 'pixels'); // these tests are about pixels, not the default
      await page.fill('#import-name', 'round trip');
      await page.keyboard.press('Escape');
      await page.setInputFiles('#pick-files', zipPath);
      await page.waitForFunction(() => /round trip/.test(document.getElementById('project-title')?.textContent ?? ''), null, { timeout: 60_000 });
      const againId = await openProjectId(page);
      const again = await labelsByFile(page, againId);
      // Folder and file names in the zip are made safe on every system (no < > : " / \\ | ? *).
      const safe = (n) => n.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_');
      assert.deepEqual([...again.out].sort(), [...before.out].map(([f, c]) => [safe(f), safe(c)]).sort());
      // Pixels survive the trip too (PNG is lossless and the size is the same).
      const px = (r) => new Map(r.samples.map((s) => [s.source.split('/').pop(), Buffer.from(Object.values(s.pixels)).toString('hex')]));
      const a = px(before);
      const aSafe = new Map([...a].map(([n, h]) => [safe(n), h]));
      for (const [name, hex] of px(again)) assert.ok(hex === aSafe.get(name), `pixels of ${name} differ after the round trip`);

      assert.equal(await page.evaluate(() => window.__xss), undefined);
      assert.deepEqual(dialogs, []);
      const outside = requests.filter((u) => !isLocal(u));
      assert.deepEqual(outside, [], `requests left 127.0.0.1: ${outside.join(', ')}`);
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
      rmSync(fx.dir, { recursive: true, force: true });
    }
  });

  test('drag and drop of image files imports them; an unreadable one is reported; no folders, no classes yet', async () => {
    const { images } = fashion();
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      await page.keyboard.press('p');
      const files = [0, 1, 2].map((i) => [`drop-${i}.png`, greyPng(images[i], 28, 28).toString('base64')]);
      files.push(['broken.gif', Buffer.from('GIF89a broken').toString('base64')]);
      await page.evaluate((files) => {
        const dt = new DataTransfer();
        for (const [name, b64] of files) dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
        document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, files);
      await page.waitForFunction(() => /Imported 3 images/.test(document.getElementById('import-report')?.textContent ?? ''), null, { timeout: 60_000 });
      assert.match(await page.textContent('#import-report'), /broken\.gif: not a readable image/);
      // The report shows before the new project has finished opening: wait for it.
      let id = await openProjectId(page);
      for (let i = 0; i < 300 && id === 'demo'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        id = await openProjectId(page);
      }
      assert.notEqual(id, 'demo');
      const samples = (await readStore(page, 'samples')).filter((s) => s.project === id);
      assert.deepEqual(samples.map((s) => s.source).sort(), ['drop-0.png', 'drop-1.png', 'drop-2.png']);
      // No subfolders: no classes yet; the project says how to add one.
      await page.keyboard.press('Escape');
      await page.keyboard.press('l');
      await page.waitForFunction(() => /no classes yet: press n/.test(document.getElementById('guess')?.textContent ?? ''));
    } finally {
      await b.close();
    }
  });
});
