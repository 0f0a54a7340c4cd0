// The learner's Web Worker: loads the wasm core once (the SIMD build when the browser
// validates SIMD), keeps the pool, the labels and the undo history, and answers the page's
// requests (protocol.ts). Training happens here, so the host page never blocks.
// Both builds' glue is imported statically (a few kB each) and only one wasm is fetched:
// no dynamic import, so the worker bundles as one chunk in any bundler or worker format.
import initScalar, * as scalarCore from '../pkg/scalar/marginalia.js';
import initSimd, * as simdCore from '../pkg/simd/marginalia.js';
import { MarginaliaError, toWire } from './errors.js';
import type { EventMessage, Request, Response, WorkerSettings } from './protocol.js';

type Core = typeof simdCore;
type WasmLearner = InstanceType<Core['Learner']>;

/** One queried sample: its pool index, its score (higher = more worth asking), why. */
export interface Candidate {
  index: number;
  score: number;
  reason: string;
}

// A minimal module using one SIMD instruction (i8x16.splat): if the browser validates it,
// it runs SIMD128 code, so the faster build is loaded.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

const SNAPSHOT_MAGIC = 0x4c47524d; // "MRGL" little-endian
const SNAPSHOT_VERSION = 1;

interface UndoEntry {
  index: number;
  label: number;
  /** The label the sample had before (undefined: none). */
  previous: number | undefined;
}

interface Session {
  settings: WorkerSettings;
  /** Row-major pool features, `rows × settings.features`, with spare capacity. */
  features: Float32Array;
  rows: number;
  labels: Map<number, number>;
  history: UndoEntry[];
  /** The core's learner over the first `learnerRows` rows; rebuilt when the pool grows. */
  learner: WasmLearner | null;
  learnerRows: number;
  /** Labels changed since the last fit. */
  dirty: boolean;
  fitted: boolean;
}

let core: Core | null = null;
let simd = false;
let session: Session | null = null;

function emit(event: EventMessage['event'], data: unknown): void {
  (self as unknown as Worker).postMessage({ event, data } satisfies EventMessage);
}

function fail(code: ConstructorParameters<typeof MarginaliaError>[0], message: string): never {
  throw new MarginaliaError(code, message);
}

function need(): Session {
  if (!session) fail('E_STATE', 'the learner is not initialised');
  return session;
}

function needCore(): Core {
  if (!core) fail('E_WORKER', 'the wasm core is not loaded');
  return core;
}

async function loadCore(): Promise<void> {
  if (core) return;
  simd = WebAssembly.validate(SIMD_PROBE);
  try {
    if (simd) await initSimd();
    else await initScalar();
    core = simd ? simdCore : (scalarCore as unknown as Core);
  } catch (e) {
    fail('E_WORKER', `the wasm core could not be loaded (${simd ? 'SIMD' : 'scalar'} build): ${e instanceof Error ? e.message : String(e)}`);
  }
}

function checkSettings(s: WorkerSettings): void {
  const c = needCore();
  const strategies = c.strategyNames();
  const models = c.modelNames();
  if (!strategies.includes(s.strategy)) fail('E_INVALID_PARAM', `unknown strategy '${s.strategy}'; known: ${strategies.join(', ')}`);
  if (!models.includes(s.model)) fail('E_INVALID_PARAM', `unknown model '${s.model}'; known: ${models.join(', ')}`);
  if (!Number.isInteger(s.batchSize) || s.batchSize < 1) fail('E_INVALID_PARAM', `batchSize must be a whole number ≥ 1, got ${s.batchSize}`);
  if (!Number.isInteger(s.features) || s.features < 1) fail('E_INVALID_PARAM', `features (the width of a sample) must be a whole number ≥ 1, got ${s.features}`);
  if (s.classes.length < 2) fail('E_INVALID_PARAM', `need at least 2 classes, got ${s.classes.length}`);
  if (!['auto', 'cpu', 'webgpu'].includes(s.backend)) fail('E_INVALID_PARAM', `backend must be 'auto', 'webgpu' or 'cpu', got '${s.backend}'`);
  if (s.backend === 'webgpu') {
    // Loud rather than a silent CPU fallback: the core's learner trains on the CPU only.
    const has = typeof navigator !== 'undefined' && 'gpu' in navigator;
    fail(
      'E_BACKEND_UNAVAILABLE',
      has
        ? "backend 'webgpu' was requested, but this build's learner trains on the CPU only; use 'auto' or 'cpu'"
        : "backend 'webgpu' was requested, but this browser has no WebGPU (navigator.gpu); use 'auto' or 'cpu'",
    );
  }
}

