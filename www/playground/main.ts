// The playground: one dataset, two learners from the `marginalia` package (www/lib) — one
// querying with the chosen strategy, one at random — spending the same budget side by side.
// Every action goes through one promise chain, so controls can change at any moment
// (even while playing) without two rounds interleaving.
import { createLearner, MarginaliaError, type Candidate, type Learner } from 'marginalia';
import { drawChart } from './chart';
import { DATASETS, generate, type Dataset2D, type DatasetName } from './datasets';
import { explain } from './explain';
import { FEATURE_MAPS, featureMap, type FeatureMapName } from './features';
import { CLASS_COLORS, drawSide, gridPoints, toCanvas, type SideState, type View } from './render';

const POOL_SIZE = 300;
const TEST_SIZE = 500;
const GRID_CELLS = 64;
const COLORS = { strategy: '#2b6cb0', random: '#888' };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

interface Side {
  key: 'strategy' | 'random';
  learner: Learner;
  canvas: HTMLCanvasElement;
  state: SideState;
  /** [labels, accuracy] after each round. */
  curve: [number, number][];
}

interface Game {
  pool: Dataset2D;
  test: Dataset2D;
  view: View;
  poolFeatures: Float32Array;
  testFeatures: Float32Array;
  gridFeatures: Float32Array;
  sides: Side[];
  steps: number;
  /** Oracle mode: labels the student gave to the strategy side's current questions. */
  studentLabels: Map<number, number>;
}

let game: Game | null = null;
let chain: Promise<unknown> = Promise.resolve();
let playing = false;
let strategies: string[] = [];

function showError(e: unknown): void {
  const el = $('alert');
  const code = e instanceof MarginaliaError ? ` [${e.code}]` : '';
  el.textContent = `${e instanceof Error ? e.message : String(e)}${code}`;
  el.hidden = false;
  console.error(e);
  playing = false;
  $('play').textContent = 'Play';
}

/** Run `fn` after everything queued before it; errors are shown, never swallowed. */
function serial(fn: () => Promise<void>): Promise<void> {
  const next = chain.then(fn).catch(showError);
  chain = next;
  document.body.dataset.busy = 'true';
  next.then(() => {
    if (chain === next) document.body.dataset.busy = 'false';
  });
  return next;
}

const int = (id: string, min: number) => Math.max(min, Math.floor(Number($<HTMLInputElement>(id).value) || min));
const value = (id: string) => $<HTMLSelectElement>(id).value;

function viewOf(xy: Float32Array): View {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < xy.length; i += 2) {
    x0 = Math.min(x0, xy[i]);
    x1 = Math.max(x1, xy[i]);
    y0 = Math.min(y0, xy[i + 1]);
    y1 = Math.max(y1, xy[i + 1]);
  }
  // Square, with a margin, so distances on screen are distances in the data.
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const half = (Math.max(x1 - x0, y1 - y0) / 2) * 1.12;
  return { x0: cx - half, x1: cx + half, y0: cy - half, y1: cy + half };
}

function startWorker(): Worker {
  // Name the TypeScript source: the package's default (worker.js next to index.js) exists
  // only in the built package, and Vite's dev server would not map it to worker.ts.
  return new Worker(new URL('../lib/worker.ts', import.meta.url), { type: 'module' });
}

async function reset(): Promise<void> {
  playing = false;
  $('play').textContent = 'Play';
  $('alert').hidden = true;
  for (const s of game?.sides ?? []) s.learner.dispose();
  game = null;
  const name = value('dataset') as DatasetName;
  const noisy = $<HTMLInputElement>('noisy').checked;
  const seed = int('seed', 0);
  const pool = generate(name, POOL_SIZE, seed, noisy);
  const test = generate(name, TEST_SIZE, seed + 1_000_003, noisy);
  const map = featureMap(value('features') as FeatureMapName, seed);
  const view = viewOf(pool.xy);
  const common = { features: map.width, classes: pool.classes, model: value('model') || 'softmax', batchSize: int('batch', 1), seed, worker: startWorker };
  const [a, b] = await Promise.all([createLearner({ ...common, strategy: value('strategy') || 'margin' }), createLearner({ ...common, strategy: 'random' })]);
  const poolFeatures = map.apply(pool.xy);
  const g: Game = {
    pool,
    test,
    view,
    poolFeatures,
    testFeatures: map.apply(test.xy),
    gridFeatures: map.apply(gridPoints(view, GRID_CELLS)),
    sides: [
      { key: 'strategy', learner: a, canvas: $('canvas-strategy'), state: emptyState(), curve: [] },
      { key: 'random', learner: b, canvas: $('canvas-random'), state: emptyState(), curve: [] },
    ],
    steps: 0,
    studentLabels: new Map(),
  };
  // Both start from the same two labels: the first point of class 0 and of class 1. A third
  // (rare) class, as in the blobs, has to be found by the strategy: that is the lesson.
  const seedSet = [0, 1].map((c) => ({ index: pool.labels.indexOf(c), label: c })).filter((p) => p.index >= 0);
  for (const s of g.sides) {
    await s.learner.addSamples(poolFeatures);
    await s.learner.teach(seedSet);
  }
  game = g;
  await Promise.all(g.sides.map((s) => refresh(g, s)));
  draw(g);
}

