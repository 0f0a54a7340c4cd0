// The app's learner worker: a thin Comlink adapter over the npm package's learner session
// (www/lib/session.ts), so the app and the package share one copy of the learner logic:
// settings, refits only when something changed, and pool scoring on the GPU with the same
// 'auto' | 'webgpu' | 'cpu' rules and fallbacks. What is the app's own stays here: the
// held-out test set, the dashboard's evaluation, adding a class, the model export.
//
// The pool's features live once, in the core's learner (and on the GPU when it scores):
// adding a class (the learner's class count is fixed at construction) rebuilds the
// learner from its own copy, so the page never sends the features again.
import * as Comlink from 'comlink';
import type { Candidate, WorkerSettings } from 'marginalia/engine';
import {
  append, applySettings, configure, fitted, learnerOf, loadCore, loseGpuForTesting, needCore, newSession, queryNext,
  type CpuWhy, type LearnerSession,
} from 'marginalia/engine';
import { COMMITTEE_SIZE, DEFAULT_SETTINGS, type Backend, type LearnerSettings } from './settings';

/** Where a round scored the pool, and why not on the GPU when it did not. */
export interface Scoring {
  backend: 'webgpu' | 'cpu';
  /** The backend the settings ask for. */
  asked: Backend;
  /** Null when the GPU scored. */
  why: CpuWhy | null;
  /** The engine's own words for `why` (for a tooltip). */
  detail: string | null;
  /** The adapter, when a GPU is held. */
  adapter: string | null;
  /** Labels the round's model was fitted on (which round the words are about). */
  labelled: number;
}

export interface RoundResult {
  fitted: boolean;
  accuracy: number | null;
  labelled: number;
  queue: Candidate[];
  probabilities: Record<number, number[]>;
  /** 0 when nothing changed since the last fit (no refit). */
  fitMs: number;
  scoring: Scoring;
}

export interface Evaluation {
  labelled: number;
  /** k-fold CV on the labelled samples; null with fewer than two labelled classes. */
  cv: {
    mean: number;
    se: number;
    folds: number;
    confusion: number[];
    /** The temperature fitted on the out-of-fold predictions: the shown confidence uses it. */
    temperature: number;
    /** Expected calibration error of the out-of-fold predictions, as given and tempered. */
    ece: number;
    eceCalibrated: number;
  } | null;
  /** Null when not asked for (it predicts the whole unlabelled pool: only for the dashboard). */
  stop: { stop: boolean; reason: string; kappa: number | null; uncertainty: number | null } | null;
  /** What the learner trains now (`committee of 5 softmax`), null before the first fit. */
  modelKind: string | null;
  ms: number;
}

type SessionChoices = { [K in 'model' | 'committee' | 'strategy' | 'batchSize' | 'backend']: WorkerSettings[K] };

let session: LearnerSession | null = null;
let test: { features: Float32Array; labels: Uint32Array } | null = null;

function need(): LearnerSession {
  if (!session) throw new Error('no pool: createPool first');
  return session;
}

/** The app's settings as the session's: the `committee` choice is a committee of softmax models. */
function sessionSettings(s: LearnerSettings): SessionChoices {
  return {
    model: s.model === 'committee' ? 'softmax' : s.model,
    committee: s.model === 'committee' ? COMMITTEE_SIZE : 0,
    strategy: s.strategy,
    batchSize: s.batchSize,
    backend: s.backend ?? 'auto',
  };
}

/**
 * The session's class list: the wasm Learner needs at least two classes and a project may
 * start with fewer (an import without folders), so unnamed slots pad it; no label uses them.
 */
function padded(classNames: string[]): string[] {
  return classNames.length >= 2 ? classNames : [...classNames, ...['', ''].slice(classNames.length)];
}

