// The learner's Web Worker: holds one learner session (session.ts: the wasm core, the
// core's learner with its pool, labels, model and undo history, GPU pool scoring) and the
// featurizer for raw input, and answers the page's requests (protocol.ts). Training and
// image decoding happen here, so the host page never blocks.
import { toWire } from './errors.js';
import { bytesToFeatures, decodeImage } from './image.js';
import type { Candidate, EventMessage, ImageSettings, Request, Response, WireImage, WorkerSettings } from './protocol.js';
import {
  append, checkSettings, configure, fail, fitted, learnerOf, loadCore, loseGpuForTesting, needCore, newSession, onFit, queryNext, startScorer, stats, toRows,
  type CoatesFeaturizer, type LearnerSession, type TableFeaturizer, type TextFeaturizer,
} from './session.js';

// Declared in protocol.ts, whose declarations name no wasm types: the package's public
// types must not pull in the wasm glue's .d.ts (it needs TypeScript's esnext lib).
export type { Candidate } from './protocol.js';

const SNAPSHOT_MAGIC = 0x4c47524d; // "MRGL" little-endian
/** 1: the package's own format (pool + labels, model refitted on restore). 2: the core's snapshot. */
const SNAPSHOT_VERSION = 2;

let session: LearnerSession | null = null;

function emit(event: EventMessage['event'], data: unknown): void {
  (self as unknown as Worker).postMessage({ event, data } satisfies EventMessage);
}

onFit((info) => emit('progress', { stage: 'fit', ...info }));

function need(): LearnerSession {
  if (!session) fail('E_STATE', 'the learner is not initialised');
  return session;
}


interface Header {
  settings: WorkerSettings;
  /** Bytes of the core's snapshot (0: no samples yet), then of the featurizer's. */
  core: number;
  featurizer: number;
  /**
   * Labels or settings changed since the last fit, so the next query refits (absent before
   * this field existed: then refit only when there is no fitted model).
   */
  dirty?: boolean;
}

/**
 * The session as bytes (format 2), all little-endian:
 *   0..4 magic "MRGL" · 4..8 format version · 8..12 header length h ·
 *   12..12+h header JSON {settings, core, featurizer} · the core's snapshot (`core` bytes:
 *   pool, labels, fitted model, undo history, generator state) · the featurizer's bytes.
 * The core's snapshot restores bit for bit: the restored learner predicts and queries
 * exactly as the saved one would have.
 */
function snapshot(s: LearnerSession): Uint8Array {
  const coreBytes = s.learner ? s.learner.snapshot() : new Uint8Array(0);
  const featBytes = s.featurizer ? s.featurizer.snapshot() : new Uint8Array(0);
  const header = new TextEncoder().encode(JSON.stringify({ settings: s.settings, core: coreBytes.length, featurizer: featBytes.length, dirty: s.dirty } satisfies Header));
  const out = new Uint8Array(12 + header.length + coreBytes.length + featBytes.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, SNAPSHOT_MAGIC, true);
  view.setUint32(4, SNAPSHOT_VERSION, true);
  view.setUint32(8, header.length, true);
  out.set(header, 12);
  out.set(coreBytes, 12 + header.length);
  out.set(featBytes, 12 + header.length + coreBytes.length);
  return out;
}