/** Build (or rebuild, when the pool grew) the core's learner, re-teaching every label. */
function learnerFor(s: Session): WasmLearner {
  if (s.rows === 0) fail('E_EMPTY', 'the pool is empty: addSamples first');
  if (s.learner && s.learnerRows === s.rows) return s.learner;
  const c = needCore();
  const fresh = new c.Learner(s.features.subarray(0, s.rows * s.settings.features), s.rows, s.settings.features, s.settings.classes.length, s.settings.seed);
  fresh.setClassNames(s.settings.classes);
  for (const [index, label] of s.labels) fresh.teach(index, label);
  s.learner?.free();
  s.learner = fresh;
  s.learnerRows = s.rows;
  s.dirty = true;
  return fresh;
}

/** Refit when labels changed since the last fit; report the fit as progress. */
function fitted(s: Session): WasmLearner {
  const l = learnerFor(s);
  if (s.dirty) {
    const t0 = performance.now();
    s.fitted = l.fit();
    s.dirty = false;
    emit('progress', { stage: 'fit', labelled: s.labels.size, fitted: s.fitted, ms: performance.now() - t0 });
  }
  return l;
}

function toRows(values: Float32Array | number[], width: number, what: string): Float32Array {
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  if (data.length === 0 || data.length % width !== 0) {
    fail('E_SHAPE', `${what}: ${data.length} values is not a whole number of samples of ${width} features each`);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) fail('E_NONFINITE', `${what}: non-finite value ${data[i]} at row ${Math.floor(i / width)}, column ${i % width}`);
  }
  return data;
}

/**
 * The session as bytes (format 1), all little-endian:
 *   0..4 magic "MRGL" · 4..8 format version · 8..12 header length h ·
 *   12..12+h header JSON {settings, rows, labels: [index, label][], history: [index, label, previous | -1][]} ·
 *   padding to a multiple of 4 · rows × features f32 (the pool, row-major).
 * The core has no model snapshot yet, so the model is refitted from the labels on restore;
 * softmax regression is convex, so the refit reaches the same optimum (tested to 1e-4).
 */
function snapshot(s: Session): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({
      settings: s.settings,
      rows: s.rows,
      labels: [...s.labels],
      history: s.history.map((h) => [h.index, h.label, h.previous ?? -1]),
    }),
  );
  const headerPadded = Math.ceil(header.length / 4) * 4; // features start 4-byte aligned
  const out = new Uint8Array(12 + headerPadded + s.rows * s.settings.features * 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, SNAPSHOT_MAGIC, true);
  view.setUint32(4, SNAPSHOT_VERSION, true);
  view.setUint32(8, header.length, true);
  out.set(header, 12);
  out.set(new Uint8Array(s.features.buffer, s.features.byteOffset, s.rows * s.settings.features * 4), 12 + headerPadded);
  return out;
}

