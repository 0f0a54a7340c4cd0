// The playground in Chromium: ten steps under every strategy the core offers, the learning
// curves and the queried points change, and screenshots of the heat map pass a few pixel
// checks (it exists, and differs between strategies); the student can be the oracle.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, serve } from './harness.mjs';
import { decodePng } from '../package/png.mjs';

let server;
before(async () => {
  server = await serve();
});
after(() => server?.stop());

const snapshot = (page) => page.evaluate(() => window.playground.snapshot());

/** console.error messages, which the package uses for errors nobody subscribed to. */
function consoleErrorsOf(page) {
  const seen = [];
  page.on('console', (m) => m.type() === 'error' && seen.push(m.text()));
  return seen;
}

/** Wait until the playground has finished everything queued and shows `steps` rounds. */
async function settled(page, steps) {
  await page.waitForFunction((n) => document.body.dataset.busy === 'false' && document.body.dataset.steps === String(n), steps, { timeout: 30_000 });
  assert.equal(await page.locator('#alert').isHidden(), true, `the playground reported: ${await page.locator('#alert').textContent()}`);
}

/** Heat-map pixels on a 24 × 24 lattice of the canvas screenshot, as [r, g, b]. */
function lattice(png) {
  const out = [];
  for (let j = 0; j < 24; j++) for (let i = 0; i < 24; i++) out.push(png.pixel(Math.floor(((i + 0.5) * png.width) / 24), Math.floor(((j + 0.5) * png.height) / 24)).slice(0, 3));
  return out;
}