async function fromSnapshot(bytes: Uint8Array): Promise<LearnerSession> {
  const bad = (why: string): never => fail('E_SNAPSHOT', `these bytes are not a saved Marginalia session: ${why}`);
  if (bytes.length < 12) bad(`only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== SNAPSHOT_MAGIC) bad('wrong magic number');
  const version = view.getUint32(4, true);
  const headerLen = view.getUint32(8, true);
  if (12 + headerLen > bytes.length) bad('truncated header');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLen)));
  } catch (e) {
    return bad(`header is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (version === 1) return fromSnapshotV1(header as V1Header, bytes, 12 + Math.ceil(headerLen / 4) * 4, bad);
  if (version !== SNAPSHOT_VERSION) bad(`format version ${version}; this package reads versions 1 and ${SNAPSHOT_VERSION}`);
  const h = header as Header;
  const start = 12 + headerLen;
  if (bytes.length !== start + h.core + h.featurizer) bad(`expected ${start + h.core + h.featurizer} bytes, got ${bytes.length}`);
  const settings: WorkerSettings = { ...defaults(), ...h.settings };
  const c = needCore();
  const s = newSession(settings, false);
  try {
    if (h.core > 0) s.learner = c.Learner.restore(bytes.subarray(start, start + h.core));
    const fb = bytes.subarray(start + h.core);
    if (h.featurizer > 0) {
      const kind = { text: c.TextFeaturizer, table: c.TableFeaturizer, image: c.CoatesFeaturizer }[settings.input as 'text' | 'table' | 'image'];
      if (!kind) bad(`a featurizer saved for input '${settings.input}'`);
      s.featurizer = kind.restore(fb);
    }
  } catch (e) {
    // The core says E_FORMAT; to the package these are unreadable saved bytes.
    bad(e instanceof Error ? e.message : String(e));
  }
  // A session saved between a label and the next fit refits before its next query, as
  // the saved one would have.
  s.dirty = h.dirty ?? !s.learner?.isFitted;
  return s;
}

interface V1Header {
  settings: WorkerSettings;
  rows: number;
  labels: [number, number][];
  history: [number, number, number][];
}

/**
 * Format 1 (before the core had snapshots): the pool, the labels and the undo history.
 * Replaying the history's labels in order rebuilds both; the model is then refitted, so
 * its predictions match the saved session's closely (softmax is convex) but not bit for bit.
 */
async function fromSnapshotV1(h: V1Header, bytes: Uint8Array, start: number, bad: (why: string) => never): Promise<LearnerSession> {
  const n = h.rows * h.settings.features;
  if (bytes.length !== start + n * 4) bad(`expected ${start + n * 4} bytes for ${h.rows} samples, got ${bytes.length}`);
  // Copy: the input may not be 4-byte aligned and belongs to the caller.
  const features = new Float32Array(n);
  new Uint8Array(features.buffer).set(bytes.subarray(start, start + n * 4));
  const s = newSession({ ...defaults(), ...h.settings }, true);
  if (h.rows > 0) {
    await append(s, features);
    const l = learnerOf(s);
    for (const [index, label] of h.history) l.teach(index, label);
    for (const [index, label] of h.labels) if (l.labelOf(index) !== label) l.teach(index, label);
  }
  return s;
}

/** Settings added since format 1, at their defaults. */
function defaults(): Pick<WorkerSettings, 'committee' | 'input'> {
  return { committee: 0, input: 'features' };
}


function checkInput(s: LearnerSession, want: 'text' | 'table' | 'image', op: string): void {
  if (s.settings.input !== want) fail('E_STATE', `${op} needs a learner created with input: '${want}' (this one takes ${s.settings.input})`);
}

/** What an image argument was, for error messages. */
function describeImage(x: unknown): string {
  if (typeof x === 'string') return x.length > 80 ? `${x.slice(0, 77)}...` : x;
  if (typeof File !== 'undefined' && x instanceof File) return `file '${x.name}', ${x.type || 'no type'}, ${x.size} bytes`;
  if (x instanceof Blob) return `a Blob, ${x.type || 'no type'}, ${x.size} bytes`;
  if (typeof ImageBitmap !== 'undefined' && x instanceof ImageBitmap) return `an ImageBitmap ${x.width}×${x.height}`;
  if (typeof ImageData !== 'undefined' && x instanceof ImageData) return `ImageData ${x.width}×${x.height}`;
  return x === null ? 'null' : typeof x;
}

async function fetchImage(url: string): Promise<Blob> {
  let r: globalThis.Response;
  try {
    r = await fetch(url);
  } catch (e) {
    throw new Error(`could not be fetched (${e instanceof Error ? e.message : String(e)}; another origin must allow it with CORS)`);
  }
  if (!r.ok) throw new Error(`could not be fetched (HTTP ${r.status})`);
  return r.blob();
}

/**
 * Decode every image to `size`² × `channels` bytes, concatenated. All or nothing: one
 * unreadable image rejects the batch with E_IMAGE naming each failure, and adds nothing.
 */
async function decodeAll(images: WireImage[], im: ImageSettings): Promise<Uint8Array> {
  if (!Array.isArray(images) || images.length === 0) fail('E_INVALID_PARAM', 'addImages needs a non-empty array of images');
  const per = im.size * im.size * im.channels;
  const out = new Uint8Array(images.length * per);
  const problems: string[] = [];
  for (let i = 0; i < images.length; i++) {
    const x = images[i];
    try {
      const ok = typeof x === 'string' || x instanceof Blob || x instanceof ImageBitmap || x instanceof ImageData;
      if (!ok) throw new Error('is not an image (a Blob or File, ImageBitmap, ImageData, <img>, canvas or URL)');
      const src = typeof x === 'string' ? await fetchImage(x) : x;
      out.set(await decodeImage(src, im.size, im.channels), i * per);
    } catch (e) {
      problems.push(`image ${i} (${describeImage(x)}) ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      if (x instanceof ImageBitmap) x.close(); // the worker's copy
    }
    // Large batches take seconds: let the page show how far along it is.
    if ((i + 1) % 32 === 0 || i + 1 === images.length) emit('progress', { stage: 'images', done: i + 1, total: images.length });
  }
  if (problems.length) {
    const shown = problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '');
    fail('E_IMAGE', `${problems.length} of ${images.length} images could not be read, so none was added: ${shown}`);
  }
  return out;
}

/** Image bytes to features: pixels scaled to [0, 1], or the fitted Coates & Ng features. */
function imageFeatures(s: LearnerSession, bytes: Uint8Array, fitIfNeeded: boolean): Float32Array {
  const im = s.settings.image as ImageSettings;
  if (im.features === 'pixels') return bytesToFeatures(bytes);
  if (!s.featurizer) {
    if (!fitIfNeeded) fail('E_STATE', 'nothing to featurize with: add the pool first (the image features are learned from it)');
    const c = needCore();
    const f = c.CoatesFeaturizer.fit(bytes, im.size, im.size, im.centroids, im.patch, im.patches, s.settings.seed);
    s.featurizer = f;
    return f.takePoolFeatures() as Float32Array;
  }
  return (s.featurizer as CoatesFeaturizer).transform(bytes);
}

/** What the worker can do; each is called by name from the page. */
const ops = {
  async init(settings: WorkerSettings, restoreFrom?: Uint8Array) {
    const simd = await loadCore();
    const s: LearnerSession = restoreFrom ? await fromSnapshot(restoreFrom) : newSession(settings, true);
    checkSettings(s.settings);
    if (s.settings.backend === 'webgpu') await startScorer(s);
    session?.learner?.free();
    session?.scorer?.free();
    session = s;
    const c = needCore();
    return { simd, backend: s.scorer ? ('webgpu' as const) : ('cpu' as const), strategies: c.strategyNames(), models: c.modelNames(), stats: stats(s) };
  },

  async addSamples(values: Float32Array | number[]) {
    const s = need();
    if (s.settings.input !== 'features') fail('E_STATE', `this learner takes ${s.settings.input} input: use ${{ text: 'addTexts', table: 'addRows', image: 'addImages' }[s.settings.input]}`);
    return append(s, toRows(values, s.settings.features, 'addSamples'));
  },

  async addTexts(texts: string[]) {
    const s = need();
    checkInput(s, 'text', 'addTexts');
    if (!Array.isArray(texts) || texts.length === 0 || texts.some((t) => typeof t !== 'string')) fail('E_INVALID_PARAM', 'addTexts needs a non-empty array of strings');
    const c = needCore();
    if (!s.featurizer) {
      const f = c.TextFeaturizer.fit(texts, s.settings.textMinDf, s.settings.textMaxFeatures);
      s.featurizer = f;
      s.settings = { ...s.settings, features: f.width };
    }
    return append(s, (s.featurizer as TextFeaturizer).transform(texts));
  },

  async addRows(csv: string) {
    const s = need();
    checkInput(s, 'table', 'addRows');
    if (typeof csv !== 'string') fail('E_INVALID_PARAM', 'addRows needs CSV text (a header line, then one line per sample)');
    const c = needCore();
    if (!s.featurizer) {
      const f = c.TableFeaturizer.fit(csv, s.settings.columns ?? []);
      s.featurizer = f;
      s.settings = { ...s.settings, features: f.width, columns: f.columns };
    }
    return append(s, (s.featurizer as TableFeaturizer).transform(csv));
  },

  async addImages(images: WireImage[]) {
    const s = need();
    checkInput(s, 'image', 'addImages');
    const bytes = await decodeAll(images, s.settings.image as ImageSettings);
    return append(s, imageFeatures(s, bytes, true));
  },

  /** Featurize texts, CSV rows or images the way the pool was, e.g. for predict/evaluate. */
  async featurize(input: string[] | string | WireImage[]): Promise<Float32Array> {
    const s = need();
    if (s.settings.input === 'image') return imageFeatures(s, await decodeAll(input as WireImage[], s.settings.image as ImageSettings), false);
    if (!s.featurizer) fail('E_STATE', `nothing to featurize with: ${s.settings.input === 'features' ? 'this learner takes features' : 'add the pool first'}`);
    if (s.settings.input === 'text') return (s.featurizer as TextFeaturizer).transform(input as string[]);
    return (s.featurizer as TableFeaturizer).transform(input as string);
  },

  async query(requested: number | null): Promise<Candidate[]> {
    const s = need();
    const n = requested ?? s.settings.batchSize;
    if (!Number.isInteger(n) || n < 1) fail('E_INVALID_PARAM', `query needs a whole number ≥ 1 of samples, got ${n}`);
    return queryNext(s, n);
  },

  /** Tests only: destroy the GPU device, as a driver reset would. */
  loseGpuForTesting(): boolean {
    return loseGpuForTesting(need());
  },

  teach(pairs: { index: number; label: number }[]) {
    const s = need();
    const l = learnerOf(s);
    const rows = l.size;
    // Check all first (with the package's wording), so a bad pair in a batch teaches nothing.
    for (const { index, label } of pairs) {
      if (!Number.isInteger(index) || index < 0 || index >= rows) fail('E_UNKNOWN_SAMPLE', `unknown sample index ${index}: the pool has ${rows} samples`);
      if (!Number.isInteger(label) || label < 0 || label >= s.settings.classes.length) {
        fail('E_LABEL_RANGE', `label ${label} for sample ${index} is out of range: there are ${s.settings.classes.length} classes`);
      }
    }
    l.teachMany(Uint32Array.from(pairs, (p) => p.index), Uint32Array.from(pairs, (p) => p.label));
    s.dirty = true;
    return stats(s);
  },

  undo() {
    const s = need();
    if (!s.learner) return null;
    const before = s.learner.labels();
    const index = s.learner.undo();
    if (index === undefined) return null;
    s.dirty = true;
    return { index, label: before[index] };
  },

  predict(values: Float32Array | number[]): Float32Array {
    const s = need();
    const data = toRows(values, s.settings.features, 'predict');
    const l = fitted(s);
    if (!l.isFitted) fail('E_STATE', 'the model needs labels from at least two classes before it can predict');
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

  estimateAccuracy(folds: number) {
    const s = need();
    if (!Number.isInteger(folds) || folds < 2) fail('E_INVALID_PARAM', `estimateAccuracy needs a whole number ≥ 2 of folds, got ${folds}`);
    const l = learnerOf(s);
    const e = l.estimateAccuracy(folds) as { mean: number; se: number; folds: number; confusion: Uint32Array } | undefined;
    if (!e) return null;
    // The core gives a flat k × k array; the API promises rows, one per class given.
    const k = l.nClasses;
    const confusion = Array.from({ length: k }, (_, i) => Array.from(e.confusion.subarray(i * k, (i + 1) * k)));
    return { mean: e.mean, se: e.se, folds: e.folds, confusion };
  },

  stopSuggestion(budget: number | null) {
    const s = need();
    if (budget !== null && (!Number.isInteger(budget) || budget < 0)) fail('E_INVALID_PARAM', `budget must be a whole number ≥ 0, got ${budget}`);
    return fitted(s).stopSuggestion(budget ?? undefined) as { stop: boolean; reason: string; kappa: number | null; uncertainty: number | null; budgetLeft: number | null };
  },

  async configure(changes: Partial<{ strategy: string; model: string; batchSize: number; committee: number }>) {
    const s = need();
    // The documented four only: the backend is chosen once, in createLearner.
    const { strategy, model, batchSize, committee } = changes ?? {};
    const picked = Object.fromEntries(Object.entries({ strategy, model, batchSize, committee }).filter(([, v]) => v !== undefined));
    await configure(s, picked);
    return stats(s);
  },

  labels(): [number, number][] {
    const s = need();
    if (!s.learner) return [];
    const out: [number, number][] = [];
    s.learner.labels().forEach((label, index) => label >= 0 && out.push([index, label]));
    return out;
  },

  stats() {
    return stats(need());
  },

  save(): Uint8Array {
    return snapshot(need());
  },
};

export type WorkerOps = typeof ops;

async function handle({ id, op, args }: Request): Promise<void> {
  let reply: Response;
  try {
    const fn = (ops as Record<string, (...a: unknown[]) => unknown>)[op];
    if (!fn) fail('E_INTERNAL', `the worker has no operation '${op}'`);
    reply = { id, ok: true, value: await fn(...args) };
  } catch (e) {
    reply = { id, ok: false, error: toWire(e) };
  }
  (self as unknown as Worker).postMessage(reply);
}

// One request at a time, in the order sent: some operations await (image decoding, the
// GPU), and a call sent meanwhile (a teach, a second addImages) must not run in between
// and see half a batch, or append its samples out of order.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (ev: MessageEvent<Request>) => {
  queue = queue.then(() => handle(ev.data));
};

// Errors outside a request (a panic in a callback, a failed import) still reach the page,
// as an 'error' event (which the page logs when nobody listens): not also logged here.
self.addEventListener('unhandledrejection', (ev) => {
  ev.preventDefault();
  emit('error', toWire((ev as PromiseRejectionEvent).reason));
});
