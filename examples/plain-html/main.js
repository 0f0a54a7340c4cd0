// The headless API without a bundler: restore the session from IndexedDB or start one with
// 100 points, ask for the next question, answer it from the known truth, save on demand.
import { createLearner, MarginaliaError } from 'marginalia';
import { openSessionStore } from 'marginalia/store';

const $ = (id) => document.getElementById(id);
const truth = (i) => (i % 3 === 0 ? 1 : 0); // class 1: every third point, off to the upper right
const points = Array.from({ length: 100 }, (_, i) => [truth(i) * 2 + ((i * 7) % 10) / 10, truth(i) * 2 + ((i * 13) % 10) / 10]);

async function main() {
  const store = await openSessionStore('plain-example');
  const restored = await store.restore();
  const learner = restored ?? (await createLearner({ features: 2, classes: ['low', 'high'], batchSize: 1, seed: 7 }));
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
