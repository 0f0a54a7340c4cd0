// A fresh Vite app using the package as a user would: the session is restored from
// IndexedDB when there is one, else a new learner gets 200 points; every label from the
// <marginalia-labeler> element is saved at once.
import { createLearner, MarginaliaError } from 'marginalia';
import { defineLabeler, type LabelEventDetail } from 'marginalia/labeler';
import { openSessionStore } from 'marginalia/store';

const status = document.querySelector<HTMLElement>('#status')!;

/** Point i: class i % 2, left (x < 0) or right (x > 0) of the line, with some spread. */
function point(i: number): [number, number] {
  const side = i % 2 === 0 ? -1 : 1;
  return [side * (0.3 + ((i * 37) % 100) / 100), (((i * 53) % 100) - 50) / 50];
}
const points = Array.from({ length: 200 }, (_, i) => point(i));

async function main(): Promise<void> {
  defineLabeler();
  const store = await openSessionStore('vite-example');
  const restored = await store.restore();
  const learner = restored ?? (await createLearner({ features: 2, classes: ['left', 'right'], strategy: 'margin', batchSize: 1 }));
  if (!restored) await learner.addSamples(points);
  learner.on('error', (e) => (status.textContent = `Error [${e.code}]: ${e.message}`));

  const labeler = document.querySelector('marginalia-labeler')!;
  labeler.render = (i) => `point ${i}: (${points[i][0].toFixed(2)}, ${points[i][1].toFixed(2)})`;
  labeler.addEventListener('label', async (ev) => {
    const { index, className } = (ev as CustomEvent<LabelEventDetail>).detail;
    await store.save(learner);
    const { labelled } = await learner.stats();
    status.textContent = `point ${index} is ${className}; ${labelled} labels saved`;
    document.body.dataset.saved = String(labelled);
  });
  labeler.learner = learner;

  const stats = await learner.stats();
  status.textContent = `${restored ? 'Restored' : 'New'} session: ${stats.labelled} labels, ${stats.samples} samples, strategy ${stats.strategy}`;
  document.body.dataset.restored = String(Boolean(restored));
  document.body.dataset.labelled = String(stats.labelled);
}

main().catch((e: unknown) => {
  const code = e instanceof MarginaliaError ? e.code : 'E_UNKNOWN';
  status.textContent = `Error [${code}]: ${e instanceof Error ? e.message : String(e)}`;
  document.body.dataset.error = code;
});
