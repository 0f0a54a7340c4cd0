// Pool scoring on the GPU in the app, in Debian's Chromium: with WebGPU (SwiftShader, a CPU
// Vulkan: correct but slow, which 'auto' passes over) the "Compute" setting decides where
// each round scores the pool, the label view and the dashboard say which backend scored the last round and why
// it was the CPU, the GPU's round queues what the CPU's queues, and a GPU lost mid-session
// leaves the CPU to carry on with nothing lost; without an adapter,
// asking for the GPU says so plainly and labelling carries on on the CPU.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { currentSample, launch, pressForNext, serve, until } from './harness.mjs';
import { demoProject, readStore } from './app-fixtures.mjs';

let server;
before(async () => {
  server = await serve();
});
after(() => server?.stop());

const press = (page, key) => pressForNext(page, key);


/** Choose in a dashboard menu and wait until the project record stores the choice. */
async function choose(page, select, value, key) {
  await page.selectOption(select, value);
  // Keys go to the menu while it has focus (type-ahead); the view keys need the page.
  await page.$eval(select, (e) => e.blur());
  await until(async () => (await demoProject(page)).settings?.[key] === value, `${key} ${value} to be stored`);
}

/** Labels counted in the dashboard's confusion matrix (the estimate that follows each round). */
const confusionTotal = (page) =>
  page.$$eval('#confusion tbody td', (tds) => tds.reduce((a, td) => a + Number(td.textContent), 0)).catch(() => 0);

/**
 * Wait until the dashboard shows a round whose model was fitted on `n` labels, scored as
 * `scored` says (a regular expression on the words). Opening the dashboard estimates at
 * once, so the estimate can count every label before the round that follows them lands.
 */
const roundOn = (page, n, scored) =>
  page.waitForFunction(
    ([n, src]) => {
      const e = document.getElementById('set-scoring');
      return e.dataset.labelled === String(n) && new RegExp(src).test(e.textContent);
    },
    [n, scored.source],
    { timeout: 60_000 },
  );

/** The batch view's sample ids, in queue order. */
async function batchIds(page) {
  await page.keyboard.press('b');
  await page.waitForSelector('#batch-grid .tile');
  const ids = await page.$$eval('#batch-grid .tile', (t) => t.map((x) => Number(x.dataset.sampleId)));
  await page.keyboard.press('d');
  return ids;
}