function scoring(s: LearnerSession): Scoring {
  return {
    backend: s.lastBackend,
    asked: s.settings.backend,
    why: s.lastBackend === 'webgpu' ? null : s.cpuWhy,
    detail: s.lastBackend === 'webgpu' ? null : s.cpuReason,
    adapter: s.scorer?.hasGpu ? (s.scorer.adapter ?? null) : null,
    labelled: s.learner?.labelledCount ?? 0,
  };
}

const api = {
  /** Load the wasm core; returns which build was loaded. */
  async init(): Promise<{ simd: boolean }> {
    return { simd: await loadCore() };
  },

  parseIdx(bytes: Uint8Array): { dims: number[]; data: Uint8Array } {
    const r = needCore().parseIdx(bytes) as { dims: number[]; data: Uint8Array };
    return Comlink.transfer(r, [r.data.buffer]);
  },

  split(labels: Uint32Array, testFrac: number, seed: number): { train: Uint32Array; test: Uint32Array } {
    return needCore().stratifiedSplit(labels, testFrac, seed) as { train: Uint32Array; test: Uint32Array };
  },

  /**
   * A new pool (a project opened), on the default settings (`configure` changes them).
   * Returns the strategy names the engine knows, to check stored settings against: one
   * round trip fewer while a project opens.
   */
  async createPool(features: Float32Array, rows: number, cols: number, classNames: string[], seed: number): Promise<string[]> {
    const settings: WorkerSettings = { ...sessionSettings(DEFAULT_SETTINGS), features: cols, input: 'features', classes: padded(classNames), seed };
    // On a software adapter 'auto' stays on the CPU (LearnerSession.skipSoftwareGpu): rounds on
    // SwiftShader slowed labelling in bench/latency.mjs; "GPU" still uses it.
    const s = newSession(settings, true);
    await append(s, features);
    learnerOf(s).setClassNames(classNames);
    session?.learner?.free();
    session?.scorer?.free();
    session = s;
    test = null;
    return needCore().strategyNames();
  },

  /** The strategy names the engine knows (for the dashboard's menu and for checking stored settings). */
  strategyNames(): string[] {
    return needCore().strategyNames();
  },

  /**
   * Model, strategy, batch size and compute backend, applied at once (the fitted model is
   * dropped when the model changes: refit). A name the engine does not know throws and
   * changes nothing. Asking for the GPU where there is none is not an error here: the
   * learner carries on on the CPU and the next round says why (`Scoring`).
   */
  async configure(s: LearnerSettings): Promise<void> {
    await configure(need(), sessionSettings(s), false);
  },

  /**
   * How good the model is without a test set, and whether to stop: k-fold CV on the
   * labelled samples (k model fits: call it when there is time, not on every label) and
   * the engine's stop suggestion.
   */
  evaluate(folds = 5, withStop = true): Evaluation {
    const l = learnerOf(need());
    const t0 = performance.now();
    // The core's estimate is the dashboard's, but for its confusion counts' array type.
    const e = l.estimateAccuracy(folds) as (Omit<NonNullable<Evaluation['cv']>, 'confusion'> & { confusion: Uint32Array }) | undefined;
    const s = withStop ? (l.stopSuggestion(undefined) as NonNullable<Evaluation['stop']>) : null;
    return {
      labelled: l.labelledCount,
      cv: e ? { ...e, confusion: Array.from(e.confusion) } : null,
      stop: s && { stop: s.stop, reason: s.reason, kappa: s.kappa, uncertainty: s.uncertainty },
      modelKind: l.modelKind ?? null,
      ms: performance.now() - t0,
    };
  },

  /** The fitted model as bytes (see docs/MODEL_FORMAT.md) and what it is. */
  exportModel(): { bytes: Uint8Array; kind: string; width: number; classes: number } {
    const l = learnerOf(need());
    const bytes = l.exportModel();
    const r = { bytes, kind: l.modelKind ?? '', width: l.width, classes: l.nClasses };
    return Comlink.transfer(r, [bytes.buffer]);
  },

  /**
   * Probabilities from exported model bytes on `features` (row-major): reads the file
   * back exactly as another program would, so the app can check an export round-trips.
   */
  predictWithModel(bytes: Uint8Array, features: Float32Array): { kind: string; classNames: string[]; probs: Float32Array } {
    const m = needCore().TrainedModel.fromBytes(bytes);
    try {
      return { kind: m.kind, classNames: m.classNames, probs: m.predictProba(features) };
    } finally {
      m.free();
    }
  },

  /** Probabilities of the session's model for `features` (row-major, the pool's width). */
  predict(features: Float32Array): Float32Array {
    return learnerOf(need()).predictProba(features);
  },

  /**
   * A new class list (a class was added): rebuild the Learner from its own pool, keeping
   * every label. The GPU's copy of the pool stays as it is (the rows did not change).
   */
  setClasses(classNames: string[]): void {
    const s = need();
    const old = learnerOf(s);
    const settings = { ...s.settings, classes: padded(classNames) };
    const l = new (needCore().Learner)(old.poolFeatures(), old.size, old.width, settings.classes.length, settings.seed);
    try {
      applySettings(l, settings);
      l.setClassNames(classNames);
      const labels = old.labels();
      const rows = labels.reduce<number[]>((a, label, i) => (label >= 0 ? (a.push(i), a) : a), []);
      l.teachMany(Uint32Array.from(rows), Uint32Array.from(rows, (i) => labels[i]));
    } catch (e) {
      l.free();
      throw e;
    }
    old.free();
    s.learner = l;
    s.settings = settings;
    s.dirty = true;
  },

  setTest(features: Float32Array, labels: Uint32Array): void {
    test = labels.length ? { features, labels } : null;
  },

  teach(index: number, label: number): void {
    const s = need();
    learnerOf(s).teach(index, label);
    s.dirty = true;
  },

  teachMany(pairs: [number, number][]): void {
    const s = need();
    if (pairs.length === 0) return;
    learnerOf(s).teachMany(Uint32Array.from(pairs, (p) => p[0]), Uint32Array.from(pairs, (p) => p[1]));
    s.dirty = true;
  },

  forget(index: number): void {
    const s = need();
    learnerOf(s).forget(index);
    s.dirty = true;
  },

  /**
   * Refit (when labels or settings changed), evaluate on the held-out split and queue the
   * next `n` picks, scoring the pool on the GPU when the settings and the browser allow;
   * probabilities come back for the picks and for the `also` rows (the sample on screen
   * keeps a fresh guess).
   */
  async refit(n: number, also: number[] = []): Promise<RoundResult> {
    const s = need();
    const wasDirty = s.dirty;
    const l = fitted(s);
    const fitMs = wasDirty ? s.lastFitMs : 0;
    const accuracy = l.isFitted && test ? (l.accuracy(test.features, test.labels) ?? null) : null;
    const queue = await queryNext(s, n);
    const probabilities: Record<number, number[]> = {};
    // As a person reads them: calibrated by the last estimate's temperature (same guess).
    for (const i of [...queue.map((q) => q.index), ...also]) probabilities[i] = Array.from(l.predictSampleCalibrated(i));
    return { fitted: l.isFitted, accuracy, labelled: l.labelledCount, queue, probabilities, fitMs, scoring: scoring(s) };
  },

  /** Tests only: destroy the GPU device, as a driver reset would; false when no GPU is held. */
  loseGpuForTesting(): boolean {
    return loseGpuForTesting(need());
  },
};

// One call at a time, in the order sent. Comlink starts each call as its message arrives,
// and a round awaits the GPU: a teach or a class change must not run in between and
// change (or free) the learner the round is using.
let queue: Promise<unknown> = Promise.resolve();
const serial = Object.fromEntries(
  Object.entries(api).map(([name, f]) => [
    name,
    (...args: unknown[]) => {
      const run = queue.then(() => (f as (...a: unknown[]) => unknown)(...args));
      queue = run.catch(() => {});
      return run;
    },
  ]),
) as unknown as typeof api;

export type EngineApi = typeof api;
Comlink.expose(serial);