function emptyState(): SideState {
  return { grid: null, labelled: new Map(), queued: [], selected: null };
}

/** Ask the side's learner for its next questions, its accuracy and its heat map. */
async function refresh(g: Game, s: Side): Promise<void> {
  const batch = int('batch', 1);
  const queued: Candidate[] = await s.learner.query(batch);
  const { accuracy } = await s.learner.evaluate(g.testFeatures, g.test.labels);
  const labelled = new Map(await s.learner.labels());
  s.state.grid = accuracy === null ? null : await s.learner.predict(g.gridFeatures);
  s.state.labelled = labelled;
  s.state.queued = queued;
  s.state.selected = null;
  const last = s.curve.at(-1);
  if (accuracy !== null && last?.[0] !== labelled.size) s.curve.push([labelled.size, accuracy]);
}

function draw(g: Game): void {
  for (const s of g.sides) {
    drawSide(s.canvas, g.view, GRID_CELLS, g.pool.classes, g.pool.xy, s.state);
    const last = s.curve.at(-1);
    $(`acc-${s.key}`).textContent = last ? `${(last[1] * 100).toFixed(1)}% accuracy with ${last[0]} labels` : 'not fitted yet';
  }
  drawChart(
    $('chart'),
    g.sides.map((s) => ({ name: s.key === 'strategy' ? value('strategy') : 'random', color: COLORS[s.key], points: s.curve })),
    int('budget', 5),
  );
  document.body.dataset.steps = String(g.steps);
  updateOracle(g);
}

function spent(g: Game): number {
  return g.sides[0].state.labelled.size;
}

/** One round: each side is told the true labels of its questions, refits and asks again. */
async function step(): Promise<void> {
  const g = game;
  if (!g) return;
  if (spent(g) >= int('budget', 5)) {
    playing = false;
    $('play').textContent = 'Play';
    return;
  }
  const oracle = $<HTMLInputElement>('oracle').checked;
  await Promise.all(
    g.sides.map(async (s) => {
      const pairs = s.state.queued.map((q) => ({
        index: q.index,
        label: oracle && s.key === 'strategy' ? (g.studentLabels.get(q.index) ?? -1) : g.pool.labels[q.index],
      }));
      if (pairs.some((p) => p.label < 0)) throw new Error('label every ringed point first (oracle mode)');
      if (pairs.length) await s.learner.teach(pairs);
      await refresh(g, s);
    }),
  );
  g.studentLabels.clear();
  g.steps += 1;
  draw(g);
}

function updateOracle(g: Game): void {
  const on = $<HTMLInputElement>('oracle').checked;
  $('oracle-panel').hidden = !on;
  $<HTMLButtonElement>('step').disabled = on;
  $<HTMLButtonElement>('play').disabled = on;
  if (!on) return;
  const s = g.sides[0];
  const left = s.state.queued.filter((q) => !g.studentLabels.has(q.index)).length;
  $('oracle-prompt').textContent =
    s.state.selected === null
      ? `Click a ringed point on the left to label it (${left} of ${s.state.queued.length} left this round).`
      : `Point ${s.state.selected}: which class?`;
  const box = $('oracle-classes');
  box.replaceChildren();
  if (s.state.selected === null) return;
  for (let c = 0; c < g.pool.classes; c++) {
    const [r, gg, b] = CLASS_COLORS[c % CLASS_COLORS.length];
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.dataset.class = String(c);
    btn.textContent = `class ${c}`;
    btn.style.borderLeft = `1.2em solid rgb(${r},${gg},${b})`;
    btn.onclick = () => serial(() => studentLabel(c));
    box.append(btn);
  }
}

/** Oracle mode: the student labels the selected point; the last one of the batch starts the round. */
async function studentLabel(label: number): Promise<void> {
  const g = game;
  if (!g) return;
  const s = g.sides[0];
  if (s.state.selected === null) return;
  g.studentLabels.set(s.state.selected, label);
  s.state.selected = null;
  if (s.state.queued.every((q) => g.studentLabels.has(q.index))) await step();
  else draw(g);
}

