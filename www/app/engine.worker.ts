// The learner's Web Worker: loads the wasm core once and runs training and queries here,
// so the page never blocks. The main thread talks to it through Comlink.
//
// The worker keeps the pool's features and labels itself, so that adding a class (which
// changes the wasm Learner's class count, fixed at construction) rebuilds the Learner here
// without sending the features across again.
import * as Comlink from 'comlink';
import { COMMITTEE_SIZE, DEFAULT_SETTINGS, type LearnerSettings } from './settings';

type Core = typeof import('../pkg/simd/marginalia.js');
type WasmLearner = InstanceType<Core['Learner']>;

export interface Pick {
  index: number;
  score: number;
  reason: string;
}

export interface RoundResult {
  fitted: boolean;
  accuracy: number | null;
  labelled: number;
  queue: Pick[];
  probabilities: Record<number, number[]>;
  fitMs: number;
}

// A minimal module using one SIMD instruction (i8x16.splat): if the browser validates it,
// it runs SIMD128 code, so the faster build is loaded.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

let core: Core | null = null;
let learner: WasmLearner | null = null;
let pool: { features: Float32Array; rows: number; cols: number; seed: number } | null = null;
const taught = new Map<number, number>(); // pool row → label, mirrored into the Learner
let test: { features: Float32Array; labels: Uint32Array } | null = null;
let settings: LearnerSettings = DEFAULT_SETTINGS;

export interface Evaluation {
  labelled: number;
  /** k-fold CV on the labelled samples; null with fewer than two labelled classes. */
  cv: { mean: number; se: number; folds: number; confusion: number[] } | null;
  /** Null when not asked for (it predicts the whole unlabelled pool: only for the dashboard). */
  stop: { stop: boolean; reason: string; kappa: number | null; uncertainty: number | null } | null;
  /** What the learner trains now (`committee of 5 softmax`), null before the first fit. */
  modelKind: string | null;
  ms: number;
}

/** Apply `s` to the learner (throws on a name the engine does not know). */
function apply(l: WasmLearner, s: LearnerSettings): void {
  l.setModel(s.model === 'committee' ? 'softmax' : s.model);
  l.setCommittee(s.model === 'committee' ? COMMITTEE_SIZE : 0);
  l.setStrategy(s.strategy);
  l.setBatchSize(s.batchSize);
}

function build(classNames: string[]): void {
  if (!pool) throw new Error('no pool: createPool first');
  learner?.free();
  // The wasm Learner needs at least two classes; a project may start with fewer (an import
  // without folders), so pad with unnamed slots that no label ever uses.
  const k = Math.max(2, classNames.length);
  learner = new (need().Learner)(pool.features, pool.rows, pool.cols, k, pool.seed);
  learner.setClassNames(classNames);
  apply(learner, settings);
  for (const [row, label] of taught) learner.teach(row, label);
}

