// The headless API in a webpack app: restore the session from IndexedDB or start one with
// 60 points, ask for the next question, answer it from the known truth, save on demand.
import { createLearner, restoreLearner, MarginaliaError } from 'marginalia';
import { openSessionStore } from 'marginalia/store';

const $ = (id) => document.getElementById(id);
const truth = (i) => (i % 2); // odd points sit up and to the right
const points = Array.from({ length: 60 }, (_, i) => [truth(i) * 1.5 + ((i * 7) % 10) / 10, truth(i) * 1.5 + ((i * 3) % 10) / 10]);

async function main() {
  const store = await openSessionStore('webpack-example');
  const restored = await store.restore();
  const learner = restored ?? (await createLearner({ features: 2, classes: ['low', 'high'], strategy: 'margin' }));
  if (!restored) await learner.addSamples(points);
  const show = async (prefix) => {
    const s = await learner.stats();
    $('status').textContent = `${prefix}: ${s.labelled} labels of ${s.samples} samples`;
    document.body.dataset.labelled = String(s.labelled);
  };
  $('teach-next').onclick = async () => {
    const [next] = await learner.query();
    await learner.teach(next.index, truth(next.index));
    await show(`taught ${next.index}`);
  };
  $('save').onclick = async () => {
    await store.save(learner);
    await show('saved');
    document.body.dataset.saved = document.body.dataset.labelled;
  };
  $('teach-next').disabled = $('save').disabled = false;
  document.body.dataset.restored = String(Boolean(restored));
  await show(restored ? 'restored' : 'new');
}

/**
 * 40 pictures drawn here as PNG Blobs: a dark disc in the upper half (class 0) or a bar
 * across the lower half (class 1), placed at random. They go through the bundled worker's
 * decoding (resized to 16×16 grey).
 */
async function drawImages(n) {
  let seed = 3;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out = [];
  for (let i = 0; i < n; i++) {
    const c = new OffscreenCanvas(32, 32);
    const g = c.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, 32, 32);
    g.fillStyle = '#222';
    const [x, y] = [7 + rnd() * 18, 6 + rnd() * 6];
    if (i % 2 === 0) {
      g.beginPath();
      g.arc(x, y, 5, 0, 2 * Math.PI);
      g.fill();
    } else g.fillRect(2, 32 - y - 3, 28, 6);
    out.push(await c.convertToBlob({ type: 'image/png' }));
  }
  return out;
}

async function images() {
  const blobs = await drawImages(40);
  const truth = (i) => i % 2;
  const learner = await createLearner({ input: 'image', image: { size: 16 }, classes: ['disc above', 'bar below'], seed: 1 });
  await learner.addImages(blobs.slice(0, 32));
  for (let k = 0; k < 6; k++) {
    const [next] = await learner.query();
    await learner.teach(next.index, truth(next.index));
  }
  // Saved and restored; the 8 images added afterwards are decoded the same way.
  const again = await restoreLearner(await learner.save());
  await again.addImages(blobs.slice(32));
  const probs = await again.predict(await again.featurize(blobs.slice(32)));
  const right = [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => probs[i * 2 + truth(32 + i)] >= 0.5).length;
  const s = await again.stats();
  learner.dispose();
  again.dispose();
  $('images-status').textContent = `${s.labelled} labels, ${s.samples} images of ${s.features} features; ${right} of 8 new ones predicted right`;
  return { labelled: s.labelled, samples: s.samples, features: s.features, right };
}

$('images').onclick = () =>
  images().then(
    (r) => (document.body.dataset.images = JSON.stringify(r)),
    (e) => {
      $('images-status').textContent = `Error [${e.code ?? 'E_UNKNOWN'}]: ${e.message}`;
      document.body.dataset.images = JSON.stringify({ error: e.code ?? 'E_UNKNOWN' });
    },
  );

main().catch((e) => {
  const code = e instanceof MarginaliaError ? e.code : 'E_UNKNOWN';
  $('status').textContent = `Error [${code}]: ${e.message}`;
  document.body.dataset.error = code;
});