function fromSnapshot(bytes: Uint8Array): Session {
  const bad = (why: string): never => fail('E_SNAPSHOT', `these bytes are not a saved Marginalia session: ${why}`);
  if (bytes.length < 12) bad(`only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== SNAPSHOT_MAGIC) bad('wrong magic number');
  const version = view.getUint32(4, true);
  if (version !== SNAPSHOT_VERSION) bad(`format version ${version}; this package reads version ${SNAPSHOT_VERSION}`);
  const headerLen = view.getUint32(8, true);
  if (12 + headerLen > bytes.length) bad('truncated header');
  let header: { settings: WorkerSettings; rows: number; labels: [number, number][]; history: [number, number, number][] };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLen)));
  } catch (e) {
    return bad(`header is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const start = 12 + Math.ceil(headerLen / 4) * 4;
  const n = header.rows * header.settings.features;
  if (bytes.length !== start + n * 4) bad(`expected ${start + n * 4} bytes for ${header.rows} samples, got ${bytes.length}`);
  // Copy: the input may not be 4-byte aligned and belongs to the caller.
  const features = new Float32Array(Math.max(n, 1));
  new Uint8Array(features.buffer).set(bytes.subarray(start, start + n * 4));
  return {
    settings: header.settings,
    features,
    rows: header.rows,
    labels: new Map(header.labels),
    history: header.history.map(([index, label, previous]) => ({ index, label, previous: previous < 0 ? undefined : previous })),
    learner: null,
    learnerRows: 0,
    dirty: true,
    fitted: false,
  };
}

function stats(s: Session) {
  return {
    samples: s.rows,
    labelled: s.labels.size,
    fitted: s.fitted,
    strategy: s.settings.strategy,
    model: s.settings.model,
    batchSize: s.settings.batchSize,
    classes: s.settings.classes,
    features: s.settings.features,
  };
}

/** What the worker can do; each is called by name from the page. */
const ops = {
  async init(settings: WorkerSettings, restoreFrom?: Uint8Array) {
    await loadCore();
    const s: Session = restoreFrom
      ? fromSnapshot(restoreFrom)
      : { settings, features: new Float32Array(1024), rows: 0, labels: new Map(), history: [], learner: null, learnerRows: 0, dirty: true, fitted: false };
    checkSettings(s.settings);
    session?.learner?.free();
    session = s;
    const c = needCore();
    return { simd, backend: 'cpu' as const, strategies: c.strategyNames(), models: c.modelNames(), stats: stats(s) };
  },

  addSamples(values: Float32Array | number[]) {
    const s = need();
    const width = s.settings.features;
    const data = toRows(values, width, 'addSamples');
    const first = s.rows;
    const needed = (s.rows * width) + data.length;
    if (needed > s.features.length) {
      const grown = new Float32Array(Math.max(needed, s.features.length * 2));
      grown.set(s.features.subarray(0, s.rows * width));
      s.features = grown;
    }
    s.features.set(data, s.rows * width);
    s.rows += data.length / width;
    return { first, count: data.length / width };
  },

  query(requested: number | null): Candidate[] {
    const s = need();
    const n = requested ?? s.settings.batchSize;
    if (!Number.isInteger(n) || n < 1) fail('E_INVALID_PARAM', `query needs a whole number ≥ 1 of samples, got ${n}`);
    return fitted(s).queryWith(s.settings.strategy, n) as Candidate[];
  },

  teach(pairs: { index: number; label: number }[]) {
    const s = need();
    const l = learnerFor(s);
    // Check all first, so a bad pair in a batch teaches nothing.
    for (const { index, label } of pairs) {
      if (!Number.isInteger(index) || index < 0 || index >= s.rows) fail('E_UNKNOWN_SAMPLE', `unknown sample index ${index}: the pool has ${s.rows} samples`);
      if (!Number.isInteger(label) || label < 0 || label >= s.settings.classes.length) {
        fail('E_LABEL_RANGE', `label ${label} for sample ${index} is out of range: there are ${s.settings.classes.length} classes`);
      }
    }
    for (const { index, label } of pairs) {
      l.teach(index, label);
      s.history.push({ index, label, previous: s.labels.get(index) });
      s.labels.set(index, label);
    }
    s.dirty = true;
    return stats(s);
  },

  undo() {
    const s = need();
    const last = s.history.pop();
    if (!last) return null;
    const l = learnerFor(s);
    if (last.previous === undefined) {
      l.forget(last.index);
      s.labels.delete(last.index);
    } else {
      l.teach(last.index, last.previous);
      s.labels.set(last.index, last.previous);
    }
    s.dirty = true;
    return { index: last.index, label: last.label };
  },

  predict(values: Float32Array | number[]): Float32Array {
    const s = need();
    const data = toRows(values, s.settings.features, 'predict');
    const l = fitted(s);
    if (!s.fitted) fail('E_STATE', 'the model needs labels from at least two classes before it can predict');
    return l.predictProba(data);
  },

  evaluate(values: Float32Array | number[], labels: number[] | Uint32Array) {
    const s = need();
    const data = toRows(values, s.settings.features, 'evaluate');
    const y = Uint32Array.from(labels);
    if (y.length * s.settings.features !== data.length) {
      fail('E_SHAPE', `evaluate: ${data.length / s.settings.features} samples but ${y.length} labels`);
    }
    const l = fitted(s);
    const accuracy = l.accuracy(data, y);
    return { accuracy: accuracy ?? null, samples: y.length };
  },

  configure(changes: Partial<{ strategy: string; model: string; batchSize: number }>) {
    const s = need();
    const next = { ...s.settings, ...changes };
    checkSettings(next);
    s.settings = next;
    return stats(s);
  },

  labels(): [number, number][] {
    return [...need().labels];
  },

  stats() {
    return stats(need());
  },

  save(): Uint8Array {
    return snapshot(need());
  },
};


export type WorkerOps = typeof ops;

self.onmessage = async (ev: MessageEvent<Request>) => {
  const { id, op, args } = ev.data;
  let reply: Response;
  try {
    const fn = (ops as Record<string, (...a: unknown[]) => unknown>)[op];
    if (!fn) fail('E_INTERNAL', `the worker has no operation '${op}'`);
    reply = { id, ok: true, value: await fn(...args) };
  } catch (e) {
    reply = { id, ok: false, error: toWire(e) };
  }
  (self as unknown as Worker).postMessage(reply);
};

// Errors outside a request (a panic in a callback, a failed import) still reach the page.
self.addEventListener('unhandledrejection', (ev) => emit('error', toWire((ev as PromiseRejectionEvent).reason)));