function onCanvasClick(ev: MouseEvent): void {
  const g = game;
  if (!g || !$<HTMLInputElement>('oracle').checked) return;
  const s = g.sides[0];
  const canvas = s.canvas;
  const rect = canvas.getBoundingClientRect();
  const mx = ((ev.clientX - rect.left) / rect.width) * canvas.width;
  const my = ((ev.clientY - rect.top) / rect.height) * canvas.height;
  let best: number | null = null;
  let bestD = 14 * 14; // within 14 canvas pixels of a ring
  for (const q of s.state.queued) {
    if (g.studentLabels.has(q.index)) continue;
    const [cx, cy] = toCanvas(g.view, canvas, g.pool.xy[2 * q.index], g.pool.xy[2 * q.index + 1]);
    const d = (cx - mx) ** 2 + (cy - my) ** 2;
    if (d < bestD) [best, bestD] = [q.index, d];
  }
  s.state.selected = best;
  draw(g);
}

function showExplanation(): void {
  const name = value('strategy');
  const e = explain(name);
  $('explain-name').textContent = name;
  $('explain-formula').textContent = e.formula;
  $('explain-text').textContent = e.text;
  $('title-strategy').textContent = name;
}

/** Strategy, model and batch size change the running learners; no restart. */
async function reconfigure(): Promise<void> {
  const g = game;
  if (!g) return;
  const batchSize = int('batch', 1);
  const model = value('model');
  await g.sides[0].learner.configure({ strategy: value('strategy'), model, batchSize });
  await g.sides[1].learner.configure({ model, batchSize });
  g.studentLabels.clear();
  await Promise.all(g.sides.map((s) => refresh(g, s)));
  draw(g);
}

function play(): void {
  playing = !playing;
  $('play').textContent = playing ? 'Pause' : 'Play';
  const tick = () => {
    if (!playing) return;
    serial(step).then(() => {
      if (playing) setTimeout(tick, 1000 / int('speed', 1));
    });
  };
  tick();
}

function fill(id: string, options: Record<string, string> | string[], selected: string): void {
  const el = $<HTMLSelectElement>(id);
  const entries = Array.isArray(options) ? options.map((o) => [o, o]) : Object.entries(options);
  el.replaceChildren(...entries.map(([v, text]) => new Option(text, v, v === selected, v === selected)));
}

async function boot(): Promise<void> {
  fill('dataset', DATASETS, 'moons');
  fill('features', FEATURE_MAPS, 'rff');
  // The strategy and model lists come from the wasm core, so new ones appear here as the
  // core grows. A throwaway learner reads them.
  const probe = await createLearner({ features: 1, classes: 2, worker: startWorker });
  strategies = [...probe.strategies];
  fill('strategy', strategies, strategies.includes('margin') ? 'margin' : strategies[0]);
  fill('model', [...probe.models], probe.models[0]);
  probe.dispose();
  showExplanation();
  for (const id of ['dataset', 'noisy', 'seed', 'features', 'budget']) $(id).addEventListener('change', () => serial(reset));
  for (const id of ['strategy', 'model', 'batch']) {
    $(id).addEventListener('change', () => {
      showExplanation();
      serial(reconfigure);
    });
  }
  $('oracle').addEventListener('change', () => game && draw(game));
  $('step').addEventListener('click', () => serial(step));
  $('play').addEventListener('click', play);
  $('reset').addEventListener('click', () => serial(reset));
  $('canvas-strategy').addEventListener('click', onCanvasClick);
  // Enter in a number field would submit the form, i.e. reload the page.
  $('controls').addEventListener('submit', (ev) => ev.preventDefault());
  await serial(reset);
  document.body.dataset.ready = 'true';
}

// Read-only view of the state for tests and for the curious (devtools).
Object.defineProperty(window, 'playground', {
  value: {
    snapshot: () =>
      game && {
        steps: game.steps,
        sides: game.sides.map((s) => ({
          key: s.key,
          curve: s.curve.map((p) => [...p]),
          queued: s.state.queued.map((q) => ({ ...q })),
          labelled: s.state.labelled.size,
          labels: [...s.state.labelled],
        })),
      },
    /** Where pool point `index` is drawn on the strategy canvas, in CSS pixels. */
    canvasPosition: (index: number) => {
      if (!game) return null;
      const c = game.sides[0].canvas;
      const [x, y] = toCanvas(game.view, c, game.pool.xy[2 * index], game.pool.xy[2 * index + 1]);
      return [(x * c.clientWidth) / c.width, (y * c.clientHeight) / c.height];
    },
    strategies: () => [...strategies],
  },
});

boot().catch(showError);