const api = {
  /** Load the wasm core; returns which build was loaded. */
  async init(): Promise<{ simd: boolean }> {
    const simd = WebAssembly.validate(SIMD_PROBE);
    const mod: Core = simd ? await import('../pkg/simd/marginalia.js') : await import('../pkg/scalar/marginalia.js');
    await mod.default();
    core = mod;
    return { simd };
  },

  parseIdx(bytes: Uint8Array): { dims: number[]; data: Uint8Array } {
    const r = need().parseIdx(bytes) as { dims: number[]; data: Uint8Array };
    return Comlink.transfer(r, [r.data.buffer]);
  },

  split(labels: Uint32Array, testFrac: number, seed: number): { train: Uint32Array; test: Uint32Array } {
    return need().stratifiedSplit(labels, testFrac, seed) as { train: Uint32Array; test: Uint32Array };
  },

  /**
   * A new pool (a project opened), on the default settings (`configure` changes them).
   * Returns the strategy names the engine knows, to check stored settings against: one
   * round trip fewer while a project opens.
   */
  createPool(features: Float32Array, rows: number, cols: number, classNames: string[], seed: number): string[] {
    pool = { features, rows, cols, seed };
    taught.clear();
    test = null;
    settings = DEFAULT_SETTINGS;
    build(classNames);
    return need().strategyNames();
  },

  /** The strategy names the engine knows (for the dashboard's menu and for checking stored settings). */
  strategyNames(): string[] {
    return need().strategyNames();
  },

  /**
   * Model, strategy and batch size, applied at once (the fitted model is dropped when the
   * model changes: refit). A name the engine does not know throws and changes nothing.
   */
  configure(s: LearnerSettings): void {
    const l = learner;
    if (!l) throw new Error('no pool: createPool first');
    try {
      apply(l, s);
    } catch (e) {
      apply(l, settings); // back to the settings in force: all or nothing
      throw e;
    }
    settings = { ...s };
  },

  /**
   * How good the model is without a test set, and whether to stop: k-fold CV on the
   * labelled samples (k model fits: call it when there is time, not on every label) and
   * the engine's stop suggestion.
   */
  evaluate(folds = 5, withStop = true): Evaluation {
    const l = learner;
    if (!l) throw new Error('no pool: createPool first');
    const t0 = performance.now();
    const e = l.estimateAccuracy(folds) as { mean: number; se: number; folds: number; confusion: Uint32Array } | undefined;
    const s = withStop ? (l.stopSuggestion(undefined) as NonNullable<Evaluation['stop']>) : null;
    return {
      labelled: l.labelledCount,
      cv: e ? { mean: e.mean, se: e.se, folds: e.folds, confusion: Array.from(e.confusion) } : null,
      stop: s && { stop: s.stop, reason: s.reason, kappa: s.kappa, uncertainty: s.uncertainty },
      modelKind: l.modelKind ?? null,
      ms: performance.now() - t0,
    };
  },

  /** The fitted model as bytes (see docs/MODEL_FORMAT.md) and what it is. */
  exportModel(): { bytes: Uint8Array; kind: string; width: number; classes: number } {
    const l = learner;
    if (!l) throw new Error('no pool: createPool first');
    const bytes = l.exportModel();
    const r = { bytes, kind: l.modelKind ?? '', width: l.width, classes: l.nClasses };
    return Comlink.transfer(r, [bytes.buffer]);
  },

  /**
   * Probabilities from exported model bytes on `features` (row-major): reads the file
   * back exactly as another program would, so the app can check an export round-trips.
   */
  predictWithModel(bytes: Uint8Array, features: Float32Array): { kind: string; classNames: string[]; probs: Float32Array } {
    const m = need().TrainedModel.fromBytes(bytes);
    try {
      return { kind: m.kind, classNames: m.classNames, probs: m.predictProba(features) };
    } finally {
      m.free();
    }
  },

  /** Probabilities of the session's model for `features` (row-major, the pool's width). */
  predict(features: Float32Array): Float32Array {
    const l = learner;
    if (!l) throw new Error('no pool: createPool first');
    return l.predictProba(features);
  },

  /** A new class list (a class was added): rebuild the Learner, keeping every label. */
  setClasses(classNames: string[]): void {
    build(classNames);
  },

  setTest(features: Float32Array, labels: Uint32Array): void {
    test = labels.length ? { features, labels } : null;
  },

  teach(index: number, label: number): void {
    need();
    learner!.teach(index, label);
    taught.set(index, label);
  },

  teachMany(pairs: [number, number][]): void {
    for (const [i, l] of pairs) api.teach(i, l);
  },

  forget(index: number): void {
    learner!.forget(index);
    taught.delete(index);
  },

  /**
   * Refit, evaluate on the held-out split and queue the next `n` picks; probabilities come
   * back for the picks and for the `also` rows (the sample on screen keeps a fresh guess).
   */
  refit(n: number, also: number[] = []): RoundResult {
    const l = learner;
    if (!l) throw new Error('no pool: createPool first');
    const t0 = performance.now();
    const fitted = l.fit();
    const fitMs = performance.now() - t0;
    const accuracy = fitted && test ? (l.accuracy(test.features, test.labels) ?? null) : null;
    const queue = l.query(n) as Pick[];
    const probabilities: Record<number, number[]> = {};
    for (const i of [...queue.map((q) => q.index), ...also]) probabilities[i] = Array.from(l.predictSample(i));
    return { fitted, accuracy, labelled: l.labelledCount, queue, probabilities, fitMs };
  },
};

function need(): Core {
  if (!core) throw new Error('the learning engine is not loaded yet');
  return core;
}

export type EngineApi = typeof api;
Comlink.expose(api);
