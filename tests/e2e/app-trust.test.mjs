// Labels a person can trust (issue 10), in Debian's Chromium: each point a new user ran
// into, as a test that failed before its fix: held keys, digit-named classes, another
// project's sample on screen, fast labelling switching active learning off, calibrated
// confidence, the read-only tab going stale, buttons that jump, and the small honest words.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentSample, launch, pressForNext, serve, until } from './harness.mjs';
import { fashion, greyPng, importData, openProjectId, pickData, readStore, rgbPng } from './app-fixtures.mjs';

let server;
before(async () => {
  server = await serve();
});
after(() => server?.stop());

const tmp = mkdtempSync(join(tmpdir(), 'marginalia-trust-'));
function file(name, text) {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

/** A wine-like table: three numeric columns and classes named "0", "1", "2". */
function wineCsv(rows = 45) {
  const lines = ['alcohol,acid,ash,class'];
  for (let i = 0; i < rows; i++) {
    const c = i % 3;
    lines.push(`${(12 + c + (i % 5) * 0.1).toFixed(2)},${(1.5 + c * 0.7 + (i % 4) * 0.05).toFixed(2)},${(2 + (i % 7) * 0.1).toFixed(2)},${c}`);
  }
  return lines.join('\n');
}

/** The demo's key for the true class of sample `id` (the number row: class 10 is on 0). */
const truthKey = (truth, id) => (truth[id] === 9 ? '0' : String(truth[id] + 1));
const labelsOf = async (page, project) => (await readStore(page, 'labels')).filter((l) => l.project === project);
const keyNote = (page) => page.textContent('#key-note');

describe('labels a person can trust', () => {
  test('a held key labels once: its auto-repeats never label, skip or undo', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      const first = await currentSample(page);
      // Playwright sends a keydown with repeat: true for each down() of a key already down.
      await page.keyboard.down('1');
      for (let i = 0; i < 6; i++) await page.keyboard.down('1');
      await page.keyboard.up('1');
      await until(async () => (await labelsOf(page, 'demo')).length >= 1, 'the first label');
      await new Promise((r) => setTimeout(r, 500));
      const labels = await labelsOf(page, 'demo');
      assert.deepEqual(labels.map((l) => [l.sampleId, l.label]), [[first, 0]], 'one press, one label, on the sample that was on screen');
      // A held Space skips once; a held Backspace undoes once.
      const second = await currentSample(page);
      await page.keyboard.down(' ');
      for (let i = 0; i < 4; i++) await page.keyboard.down(' ');
      await page.keyboard.up(' ');
      await page.waitForFunction((s) => document.getElementById('labeler').dataset.sampleId !== String(s), second);
      const third = await currentSample(page);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await currentSample(page), third, 'one skip only');
      await page.keyboard.down('Backspace');
      for (let i = 0; i < 4; i++) await page.keyboard.down('Backspace');
      await page.keyboard.up('Backspace');
      await page.waitForFunction((s) => document.getElementById('labeler').dataset.sampleId === String(s), second);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await labelsOf(page, 'demo')).length, 1, 'the undo took back the skip only, not the label');
      // Undo says what it undid.
      assert.match(await keyNote(page), /Undone: the skip of /);
    } finally {
      await b.close();
    }
  });

  test('classes named "0", "1", "2" sit on keys 0, 1, 2; a numeric table imports as a table; the footer names its data', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      await page.keyboard.press('p');
      await pickData(page, file('wine.csv', wineCsv()));
      assert.equal(await page.inputValue('#data-kind'), 'table', 'numbers import as a table (readable rows), not as embeddings');
      await importData(page, { label: 'class', labels: 'classes' });
      const id = await openProjectId(page);
      await page.keyboard.press('l');
      const project = (await readStore(page, 'projects')).find((p) => p.id === id);
      // Each button shows the digit of its own name.
      const buttons = await page.$$eval('#classes button', (bs) => bs.map((x) => x.textContent.trim().replace(/\s+/g, ' ')));
      for (const name of ['0', '1', '2']) assert.ok(buttons.includes(`${name} ${name}`), `class ${name} on key ${name}: ${buttons}`);
      const sample = await pressForNext(page, '1', { failOnAlert: true });
      const stored = (await labelsOf(page, id)).find((l) => l.sampleId === sample);
      assert.equal(project.classNames[stored.label], '1', 'pressing 1 stores class "1"');
      await pressForNext(page, '0', { failOnAlert: true });
      assert.equal(project.classNames[(await labelsOf(page, id)).find((l) => l.sampleId !== sample).label], '0');
      // 3 is no class here: said, nothing stored.
      await page.keyboard.press('3');
      await page.waitForSelector('#alert:not([hidden])');
      assert.match(await page.textContent('#alert'), /No class is on key 3/);
      assert.equal((await labelsOf(page, id)).length, 2);
      const footer = await page.textContent('footer');
      assert.match(footer, /wine\.csv/);
      assert.doesNotMatch(footer, /Fashion-MNIST/);
    } finally {
      await b.close();
    }
  });

  test('only the open project is on screen: a finished project shows an empty state, and no key acts while a project opens', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      await page.keyboard.press('p');
      await pickData(page, file('tiny.csv', 'text,label\nfirst tweet here,a\nsecond tweet here,b\nthird one,a\nfourth one,b\n'));
      await importData(page, { kind: 'text', label: 'label', labels: 'classes' });
      const tiny = await openProjectId(page);
      // The projects page describes the project just made, marked open, with its labels.
      await page.waitForSelector(`li[data-project-id="${tiny}"][aria-current="true"]`);
      assert.match(await page.textContent(`li[data-project-id="${tiny}"]`), /0 labels\) open/);
      await page.keyboard.press('l');
      for (let i = 0; i < 4; i++) await pressForNext(page, i % 2 ? '2' : '1', { failOnAlert: true }).catch(() => {});
      await page.waitForFunction(() => !document.getElementById('empty').hidden);
      assert.match(await page.textContent('#empty'), /Every sample of “tiny” is labelled \(4\)/);
      assert.equal(await page.isVisible('#sample-text'), false, 'no text of this project stays under the message');
      assert.equal(await page.isVisible('#sample'), false, 'nor another project’s image');
      // Open the demo: while it opens, a key does nothing (and says why); then only the demo shows.
      // (The projects list's Open button, pressed from the label view, where keys label.)
      await page.evaluate(() => {
        document.querySelector('li[data-project-id="demo"] button').click();
        document.body.dispatchEvent(new KeyboardEvent('keydown', { key: '1', bubbles: true }));
      });
      await page.waitForFunction(() => document.getElementById('labeler').dataset.project === 'demo' && document.getElementById('labeler').dataset.sampleId);
      assert.match(await keyNote(page), /Key 1 did nothing: the project is still opening/);
      assert.equal((await labelsOf(page, 'demo')).length, 0, 'the key pressed while opening labelled nothing');
      assert.equal(await page.isVisible('#sample'), true);
      assert.equal(await page.isVisible('#sample-text'), false, 'no tweet under the demo’s image');
      assert.equal(await page.isVisible('#empty'), false);
      assert.equal(await page.locator('#classes button').count(), 10);
      await page.keyboard.press('p');
      await page.waitForSelector('li[data-project-id="demo"][aria-current="true"]');
    } finally {
      await b.close();
    }
  });

  test('fast labelling (a key every 25 ms) keeps the learner training: rounds keep coming and picks stay active', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      const { labels: truth } = fashion();
      const rounds = [];
      // Press the true class of whatever is on screen, 25 ms apart, for 8 s.
      const end = Date.now() + 8000;
      while (Date.now() < end) {
        const id = Number(await page.getAttribute('#labeler', 'data-sample-id'));
        await page.keyboard.press(truthKey(truth, id));
        rounds.push(Number((await page.getAttribute('#scoring', 'data-labelled')) || 0));
        await new Promise((r) => setTimeout(r, 25));
      }
      const stored = (await labelsOf(page, 'demo')).length;
      assert.ok(stored >= 60, `labelled ${stored}`);
      // While labelling went on, rounds kept coming: the newest round seen in the last
      // second of the burst had trained on most of the labels (not 0: no model, as before).
      const lastSeen = Math.max(...rounds.slice(-20));
      assert.ok(lastSeen >= stored - 40, `last round trained on ${lastSeen} of ${stored} labels during the burst`);
      assert.doesNotMatch(await page.textContent('#scoring'), /no model yet/);
      // After a pause the learner has caught up with every label.
      await page.waitForFunction((n) => Number(document.getElementById('scoring').dataset.labelled) >= n, stored, { timeout: 30_000 });
      assert.match(await page.textContent('#guess'), /Model's guess: .+ \(\d+% sure\)/);
    } finally {
      await b.close();
    }
  });

  test('the confidence is calibrated on the cross-validated predictions, and the dashboard says what the estimate is', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      const { labels: truth } = fashion();
      for (let i = 0; i < 30; i++) {
        const id = await currentSample(page);
        await pressForNext(page, truthKey(truth, id), { failOnAlert: true });
      }
      await page.keyboard.press('d');
      await page.waitForFunction(() => /T = \d\.\d\d/.test(document.getElementById('calibration-note').textContent), null, { timeout: 60_000 });
      const note = await page.textContent('#calibration-note');
      assert.match(note, /expected calibration error is [\d.]+% as the model gives them and [\d.]+% calibrated/);
      const t = Number(/T = (\d\.\d\d)/.exec(note)[1]);
      assert.ok(t > 0 && t <= 1, `the shown temperature only sharpens: ${t}`);
      assert.match(await page.textContent('#view-dashboard details'), /pessimistic/);
    } finally {
      await b.close();
    }
  });

  test('the read-only tab follows the labelling tab and says why its keys do nothing', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page, context } = b;
      await page.goto(server.url);
      await currentSample(page);
      const other = await context.newPage();
      await other.goto(server.url);
      await other.waitForSelector('#lockbar:not([hidden])');
      for (const k of ['1', '2', '3']) await pressForNext(page, k, { failOnAlert: true });
      await other.waitForFunction(() => document.getElementById('label-count').textContent === '3', null, { timeout: 10_000 });
      // It shows the sample the labelling tab shows.
      await other.waitForFunction((id) => document.getElementById('labeler').dataset.sampleId === String(id), await currentSample(page));
      await other.keyboard.press('4');
      await other.waitForFunction(() => /did nothing: this project is being labelled in another tab/.test(document.getElementById('key-note').textContent));
      assert.equal((await labelsOf(page, 'demo')).length, 3);
      await other.close();
    } finally {
      await b.close();
    }
  });

  test('the class buttons stay put from one sample to the next, whatever the text', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      const long = 'https://example.org/' + 'a-very-long-path-segment-without-spaces'.repeat(8);
      const rows = ['text,label'];
      for (let i = 0; i < 32; i++) rows.push(`"${i % 3 === 0 ? long : i % 3 === 1 ? 'short' : 'a line of words '.repeat(30)} ${i}",${i % 2 ? 'news' : 'other'}`);
      await page.keyboard.press('p');
      await pickData(page, file('tweets.csv', rows.join('\n')));
      await importData(page, { kind: 'text', label: 'label', labels: 'classes' });
      await page.keyboard.press('l');
      await page.evaluate(() => {
        window.__shifts = [];
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) for (const s of e.sources ?? []) if (s.node && s.node.closest?.('#classes')) window.__shifts.push(e.value);
        }).observe({ type: 'layout-shift', buffered: false });
      });
      const rects = (p) => p.$$eval('#classes button', (bs) => bs.map((x) => JSON.stringify(x.getBoundingClientRect())).join(';'));
      const places = new Set();
      for (let i = 0; i < 30; i++) {
        places.add(await rects(page));
        await pressForNext(page, i % 2 ? '1' : '2', { failOnAlert: true });
      }
      assert.equal(places.size, 1, `the buttons sat in ${places.size} places: ${[...places].join('\n')}`);
      assert.deepEqual(await page.evaluate(() => window.__shifts), [], 'no layout shift of the buttons');
    } finally {
      await b.close();
    }
  });

  test('images: colour photos stay in colour; a 1×1 image and a broken one are skipped in words; imported labels are not “last decisions”', async () => {
    const { images } = fashion();
    const dir = join(tmp, 'photos');
    for (const cls of ['red', 'blue']) mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < 6; i++) {
      for (const [cls, ch] of [['red', 0], ['blue', 2]]) {
        const px = new Uint8Array(28 * 28 * 3);
        for (let j = 0; j < 784; j++) px[j * 3 + ch] = 55 + (images[i][j] >> 1);
        writeFileSync(join(dir, cls, `${cls}-${i}.png`), rgbPng(px, 28, 28));
      }
    }
    // One photo outside the class folders: imported unlabelled, so it is the one shown.
    const loose = new Uint8Array(28 * 28 * 3);
    for (let j = 0; j < 784; j++) loose[j * 3 + 1] = 40 + (images[7][j] >> 1);
    writeFileSync(join(dir, 'loose.png'), rgbPng(loose, 28, 28));
    writeFileSync(join(dir, 'red', 'pixel.png'), greyPng(new Uint8Array([7]), 1, 1));
    writeFileSync(join(dir, 'blue', 'broken.png'), Buffer.from('not a png at all'));
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      await page.keyboard.press('p');
      await page.selectOption('#import-size', '28');
      await page.selectOption('#import-features', 'pixels'); // these tests are about pixels, not the default
      await page.selectOption('#import-folders', 'labels');
      await page.setInputFiles('#pick-folder', dir);
      await page.waitForFunction(() => /Imported \d+ images/.test(document.getElementById('import-report').textContent), null, { timeout: 60_000 });
      const report = await page.textContent('#import-report');
      assert.match(report, /pixel\.png: 1×1 pixels: too small to show anything/);
      assert.match(report, /broken\.png: not a readable image: the browser could not decode it/);
      assert.doesNotMatch(report, /Error\b/, 'no exception names in the reasons');
      await until(async () => (await openProjectId(page)) !== 'demo', 'the imported project to open');
      const id = await openProjectId(page);
      const project = (await readStore(page, 'projects')).find((p) => p.id === id);
      assert.equal(project.channels, 3, 'colour kept');
      // Imported (folder) labels are not decisions made here.
      await page.keyboard.press('l');
      await currentSample(page);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await page.locator('#decisions li').count(), 0);
      assert.equal((await labelsOf(page, id)).length, 12);
      // The canvas shows colour.
      const colour = await page.evaluate(() => {
        const c = document.getElementById('sample');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) return true;
        return false;
      });
      assert.equal(colour, true);
    } finally {
      await b.close();
    }
  });

  test('“Why this one” survives a reload', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      for (const k of ['1', '2', '8', '0', '1', '2', '3']) await pressForNext(page, k, { failOnAlert: true });
      await page.waitForFunction(() => /^Why this one: /.test(document.getElementById('reason').textContent));
      // Let the commit of the sample on screen (with its reason) land.
      await new Promise((r) => setTimeout(r, 300));
      const before = { id: await currentSample(page), reason: await page.textContent('#reason') };
      await page.reload();
      await page.waitForFunction(() => document.getElementById('labeler').getAttribute('aria-busy') === 'false');
      assert.equal(await currentSample(page), before.id);
      assert.equal(await page.textContent('#reason'), before.reason);
    } finally {
      await b.close();
    }
  });
});