describe('playground', () => {
  test('ten steps under each strategy: curves grow, queried points move, heat maps exist and differ', async () => {
    const b = await launch();
    try {
      const { page, consoleErrors } = b;
      const logged = consoleErrorsOf(page);
      await page.goto(`${server.url}playground/index.html`);
      await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
      const strategies = await page.evaluate(() => window.playground.strategies());
      assert.ok(strategies.includes('margin') && strategies.includes('random'), `strategies from the core: ${strategies}`);
      const maps = {};
      for (const strategy of strategies) {
        await page.selectOption('#strategy', strategy);
        await page.click('#reset');
        await settled(page, 0);
        assert.equal(await page.textContent('#explain-name'), strategy);
        assert.ok((await page.textContent('#explain-formula')).length > 5, 'a formula is shown');
        const start = await snapshot(page);
        const queuedSets = new Set();
        for (let i = 1; i <= 10; i++) {
          await page.click('#step');
          await settled(page, i);
          const s = await snapshot(page);
          queuedSets.add(JSON.stringify(s.sides[0].queued.map((q) => q.index)));
          assert.equal(s.sides[0].labelled, s.sides[1].labelled, 'both sides spend the same budget');
        }
        const end = await snapshot(page);
        for (const side of [0, 1]) {
          assert.equal(end.sides[side].curve.length, start.sides[side].curve.length + 10, `${strategy}: side ${side} curve grew by one point per step`);
          assert.equal(end.sides[side].labelled, start.sides[side].labelled + 10);
        }
        assert.ok(queuedSets.size >= 9, `${strategy}: the queried points changed from step to step (${queuedSets.size} distinct sets in 10)`);
        if (strategy !== 'random') assert.ok(end.sides[0].queued[0].score !== 0, `${strategy} shows a real score`);
        maps[strategy] = lattice(decodePng(await page.locator('#canvas-strategy').screenshot()));
      }
      // The heat map exists: many lattice points are tinted (not white or grey), and both
      // class 0 (blue) and class 1 (orange) regions appear. How big each region is after
      // ten steps depends on which points the strategy picked: random sampling on two moons
      // can leave class 0 a sliver, and a committee's map is the consensus of 5 bootstrap
      // members fitted on resamples of ~12 labels, where a one-class resample pulls the
      // consensus towards the majority class. So only presence is required per colour.
      for (const [strategy, px] of Object.entries(maps)) {
        const blue = px.filter(([r, , bl]) => bl - r > 40).length;
        const orange = px.filter(([r, , bl]) => r - bl > 40).length;
        assert.ok(blue > 5 && orange > 5 && blue + orange > 120, `${strategy}: heat map tints (blue ${blue}, orange ${orange} of ${px.length})`);
      }
      // Different strategies spend the budget differently, so their regions differ.
      const differing = maps.margin.filter((p, i) => p.some((v, k) => Math.abs(v - maps.random[i][k]) > 24)).length;
      assert.ok(differing > 20, `margin and random heat maps differ at ${differing} of ${maps.margin.length} lattice points`);
      assert.deepEqual(consoleErrors, []);
      assert.deepEqual(logged, [], 'nothing logged as an error (resets dispose learners quietly)');
    } finally {
      await b.close();
    }
  });

  test('every dataset and its noisy variant learns without error; so do the other feature maps', async () => {
    const b = await launch();
    try {
      const { page, consoleErrors } = b;
      await page.goto(`${server.url}playground/index.html`);
      await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
      const datasets = await page.$$eval('#dataset option', (os) => os.map((o) => o.value));
      assert.deepEqual(datasets, ['moons', 'circles', 'blobs', 'xor', 'spirals']);
      // Every dataset × noisy under the default features; the other maps on two datasets.
      const cases = [
        ...datasets.flatMap((d) => [['rff', d, false], ['rff', d, true]]),
        ['poly3', 'circles', false],
        ['raw', 'blobs', true],
      ];
      for (const [features, dataset, noisy] of cases) {
        await page.selectOption('#features', features);
        await page.selectOption('#dataset', dataset);
        await page.setChecked('#noisy', noisy);
        await settled(page, 0);
        await page.click('#step');
        await settled(page, 1);
        const s = await snapshot(page);
        assert.equal(s.sides[0].curve.length, 2, `${features}/${dataset}/${noisy}: fitted before and after the step`);
        const acc = s.sides[0].curve[1][1];
        assert.ok(acc > 0.3 && acc <= 1, `${features}/${dataset}/${noisy}: accuracy ${acc}`);
      }
      assert.deepEqual(consoleErrors, []);
    } finally {
      await b.close();
    }
  });

  test('play runs rounds until paused; batch size and strategy change while playing', async () => {
    const b = await launch();
    try {
      const { page, consoleErrors } = b;
      await page.goto(`${server.url}playground/index.html`);
      await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
      await page.fill('#speed', '20');
      await page.click('#play');
      await page.waitForFunction(() => Number(document.body.dataset.steps) >= 3, null, { timeout: 30_000 });
      // Batch size 3, mid-play: the next questions come three at a time, the run goes on.
      await page.fill('#batch', '3');
      await page.dispatchEvent('#batch', 'change');
      await page.selectOption('#strategy', 'random');
      const at = Number(await page.evaluate(() => document.body.dataset.steps));
      await page.waitForFunction((n) => Number(document.body.dataset.steps) >= n + 2, at, { timeout: 30_000 });
      await page.click('#play'); // pause
      await page.waitForFunction(() => document.body.dataset.busy === 'false');
      const paused = await page.evaluate(() => window.playground.snapshot());
      await page.waitForTimeout(400);
      const later = await page.evaluate(() => window.playground.snapshot());
      assert.equal(later.steps, paused.steps, 'no rounds after pausing');
      assert.equal(paused.sides[0].queued.length, 3, 'three questions per round after the change');
      assert.equal(await page.textContent('#explain-name'), 'random');
      assert.ok(paused.sides[0].curve.length >= 5, 'the curve kept growing across the changes');
      assert.ok(await page.locator('#alert').isHidden());
      assert.deepEqual(consoleErrors, []);
    } finally {
      await b.close();
    }
  });

  test('the student is the oracle: clicking a ringed point and a class teaches it', async () => {
    const b = await launch();
    try {
      const { page } = b;
      await page.goto(`${server.url}playground/index.html`);
      await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
      await page.check('#oracle');
      assert.equal(await page.isDisabled('#step'), true, 'Step is off while the student labels');
      const before = await snapshot(page);
      const target = before.sides[0].queued[0].index;
      // Where the ringed point is on the canvas, from the page's own geometry.
      const at = await page.evaluate((i) => window.playground.canvasPosition(i), target);
      await page.click('#canvas-strategy', { position: { x: at[0], y: at[1] } });
      await page.click('#oracle-classes button[data-class="1"]');
      await settled(page, 1);
      const after = await snapshot(page);
      assert.equal(after.sides[0].labelled, before.sides[0].labelled + 1);
      assert.ok(after.sides[0].labels.some(([i, l]) => i === target && l === 1), 'the student’s label (class 1) was taught, whatever the truth');
    } finally {
      await b.close();
    }
  });
});
