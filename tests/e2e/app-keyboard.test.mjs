// Keyboard only, in Debian's Chromium: the keys of the labelling view (`?`, Space,
// Backspace, `n`, `/`, the number row), the batch view, the dashboard, and an axe-core
// accessibility pass over every view with no serious or critical violation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { currentSample, launch, pressForNext, serve } from './harness.mjs';
import { readStore } from './app-fixtures.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server;
before(async () => {
  server = await serve();
});
after(() => server?.stop());

const press = (page, key) => pressForNext(page, key);

/** axe-core's serious and critical violations on the page as it is now. */
async function axeProblems(page, where) {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern; the
  // page itself never loads axe.
  await page.evaluate(`${AXE}\n;0`);
  assert.equal(await page.evaluate(() => typeof window.axe?.run), 'function', 'axe-core loaded');
  const v = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations.map((x) => ({ id: x.id, impact: x.impact, nodes: x.nodes.map((n) => n.target.join(' ')).slice(0, 3) })));
  return v.filter((x) => x.impact === 'serious' || x.impact === 'critical').map((x) => `${where}: ${x.id} (${x.impact}) at ${x.nodes.join(', ')}`);
}

describe('keyboard', () => {
  test('every labelling action by keyboard; batch view; dashboard; axe finds no serious violation', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      const first = await currentSample(page);
      const problems = [];
      problems.push(...(await axeProblems(page, 'label view')));

      // `?` shows the keys; Escape closes.
      await page.keyboard.press('?');
      await page.waitForSelector('#help[open]');
      assert.match(await page.textContent('#help'), /Backspace.*undo/s);
      problems.push(...(await axeProblems(page, 'keys dialog')));
      await page.keyboard.press('Escape');
      await page.waitForSelector('#help', { state: 'hidden' });

      // Space skips (nothing stored); Backspace brings it back.
      assert.equal(await press(page, ' '), first);
      assert.deepEqual(await readStore(page, 'labels'), []);
      // The decisions list is built just after the next sample shows (off the labelling path).
      await page.waitForFunction(() => /skipped/.test(document.getElementById('decisions').textContent));
      await page.keyboard.press('Backspace');
      await page.waitForFunction((id) => document.getElementById('labeler').dataset.sampleId === String(id), first);

      // Label a few across classes so the model guesses, and says why it asks.
      for (const k of ['1', '2', '8', '0', '1', '2']) await press(page, k);
      await page.waitForFunction(() => /Model's guess: .+ \(\d+% sure\)/.test(document.getElementById('guess').textContent));
      // The sample on screen may have been picked at random before the first fit (and says
      // so); the next one comes from the fitted model's queue and says why.
      await press(page, '3');
      await page.waitForFunction(() => /^Why this one: auto → \S+/.test(document.getElementById('reason').textContent));

      // `n` adds a class while labelling (the 11th: no digit, so the class finder shows).
      await page.keyboard.press('n');
      await page.keyboard.type('Zebra <script>window.__xss=1</script>');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.querySelectorAll('#classes button').length === 11);
      assert.equal(await page.isVisible('#class-find'), true);
      // `/` finds it by name; Enter labels.
      const target = await currentSample(page);
      await page.keyboard.press('/');
      await page.keyboard.type('zeb');
      await page.keyboard.press('Enter');
      await page.waitForFunction((t) => document.getElementById('labeler').dataset.sampleId !== String(t), target);
      const zebra = (await readStore(page, 'labels')).find((l) => l.sampleId === target);
      assert.equal(zebra.label, 10);
      await page.keyboard.press('Escape');
      assert.equal(await page.evaluate(() => window.__xss), undefined);

      // Change an earlier label from the list, by keyboard on its menu (once the list,
      // built after the sample shows, has the newest label at its top).
      await page.waitForFunction((id) => document.querySelector('#decisions li')?.dataset.sampleId === String(id), target);
      const oldest = await page.locator('#decisions li select').last();
      const oldestId = Number(await page.locator('#decisions li').last().getAttribute('data-sample-id'));
      await oldest.focus();
      await page.keyboard.press('ArrowDown');
      await page.waitForFunction(
        (id) => new Promise((r) => { const o = indexedDB.open('marginalia'); o.onsuccess = () => { const q = o.result.transaction('labels').objectStore('labels').get(['demo', id]); q.onsuccess = () => { o.result.close(); r(q.result?.label === 1); }; }; }),
        oldestId,
      );
      await page.keyboard.press('Escape');

      // Batch view: tiles pre-filled with guesses; a class key on a focused tile corrects
      // it; accepted together.
      const before = (await readStore(page, 'labels')).length;
      await page.keyboard.press('b');
      await page.waitForSelector('#batch-grid .tile');
      const tiles = await page.locator('#batch-grid .tile').count();
      assert.equal(tiles, 12);
      const prefilled = await page.$$eval('#batch-grid select', (s) => s.filter((x) => x.value !== '').length);
      assert.equal(prefilled, 12, 'every tile has the model guess filled in');
      problems.push(...(await axeProblems(page, 'batch view')));
      await page.focus('#batch-grid .tile');
      await page.keyboard.press('3');
      const firstTile = Number(await page.getAttribute('#batch-grid .tile', 'data-sample-id'));
      await page.focus('#batch-accept');
      await page.keyboard.press('Enter');
      await page.waitForFunction(
        (want) => new Promise((r) => { const o = indexedDB.open('marginalia'); o.onsuccess = () => { const q = o.result.transaction('labels').objectStore('labels').count(); q.onsuccess = () => { o.result.close(); r(q.result === want); }; }; }),
        before + 12,
      );
      assert.equal((await readStore(page, 'labels')).find((l) => l.sampleId === firstTile).label, 2);

      // Dashboard: labels per class, the accuracy chart, the learner's settings.
      await page.keyboard.press('d');
      await page.waitForSelector('#per-class tbody tr');
      assert.equal(await page.locator('#per-class tbody tr').count(), 11);
      await page.waitForSelector('#chart canvas');
      assert.equal(await page.inputValue('#set-strategy'), 'auto');
      // The axe pass covers the settings form and the confusion matrix too.
      await page.waitForSelector('#confusion:not([hidden]) tbody tr');
      assert.match(await page.textContent('#persisted'), /yes|not granted|unknown/);
      problems.push(...(await axeProblems(page, 'dashboard')));
      await page.keyboard.press('p');
      await page.waitForSelector('#project-list li');
      problems.push(...(await axeProblems(page, 'projects')));
      assert.deepEqual(problems, []);
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
    }
  });
});