describe('pool scoring on the GPU', () => {
  test('with WebGPU (SwiftShader): auto stays on the CPU for a small round and for a software adapter, saying why; GPU scores each round and queues what the CPU queues; a lost GPU loses nothing', async () => {
    const b = await launch({ serviceWorkers: 'block' });
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      assert.ok(await page.evaluate(async () => (await navigator.gpu?.requestAdapter()) != null), 'this browser has a WebGPU adapter');
      // Default 'auto': 1,000 samples × 784 features × 10 classes is below what the GPU gains on.
      for (const k of ['1', '2']) await press(page, k);
      await page.waitForFunction(() => document.getElementById('scoring').textContent === 'CPU: round too small for the GPU to gain');
      assert.match(await page.getAttribute('#scoring', 'title'), /a round is \d+ multiply-adds, below the 20000000/);

      // The MLP's rounds on the demo are large enough for the GPU, but the only adapter
      // here is SwiftShader, a software one: 'auto' keeps to the CPU and says why.
      await page.keyboard.press('d');
      await choose(page, '#set-model', 'mlp', 'model');
      await roundOn(page, 2, /^CPU: the only WebGPU adapter is a software one, slower than the CPU$/);
      assert.match(await page.getAttribute('#set-scoring', 'title'), /software fallback \(google \/ swiftshader\)/);
      await choose(page, '#set-model', 'softmax', 'model');
      await page.keyboard.press('l');

      // Margin, so that two rounds on the same labels must queue the same samples (auto's
      // typical-cluster part draws a new seed each round), and the GPU.
      await page.keyboard.press('d');
      await choose(page, '#set-strategy', 'margin', 'strategy');
      await choose(page, '#set-compute', 'webgpu', 'backend');
      assert.match(await page.textContent('#settings-status'), /compute GPU \(WebGPU\)/);
      await page.keyboard.press('l');
      for (const k of ['3', '1', '2', '3']) await press(page, k);
      await page.waitForFunction(() => /^GPU \(WebGPU/.test(document.getElementById('scoring').textContent), null, { timeout: 60_000 });
      assert.equal(await page.getAttribute('#scoring', 'data-backend'), 'webgpu');

      // The round after the last label (the estimate with the dashboard open follows it).
      await page.keyboard.press('d');
      await roundOn(page, 6, /^GPU \(WebGPU/);
      const onGpu = await batchIds(page);
      assert.equal(onGpu.length, 12);

      // The same labels and model, scored on the CPU: the same queue.
      await choose(page, '#set-compute', 'cpu', 'backend');
      await roundOn(page, 6, /^CPU \(chosen in the settings\)$/);
      const onCpu = await batchIds(page);
      assert.deepEqual(onGpu, onCpu, 'the GPU round queues what the CPU round queues');

      // The choice is kept with the project: a reload scores on the CPU again, then the GPU.
      await choose(page, '#set-compute', 'webgpu', 'backend');
      await page.reload();
      await currentSample(page);
      await page.waitForFunction(() => /^GPU \(WebGPU/.test(document.getElementById('scoring').textContent), null, { timeout: 60_000 });
      await page.keyboard.press('d');
      assert.equal(await page.inputValue('#set-compute'), 'webgpu');
      assert.equal((await readStore(page, 'labels')).filter((l) => l.project === 'demo').length, 6);

      // The GPU is lost mid-session (as a driver reset would): the next rounds score on the
      // CPU from the scorer's copy of the pool, say so, and nothing is lost.
      await page.keyboard.press('l');
      assert.equal(await page.evaluate(() => globalThis.marginaliaLoseGpuForTesting()), true, 'a GPU was held');
      for (const k of ['1', '2']) await press(page, k);
      await page.waitForFunction(() => document.getElementById('scoring').textContent === 'CPU: the GPU was lost, carried on', null, { timeout: 60_000 });
      assert.match(await page.getAttribute('#scoring', 'title'), /^device lost \(Destroyed\)/);
      for (const k of ['3', '1']) await press(page, k);
      assert.equal((await readStore(page, 'labels')).filter((l) => l.project === 'demo').length, 10);
      await page.keyboard.press('d');
      await until(async () => (await confusionTotal(page)) === 10, 'the estimate on all 10 labels');
      await roundOn(page, 10, /^CPU: the GPU was lost, carried on$/);
      assert.equal(await page.isVisible('#alert'), false);
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
    }
  });

  test('without a WebGPU adapter: asking for the GPU says why it cannot be used and labelling carries on on the CPU', async () => {
    const b = await launch({ serviceWorkers: 'block', webgpu: false });
    try {
      const { page } = b;
      await page.goto(server.url);
      await currentSample(page);
      assert.equal(await page.evaluate(async () => (await navigator.gpu?.requestAdapter()) ?? null), null, 'no adapter in this browser');
      await page.keyboard.press('d');
      await choose(page, '#set-compute', 'webgpu', 'backend');
      await page.keyboard.press('l');
      const keys = ['1', '2', '3', '1', '2'];
      for (const k of keys) await press(page, k);
      await page.waitForFunction(
        () => document.getElementById('scoring').textContent === 'CPU: no WebGPU adapter, so the GPU you chose cannot be used; carrying on on the CPU',
        null,
        { timeout: 60_000 },
      );
      assert.match(await page.getAttribute('#scoring', 'title'), /^no WebGPU adapter \(.+\)/);
      assert.equal(await page.getAttribute('#scoring', 'data-backend'), 'cpu');
      // Nothing was refused or lost: every label is stored, the learner trained, the next
      // sample is there, and no problem was raised.
      assert.equal((await readStore(page, 'labels')).filter((l) => l.project === 'demo').length, keys.length);
      await page.keyboard.press('d');
      await page.waitForFunction(() => /^softmax/.test(document.getElementById('set-trained').textContent));
      assert.equal(await page.isVisible('#alert'), false, await page.textContent('#alert-text'));
      await page.keyboard.press('l');
      await press(page, '3');
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.close();
    }
  });
});
