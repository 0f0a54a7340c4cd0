// The labelling page: wires storage (store/db), the learner worker (engine.worker) and the
// DOM together. The person never waits on training: the next sample comes from a queue
// the worker filled in the last round, while the worker retrains in the background.
import * as Comlink from 'comlink';
import { keyToAction } from './keys';
import { loadDemo } from './demo';
import { labelProblem, pixelsToFeatures, sampleProblem, type SampleRecord } from './pool';
import {
  allLabels, allSamples, commitLabel, getMeta, openStore, putDataset,
  type DatasetMeta, type Db,
} from './store/db';
import type { EngineApi, Pick, RoundResult } from './engine.worker';

const QUEUE = 20;
const SPLIT_SEED = 0;
const LEARNER_SEED = 1;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function showAlert(message: string): void {
  const el = $('alert');
  el.textContent = message; // text, never HTML
  el.hidden = false;
}

function showNotice(message: string): void {
  const el = $('notice');
  el.textContent = message;
  el.hidden = false;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

interface State {
  db: Db;
  engine: Comlink.Remote<EngineApi>;
  meta: DatasetMeta;
  pool: SampleRecord[]; // row r of the learner is pool[r]
  rowOf: Map<number, number>; // sample id → pool row
  labels: Map<number, number>; // sample id → label
  queue: Pick[]; // pool rows, best first
  probabilities: Record<number, number[]>;
  current: number | null; // sample id on screen
  refitting: boolean;
  dirty: boolean;
  saving: Promise<void>;
}

async function boot(): Promise<void> {
  let db: Db;
  try {
    db = await openStore();
  } catch (e) {
    showAlert(`This browser's storage (IndexedDB) could not be opened: ${describe(e)}. Nothing can be saved, so labelling is off.`);
    return;
  }

  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' });
  const engine = Comlink.wrap<EngineApi>(worker);
  let simd: boolean;
  try {
    ({ simd } = await engine.init());
  } catch (e) {
    const stored = await allLabels(db).catch(() => []);
    showAlert(
      `The learning engine could not be loaded (${describe(e)}). Your ${stored.length} saved labels are safe in this browser's storage; reload the page to try again.`,
    );
    $('label-count').textContent = String(stored.length);
    $('engine').textContent = 'not loaded';
    return;
  }
  $('engine').textContent = simd ? 'WebAssembly (SIMD)' : 'WebAssembly';

  let meta = await getMeta<DatasetMeta>(db, 'dataset');
  if (!meta) {
    $('guess').textContent = 'Storing the demo dataset in this browser…';
    const demo = await loadDemo((b) => engine.parseIdx(Comlink.transfer(b, [b.buffer])));
    const px = demo.meta.width * demo.meta.height;
    const truth = Uint32Array.from(demo.labels);
    const { test } = await engine.split(truth, 0.3, SPLIT_SEED);
    const testSet = new Set(test);
    const samples: SampleRecord[] = Array.from({ length: demo.meta.count }, (_, i) => ({
      id: i,
      pixels: demo.images.slice(i * px, (i + 1) * px),
      truth: demo.labels[i],
      split: testSet.has(i) ? 'test' : 'pool',
    }));
    await putDataset(db, demo.meta, samples);
    meta = demo.meta;
  }

  const px = meta.width * meta.height;
  const k = meta.classNames.length;
  const problems: string[] = [];
  const valid: SampleRecord[] = [];
  for (const rec of await allSamples(db)) {
    const why = sampleProblem(rec, px, k);
    if (why) problems.push(`sample ${String((rec as { id?: unknown })?.id)}: ${why}`);
    else valid.push(rec as SampleRecord);
  }
  valid.sort((a, b) => a.id - b.id);
  const pool = valid.filter((s) => s.split === 'pool');
  const test = valid.filter((s) => s.split === 'test');
  const rowOf = new Map(pool.map((s, r) => [s.id, r]));
  const labels = new Map<number, number>();
  for (const rec of await allLabels(db)) {
    const why = labelProblem(rec, new Set(rowOf.keys()), k);
    if (why) problems.push(`label of sample ${String((rec as { sampleId?: unknown })?.sampleId)}: ${why}`);
    else labels.set((rec as { sampleId: number }).sampleId, (rec as { label: number }).label);
  }
  if (problems.length) {
    // Unreadable records are skipped, never deleted: the data stays for recovery.
    showNotice(
      `${problems.length} stored record(s) could not be read and were skipped (nothing was deleted): ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? '; …' : ''}`,
    );
  }
  if (pool.length === 0) {
    showAlert('No usable samples are stored, so there is nothing to label.');
    return;
  }

  await engine.createPool(pixelsToFeatures(pool, px), pool.length, px, meta.classNames, LEARNER_SEED);
  await engine.setTest(pixelsToFeatures(test, px), Uint32Array.from(test.map((s) => s.truth)));
  for (const [id, label] of labels) await engine.teach(rowOf.get(id)!, label);

  const st: State = {
    db, engine, meta, pool, rowOf, labels,
    queue: [], probabilities: {}, current: null,
    refitting: false, dirty: false, saving: Promise.resolve(),
  };
  buildButtons(st);
  const resumed = await getMeta<number | null>(db, 'current');
  applyRound(st, await engine.refit(QUEUE));
  if (typeof resumed === 'number' && rowOf.has(resumed) && !labels.has(resumed)) st.current = resumed;
  else st.current = nextFromQueue(st);
  render(st);
  $('labeler').setAttribute('aria-busy', 'false');

  document.addEventListener('keydown', (ev) => {
    const action = keyToAction(ev.key, k, ev.ctrlKey || ev.metaKey || ev.altKey);
    if (action.kind === 'none') return;
    ev.preventDefault();
    if (action.kind === 'error') showAlert(action.message);
    else void label(st, action.classIndex);
  });
}

function buildButtons(st: State): void {
  const box = $('classes');
  box.replaceChildren();
  st.meta.classNames.forEach((name, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.class = String(i);
    const kbd = document.createElement('kbd');
    kbd.textContent = i < 10 ? String(i) : '';
    b.append(kbd, ' ', name); // names as text nodes, never HTML
    b.addEventListener('click', () => void label(st, i));
    box.append(b);
  });
}

function nextFromQueue(st: State, skip: number | null = null): number | null {
  for (const q of st.queue) {
    const id = st.pool[q.index].id;
    if (!st.labels.has(id) && id !== skip) return id;
  }
  return null;
}

function applyRound(st: State, r: RoundResult): void {
  st.queue = r.queue;
  st.probabilities = r.probabilities;
  $('accuracy').textContent =
    r.accuracy == null ? '– (needs two classes labelled)' : `${(r.accuracy * 100).toFixed(1)}%`;
}

/** Store the label first, then move on; retrain in the background. Serialized. */
function label(st: State, classIndex: number): Promise<void> {
  st.saving = st.saving.then(async () => {
    const id = st.current;
    if (id == null) return;
    const next = nextFromQueue(st, id);
    try {
      await commitLabel(st.db, { sampleId: id, label: classIndex, labelledAt: Date.now() }, next);
    } catch (e) {
      showAlert(`${describe(e)}. The label was not saved; the sample stays on screen.`);
      return;
    }
    st.labels.set(id, classIndex);
    $('alert').hidden = true;
    st.current = next;
    render(st);
    await st.engine.teach(st.rowOf.get(id)!, classIndex);
    scheduleRefit(st);
  });
  return st.saving;
}

function scheduleRefit(st: State): void {
  if (st.refitting) {
    st.dirty = true;
    return;
  }
  st.refitting = true;
  void (async () => {
    try {
      do {
        st.dirty = false;
        const r = await st.engine.refit(QUEUE);
        applyRound(st, r);
        if (st.current == null || st.labels.has(st.current)) {
          st.current = nextFromQueue(st);
        }
        render(st);
      } while (st.dirty);
    } catch (e) {
      showAlert(`Retraining failed: ${describe(e)}. Your labels are saved.`);
    } finally {
      st.refitting = false;
    }
  })();
}

function render(st: State): void {
  $('label-count').textContent = String(st.labels.size);
  const canvas = $('sample') as HTMLCanvasElement;
  const main = $('labeler');
  if (st.current == null) {
    main.dataset.sampleId = '';
    $('guess').textContent = st.labels.size >= st.pool.length ? 'Every sample is labelled.' : 'Choosing the next sample…';
    $('reason').textContent = '';
    return;
  }
  main.dataset.sampleId = String(st.current);
  const s = st.pool[st.rowOf.get(st.current)!];
  const { width, height, classNames } = st.meta;
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const v = s.pixels[i];
    img.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
  const row = st.rowOf.get(st.current)!;
  const pick = st.queue.find((q) => q.index === row);
  const p = st.probabilities[row];
  if (p && p.length) {
    let best = 0;
    p.forEach((v, j) => { if (v > p[best]) best = j; });
    $('guess').textContent = `Model's guess: ${classNames[best]} (${(p[best] * 100).toFixed(0)}% sure)`;
  } else {
    $('guess').textContent = 'No guess yet: label a few samples of two classes.';
  }
  $('reason').textContent = pick ? `Why this one: ${pick.reason}` : '';
}

boot().catch((e) => showAlert(`Something went wrong while starting: ${describe(e)}. Stored labels are untouched.`));
