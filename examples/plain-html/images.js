// Raw images through the headless API: the pool is PNG files given by URL (the worker
// fetches, decodes and resizes them), answers come from each file's known class, the
// session is saved in IndexedDB and restored on reload. After a restore, more images can
// be added (as Blobs): they are featurized exactly as the first ones were.
import { createLearner, MarginaliaError } from 'marginalia';
import { openSessionStore } from 'marginalia/store';

const $ = (id) => document.getElementById(id);

function showError(e) {
  const code = e instanceof MarginaliaError ? e.code : 'E_UNKNOWN';
  $('status').textContent = `Error [${code}]: ${e.message}`;
  document.body.dataset.error = code;
}
/** A click handler whose failure is shown, not lost in the console. */
const guard = (f) => () => f().catch(showError);

async function main() {
  const manifest = await (await fetch('./images/manifest.json')).json();
  // 12 of each class in the pool; the other 4 of each are added later.
  const pool = manifest.files.filter((f) => Number(f.file.slice(-6, -4)) < 12);
  const heldOut = manifest.files.filter((f) => Number(f.file.slice(-6, -4)) >= 12);
  const store = await openSessionStore('plain-images');
  const restored = await store.restore();
  const learner = restored ?? (await createLearner({ input: 'image', image: { size: manifest.size, channels: 1 }, classes: manifest.classes, seed: 5 }));
  if (!restored) await learner.addImages(pool.map((f) => `./images/${f.file}`));
  // Pool index → file: the pool's files first, then the held-out ones once added.
  const files = [...pool, ...heldOut];
  const show = async (prefix) => {
    const s = await learner.stats();
    $('status').textContent = `${prefix}: ${s.labelled} labels of ${s.samples} images (${s.features} features each)`;
    document.body.dataset.labelled = String(s.labelled);
    document.body.dataset.samples = String(s.samples);
  };
  const ask = async () => {
    const [next] = await learner.query();
    $('question').src = `./images/${files[next.index].file}`;
    $('question').dataset.index = String(next.index);
  };
  $('teach-next').onclick = guard(async () => {
    const index = Number($('question').dataset.index);
    await learner.teach(index, files[index].label);
    await ask();
    await show(`taught ${files[index].file}`);
  });
  $('save').onclick = guard(async () => {
    await store.save(learner);
    await show('saved');
    document.body.dataset.saved = document.body.dataset.labelled;
  });
  $('add-more').onclick = guard(async () => {
    const blobs = await Promise.all(heldOut.map(async (f) => (await fetch(`./images/${f.file}`)).blob()));
    await learner.addImages(blobs);
    // How well the model does on them (they are unlabelled in the pool).
    const probs = await learner.predict(await learner.featurize(blobs));
    const k = manifest.classes.length;
    const right = heldOut.filter((f, i) => probs[i * k + f.label] >= 0.5).length;
    document.body.dataset.heldOutRight = String(right);
    await show(`added ${blobs.length}, ${right} of them predicted right`);
  });
  await ask();
  $('teach-next').disabled = $('save').disabled = $('add-more').disabled = false;
  document.body.dataset.restored = String(Boolean(restored));
  await show(restored ? 'restored' : 'new');
}

main().catch(showError);
