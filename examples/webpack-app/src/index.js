// The headless API in a webpack app: restore the session from IndexedDB or start one with
// 60 points, ask for the next question, answer it from the known truth, save on demand.
import { createLearner, MarginaliaError } from 'marginalia';
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

main().catch((e) => {
  const code = e instanceof MarginaliaError ? e.code : 'E_UNKNOWN';
  $('status').textContent = `Error [${code}]: ${e.message}`;
  document.body.dataset.error = code;
});
