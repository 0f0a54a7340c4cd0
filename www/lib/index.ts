/**
 * The headless learner: `createLearner`, `restoreLearner`, `Learner`, `MarginaliaError`.
 * @module marginalia
 */
// The headless API of the `marginalia` package: a learner that runs in a Web Worker.
// Every method returns a Promise and never blocks the page; every failure rejects with a
// `MarginaliaError` carrying a stable `code`.
import { fromWire, MarginaliaError, type WireError } from './errors.js';
import type { EventMessage, ImageSettings, Request, Response, WireImage, WorkerSettings } from './protocol.js';
import type { Candidate, WorkerOps } from './worker.js';

export { MarginaliaError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { Candidate } from './worker.js';

/**
 * One image for {@link Learner.addImages}: a `Blob` or `File` (PNG, JPEG, WebP, GIF, BMP),
 * an `ImageBitmap`, `ImageData`, an `<img>` (loaded or loading), a `<canvas>` or
 * `OffscreenCanvas`, or a URL (relative to the page; another origin must allow CORS).
 */
export type ImageInput = Blob | ImageBitmap | ImageData | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | string | URL;

/** How images become features ({@link LearnerOptions.image}). */
export interface ImageOptions {
  /**
   * The side, in pixels, every image is resized to (a square, as the app does). Default `32`.
   * Aspect ratios are not kept: crop first when that matters.
   */
  size?: number;
  /** `1` (default): grey (ITU-R BT.601 luma); `3`: RGB. Transparent pixels count as white. */
  channels?: 1 | 3;
  /**
   * `'pixels'` (default): one feature per pixel and channel, the byte scaled to [0, 1]
   * (size² × channels features). `'coates'`: convolutional features learned without labels
   * from the first batch added (Coates, Lee & Ng 2011: whitened 6×6 patches, k-means,
   * triangle encoding, pooled over the four quadrants; 4 × `centroids` features,
   * standardized on the first batch). Grey images only; better accuracy than pixels on
   * natural images, for more time spent adding them.
   */
  features?: 'pixels' | 'coates';
  /** `'coates'`: centroids K. Default `128` (512 features). */
  centroids?: number;
  /** `'coates'`: patch side in pixels. Default `6`. */
  patch?: number;
  /** `'coates'`: random patches drawn to fit the whitening and k-means. Default `20000`. */
  patches?: number;
}

/**
 * Options for {@link createLearner}. `classes` is required, and `features` when `input` is
 * `'features'` (for texts, rows and images the width comes from the featurizer). Unknown
 * option names are rejected (`E_INVALID_PARAM`), so a misspelt option never goes unnoticed.
 */
export interface LearnerOptions {
  /** Number of features per sample (the width of every row you add). Required for `input: 'features'`. */
  features?: number;
  /**
   * What samples arrive as. Default `'features'` ({@link Learner.addSamples}). `'text'`:
   * {@link Learner.addTexts}, TF-IDF over words and word pairs. `'table'`:
   * {@link Learner.addRows}, CSV rows with numbers standardized and categories one-hot.
   * Either featurizer is fitted on the first batch added, so add the pool in one call.
   * `'image'`: {@link Learner.addImages}, decoded and resized in the worker (see
   * {@link LearnerOptions.image}).
   */
  input?: 'features' | 'text' | 'table' | 'image';
  /** `input: 'image'`: size, channels and features. Default: 32 × 32 grey pixels. */
  image?: ImageOptions;
  /** The classes: their names, or how many (then named "0", "1", ...). At least 2. Required. */
  classes: string[] | number;
  /**
   * The model to train. Default `'softmax'` (softmax regression); `'mlp'` is a small
   * neural network (one hidden layer). See {@link Learner.models}.
   */
  model?: 'softmax' | 'mlp' | (string & {});
  /**
   * The query strategy. Default `'margin'`. See {@link Learner.strategies} for the names this
   * build knows; the committee ones (`vote_entropy`, `consensus_entropy`, `mean_kl`,
   * `max_kl`) make the learner train a bootstrap committee of {@link LearnerOptions.committee} models.
   */
  strategy?: string;
  /** Committee members: `0` (default) trains one model, and committee strategies then train 5; else ≥ 2. */
  committee?: number;
  /** How many samples {@link Learner.query} returns when not told. Default `1`. */
  batchSize?: number;
  /**
   * Where the pool is scored before each query. Default `'auto'`: on the GPU (WebGPU) when
   * the browser has a hardware adapter and a round is large enough to gain, else on the CPU
   * (SIMD wasm when available). A software adapter (SwiftShader, which Chromium offers
   * where there is no usable GPU) is passed over: it emulates the GPU on the CPU, many
   * times slower than the wasm path ({@link LearnerStats.gpuFallback} says so). `'webgpu'`: on the GPU every round, a software adapter too; `E_BACKEND_UNAVAILABLE` when
   * there is no WebGPU, rather than silently using the CPU. `'cpu'`: never the GPU.
   * If the GPU device is lost mid-session, scoring carries on on the CPU with the same
   * picks ({@link LearnerStats.backend} then says `'cpu'`).
   *
   * The GPU scores softmax regression, the MLP and committees of either with `margin`,
   * `entropy` or `least_confident`, and committees with `vote_entropy`,
   * `consensus_entropy`, `mean_kl` or `max_kl`; other strategies score on the CPU
   * whatever this says.
   */
  backend?: 'auto' | 'webgpu' | 'cpu';
  /** `input: 'text'`: keep words seen in at least this many texts (default 2) and at most `maxFeatures` of them (default 4096). */
  text?: { minDf?: number; maxFeatures?: number };
  /** `input: 'table'`: the CSV columns to encode (default: every column). Leave the label out. */
  columns?: string[];
  /** Seed for every random choice (cold-start picks, tie-breaking). Default `0`. */
  seed?: number;
  /**
   * How to start the worker. Default: the package's own `worker.js` as a module worker.
   * Override when your bundler or CSP needs a different URL.
   */
  worker?: () => Worker;
  /** Give up when the worker has not answered its first message within this time. Default `30000` ms. */
  startTimeoutMs?: number;
}

/** What the worker reports while it works: a fit, or images decoded so far. */
export type ProgressEvent = FitProgress | ImageProgress;

/** The model was fitted (before a query, after labels or settings changed). */
export interface FitProgress {
  stage: 'fit';
  /** Labelled samples the model was fitted on. */
  labelled: number;
  /** False while fewer than two classes are labelled (nothing to separate yet). */
  fitted: boolean;
  /** Milliseconds the fit took. */
  ms: number;
}

/** Images of one {@link Learner.addImages} or {@link Learner.featurize} call decoded so far (every 32, and the last). */
export interface ImageProgress {
  stage: 'images';
  done: number;
  total: number;
}

/** A snapshot of the learner's state. */
export interface LearnerStats {
  samples: number;
  labelled: number;
  fitted: boolean;
  strategy: string;
  model: string;
  /** Committee members asked for (0: one model, or 5 for a committee strategy). */
  committee: number;
  batchSize: number;
  classes: string[];
  /** Features per sample (for text or table input: the featurizer's width, 0 before the first batch). */
  features: number;
  input: 'features' | 'text' | 'table' | 'image';
  /** For image input: the resolved image options; else `null`. */
  image: Required<ImageOptions> | null;
  /** Where the last query scored the pool. */
  backend: 'webgpu' | 'cpu';
  /**
   * Why the last query did not score on the GPU, or `null` when it did (or before the first
   * query): `backend 'cpu'`, no WebGPU adapter, a round too small for `'auto'` to gain, a
   * model or strategy the GPU does not score, or the device lost mid-session.
   */
  gpuFallback: string | null;
}

/** The result of {@link Learner.estimateAccuracy}: k-fold cross-validation on the labelled samples. */
export interface AccuracyEstimate {
  /** Mean accuracy over the folds. */
  mean: number;
  /** Standard error of the mean (somewhat optimistic: folds share training data). A guide, not an interval. */
  se: number;
  /** Folds used (at most the number of labelled samples). */
  folds: number;
  /**
   * Confusion matrix of the out-of-fold predictions: `confusion[given][predicted]` counts
   * labelled samples, one row and one column per class, in the learner's class order.
   */
  confusion: number[][];
}

/**
 * The result of {@link Learner.stopSuggestion}: whether labelling more is likely to help.
 * A suggestion; the person may go on.
 */
export interface StopSuggestion {
  /** True when one criterion says stop. */
  stop: boolean;
  /** One sentence: which criterion fired, or how far each is from firing. */
  reason: string;
  /**
   * Agreement (Cohen's kappa) of the last models' predictions on a fixed set of samples,
   * averaged over 3 fits; `null` until there have been 4 fits. Stops at ≥ 0.99.
   */
  kappa: number | null;
  /** Mean normalized entropy of the model on the unlabelled pool, 0..1; stops at ≤ 0.05. `null` before a fit. */
  uncertainty: number | null;
  /** Labels left in the budget you passed, or `null`. */
  budgetLeft: number | null;
}

/** The result of {@link Learner.evaluate}. */
export interface Evaluation {
  /** Fraction of `labels` the model predicts; `null` before the model is fitted. */
  accuracy: number | null;
  samples: number;
}

/** One label: a pool index and a class index. */
export interface Label {
  index: number;
  label: number;
}

/** A function subscribed with {@link Learner.on}. */
export type Listener<T> = (data: T) => void;

/** An active-learning session running in its own Web Worker. Create with {@link createLearner}. */
export class Learner {
  /** Query strategies this build knows (read from the wasm core). */
  readonly strategies: readonly string[];
  /** Models this build can train (read from the wasm core). */
  readonly models: readonly string[];
  /** True when the SIMD build of the core was loaded. */
  readonly simd: boolean;
  /** Where pool scoring runs at the start: `'webgpu'` when a GPU is in use (see {@link LearnerOptions.backend}). */
  readonly backend: 'cpu' | 'webgpu';

  #worker: Worker;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: MarginaliaError) => void }>();
  #nextId = 1;
  #listeners = { progress: new Set<Listener<ProgressEvent>>(), error: new Set<Listener<MarginaliaError>>() };
  #dead: MarginaliaError | null = null;
  /** What samples arrive as (fixed for a learner's life): featurize needs it before sending. */
  #input: LearnerStats['input'];
  /** Posts waiting behind an earlier call whose arguments are still being prepared (images). */
  #backlog: Promise<void> | null = null;

  /** @internal Use {@link createLearner}. */
  constructor(worker: Worker, info: WorkerInfo, wire: WireChannel) {
    this.#worker = worker;
    this.strategies = info.strategies;
    this.models = info.models;
    this.simd = info.simd;
    this.backend = info.backend;
    this.#input = info.stats.input;
    wire.attach(this);
  }

  /** @internal */
  _settle(msg: Response | EventMessage): void {
    if ('event' in msg) {
      if (msg.event === 'progress') for (const f of this.#listeners.progress) f(msg.data as ProgressEvent);
      else this.#raise(fromWire(msg.data as WireError));
      return;
    }
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.value);
    else p.reject(fromWire(msg.error));
  }

  /**
   * @internal The worker is gone: reject everything pending and every later call with `e`.
   * `report`: also raise it as an `error` event (not when the app disposed on purpose).
   */
  _die(e: MarginaliaError, report = true): void {
    if (this.#dead) return;
    this.#dead = e;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
    if (report) this.#raise(e);
  }

  #raise(e: MarginaliaError): void {
    if (this.#listeners.error.size === 0) console.error(e); // never silent
    for (const f of this.#listeners.error) f(e);
  }

  #call<K extends keyof WorkerOps>(op: K, ...args: Parameters<WorkerOps[K]>): Promise<Awaited<ReturnType<WorkerOps[K]>>> {
    return this.#send(op, args);
  }

  /**
   * Send `op` once its arguments are ready, and never before a call made earlier: images
   * are converted here first (an `<img>` decoded, a canvas drawn to a bitmap), and a call
   * made meanwhile must not overtake them, since the worker answers in the order it
   * receives. Calls with ready arguments and nothing waiting are posted at once.
   */
  #send<K extends keyof WorkerOps>(op: K, args: Parameters<WorkerOps[K]> | Promise<Parameters<WorkerOps[K]>>): Promise<Awaited<ReturnType<WorkerOps[K]>>> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    const result = new Promise<Awaited<ReturnType<WorkerOps[K]>>>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    // Not if the learner died meanwhile (the call was rejected with it then).
    const post = (a: unknown[]) => void (this.#pending.has(id) && this.#worker.postMessage({ id, op, args: a } satisfies Request));
    if (!this.#backlog && !(args instanceof Promise)) {
      post(args);
      return result;
    }
    // Its failure is handled below, maybe only after earlier calls are posted: not an
    // unhandled rejection meanwhile.
    if (args instanceof Promise) args.catch(() => {});
    const refuse = (e: unknown) => {
      const p = this.#pending.get(id);
      this.#pending.delete(id);
      p?.reject(e instanceof MarginaliaError ? e : new MarginaliaError('E_INTERNAL', String(e), { cause: e }));
    };
    const done = (this.#backlog ?? Promise.resolve()).then(() => args).then(post, refuse);
    this.#backlog = done;
    void done.then(() => {
      if (this.#backlog === done) this.#backlog = null;
    });
    return result;
  }

  /**
   * Subscribe to `'progress'` (each fit) or `'error'` (failures outside a call, such as the
   * worker dying). Returns the function that unsubscribes.
   */
  on(event: 'progress', listener: Listener<ProgressEvent>): () => void;
  on(event: 'error', listener: Listener<MarginaliaError>): () => void;
  on(event: 'progress' | 'error', listener: Listener<never>): () => void {
    const set = this.#listeners[event] as Set<Listener<never>>;
    if (!set) throw new MarginaliaError('E_INVALID_PARAM', `unknown event '${String(event)}'; known: progress, error`);
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Add samples to the pool: `features` holds whole rows (row-major `Float32Array`, or an
   * array of rows). Resolves to the pool index of the first new sample and how many.
   */
  addSamples(features: Float32Array | number[][] | number[]): Promise<{ first: number; count: number }> {
    let flat: Float32Array | number[];
    try {
      flat = flatten(features, 'addSamples');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#call('addSamples', flat);
  }

  /**
   * Add images to the pool (`input: 'image'`): decoded, resized and featurized in the worker
   * as {@link LearnerOptions.image} says. All or nothing: when one image cannot be read, the
   * call rejects with `E_IMAGE` naming each failure, and nothing is added.
   *
   * ```ts
   * const l = await createLearner({ input: 'image', classes: ['cat', 'dog'], image: { size: 32 } });
   * await l.addImages([...fileInput.files]);
   * ```
   */
  addImages(images: ImageInput[]): Promise<{ first: number; count: number }> {
    return this.#send('addImages', toWireImages(images, 'addImages').then((w): [WireImage[]] => [w]));
  }

  /** The `n` (default: `batchSize`) unlabelled samples most worth labelling next, best first. */
  query(n?: number): Promise<Candidate[]> {
    return this.#call('query', n ?? null);
  }

  /** Teach one label, or many at once (all or nothing). The model refits before the next query. */
  teach(index: number, label: number): Promise<LearnerStats>;
  teach(labels: Label[]): Promise<LearnerStats>;
  teach(a: number | Label[], label?: number): Promise<LearnerStats> {
    return this.#call('teach', typeof a === 'number' ? [{ index: a, label: label as number }] : a);
  }

  /** Undo the last label taught; resolves to it, or `null` when there is nothing to undo. */
  undo(): Promise<Label | null> {
    return this.#call('undo');
  }

  /** Class probabilities for any rows: a row-major `rows × classes` array. */
  predict(features: Float32Array | number[][] | number[]): Promise<Float32Array> {
    try {
      return this.#call('predict', flatten(features, 'predict'));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Accuracy on held-out samples with known labels. */
  evaluate(features: Float32Array | number[][] | number[], labels: number[] | Uint32Array): Promise<Evaluation> {
    try {
      return this.#call('evaluate', flatten(features, 'evaluate'), labels);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Change the strategy, model, committee size or batch size at any moment; invalid values
   * are rejected and change nothing. A new model or committee size (or a switch to or from
   * a committee strategy) refits before the next query.
   */
  configure(changes: { strategy?: string; model?: string; committee?: number; batchSize?: number }): Promise<LearnerStats> {
    return this.#call('configure', changes);
  }

  /**
   * Add texts to the pool (`input: 'text'`). The first call fits the TF-IDF vocabulary on
   * its texts, so add the whole pool at once; later texts use that vocabulary.
   */
  addTexts(texts: string[]): Promise<{ first: number; count: number }> {
    return this.#call('addTexts', texts);
  }

  /**
   * Add table rows to the pool (`input: 'table'`) as CSV text: a header line naming the
   * columns, then one line per sample. The first call fits the encoder (means, scales,
   * categories) on its rows; later rows are encoded the same way.
   */
  addRows(csv: string): Promise<{ first: number; count: number }> {
    return this.#call('addRows', csv);
  }

  /**
   * Features for texts (an array of strings), CSV rows (a string) or images (an array of
   * {@link ImageInput}) as the pool's featurizer makes them: pass the result to
   * {@link Learner.predict} or {@link Learner.evaluate}.
   */
  featurize(input: string[] | string | ImageInput[]): Promise<Float32Array> {
    if (this.#input !== 'image') return this.#call('featurize', input as string[] | string);
    return this.#send('featurize', toWireImages(input as ImageInput[], 'featurize').then((w): [WireImage[]] => [w]));
  }

  /**
   * Accuracy estimated without a test set: `folds`-fold cross-validation (default 5) of the
   * model on the labelled samples. `null` until two classes are labelled.
   */
  estimateAccuracy(folds = 5): Promise<AccuracyEstimate | null> {
    return this.#call('estimateAccuracy', folds);
  }

  /**
   * Whether to stop labelling: predictions have stopped changing, the model is confident on
   * the pool, the `budget` (total labels planned, optional) is spent, or nothing is left.
   */
  stopSuggestion(budget?: number): Promise<StopSuggestion> {
    return this.#call('stopSuggestion', budget ?? null);
  }

  /** Every label taught so far, as `[index, label]` pairs. */
  labels(): Promise<[number, number][]> {
    return this.#call('labels');
  }

  /** Counts and settings. */
  stats(): Promise<LearnerStats> {
    return this.#call('stats');
  }

  /**
   * The whole session (options, samples, labels, fitted model, undo history, featurizer) as
   * bytes; {@link restoreLearner} reads them back bit for bit: the restored learner predicts
   * and queries exactly as this one would.
   */
  save(): Promise<Uint8Array> {
    return this.#call('save');
  }

  /** @internal Tests only: destroy the GPU device; resolves to whether one was held. */
  _loseGpuForTesting(): Promise<boolean> {
    return this.#call('loseGpuForTesting');
  }

  /** Stop the worker. Later calls reject with `E_DISPOSED`. */
  dispose(): void {
    this.#worker.terminate();
    this._die(new MarginaliaError('E_DISPOSED', 'the learner was disposed'), false);
  }
}

/** The worker's answer to `init`. */
interface WorkerInfo {
  strategies: string[];
  models: string[];
  simd: boolean;
  backend: 'cpu' | 'webgpu';
  stats: LearnerStats;
}

/** Routes worker messages to the learner once it exists (init answers before it does). */
class WireChannel {
  #learner: Learner | null = null;
  #early: (Response | EventMessage)[] = [];
  onInit: ((msg: Response) => void) | null = null;
  onFatal: ((e: MarginaliaError) => void) | null = null;

  attach(l: Learner): void {
    this.#learner = l;
    for (const m of this.#early) l._settle(m);
    this.#early = [];
  }

  message(msg: Response | EventMessage): void {
    if (this.#learner) this.#learner._settle(msg);
    else if ('id' in msg && msg.id === 0 && this.onInit) this.onInit(msg);
    else this.#early.push(msg);
  }

  fatal(e: MarginaliaError): void {
    if (this.#learner) this.#learner._die(e);
    else this.onFatal?.(e);
  }
}

/** Row-major values from a flat array or an array of rows; rows of unequal length are E_SHAPE. */
function flatten(features: Float32Array | number[][] | number[], what: string): Float32Array | number[] {
  if (!Array.isArray(features) || !Array.isArray(features[0])) return features as Float32Array | number[];
  const rows = features as number[][];
  const width = rows[0].length;
  rows.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== width) {
      throw new MarginaliaError('E_SHAPE', `${what}: row ${i} has ${Array.isArray(r) ? r.length : 'no'} values, row 0 has ${width}`);
    }
  });
  return rows.flat();
}

/**
 * Images in a form that crosses to the worker: Blobs, ImageBitmaps and ImageData as they
 * are (structured clone copies them), URLs made absolute against the page (the worker's
 * own URL would be the wrong base), elements and canvases drawn to an ImageBitmap here,
 * since they cannot cross.
 */
async function toWireImages(images: ImageInput[], what: string): Promise<WireImage[]> {
  if (!Array.isArray(images) || images.length === 0) throw new MarginaliaError('E_INVALID_PARAM', `${what} needs a non-empty array of images`);
  const base = typeof document !== 'undefined' ? document.baseURI : self.location.href;
  const has = (name: string) => typeof (globalThis as Record<string, unknown>)[name] === 'function';
  return Promise.all(
    images.map(async (x, i): Promise<WireImage> => {
      if (typeof x === 'string' || x instanceof URL) return new URL(String(x), base).href;
      if (x instanceof Blob || (has('ImageBitmap') && x instanceof ImageBitmap) || (has('ImageData') && x instanceof ImageData)) return x;
      try {
        if (has('HTMLImageElement') && x instanceof HTMLImageElement) {
          await x.decode(); // waits for a loading <img>; rejects for a broken one
          return await createImageBitmap(x);
        }
        if ((has('HTMLCanvasElement') && x instanceof HTMLCanvasElement) || (has('OffscreenCanvas') && x instanceof OffscreenCanvas)) return await createImageBitmap(x);
      } catch (e) {
        throw new MarginaliaError('E_IMAGE', `${what}: image ${i} (${x instanceof HTMLImageElement ? `<img src="${x.src.slice(0, 80)}">` : 'a canvas'}) could not be read, so none was added: ${e instanceof Error ? e.message : String(e)}`);
      }
      const kind = x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x === 'object' ? `a ${(x as object).constructor?.name ?? 'object'}` : `a ${typeof x}`;
      throw new MarginaliaError('E_INVALID_PARAM', `${what}: image ${i} is ${kind}; give a Blob or File, ImageBitmap, ImageData, <img>, canvas, or a URL string`);
    }),
  );
}

/** Every option {@link createLearner} knows, to reject misspelt ones. */
const OPTION_NAMES = ['features', 'input', 'image', 'classes', 'model', 'strategy', 'committee', 'batchSize', 'backend', 'text', 'columns', 'seed', 'worker', 'startTimeoutMs'];
const IMAGE_OPTION_NAMES = ['size', 'channels', 'features', 'centroids', 'patch', 'patches'];

function unknownKeys(o: object, known: string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (known.includes(k)) continue;
    const near = known.find((n) => n.toLowerCase() === k.toLowerCase());
    throw new MarginaliaError('E_INVALID_PARAM', `unknown option ${where}'${k}'${near ? `; did you mean '${near}'?` : `; known: ${known.join(', ')}`}`);
  }
}

function resolveImage(o: LearnerOptions): ImageSettings | undefined {
  if (o.input !== 'image') {
    if (o.image !== undefined) throw new MarginaliaError('E_INVALID_PARAM', "`image` options need input: 'image'");
    return undefined;
  }
  const im = o.image ?? {};
  if (typeof im !== 'object') throw new MarginaliaError('E_INVALID_PARAM', '`image` must be an object such as { size: 32, channels: 1 }');
  unknownKeys(im, IMAGE_OPTION_NAMES, 'image.');
  // The worker checks the values (checkSettings), with the rest of the settings.
  return { size: im.size ?? 32, channels: im.channels ?? 1, features: im.features ?? 'pixels', centroids: im.centroids ?? 128, patch: im.patch ?? 6, patches: im.patches ?? 20_000 };
}

function resolveSettings(o: LearnerOptions): WorkerSettings {
  if (!o || typeof o !== 'object') throw new MarginaliaError('E_INVALID_PARAM', 'createLearner needs an options object with at least `features` and `classes`');
  unknownKeys(o, OPTION_NAMES, '');
  const classes = typeof o.classes === 'number' ? Array.from({ length: o.classes }, (_, i) => String(i)) : o.classes;
  if (!Array.isArray(classes)) throw new MarginaliaError('E_INVALID_PARAM', '`classes` must be an array of names or a number');
  const input = o.input ?? 'features';
  const image = resolveImage(o);
  // Text and table input get their width from the featurizer fitted on the first batch;
  // images know theirs from the options.
  const width = image ? (image.features === 'coates' ? 4 * image.centroids : image.size * image.size * image.channels) : 0;
  if (input !== 'features' && o.features !== undefined && o.features !== width) {
    throw new MarginaliaError('E_INVALID_PARAM', `features is set by the featurizer for input '${input}'${image ? ` (${width} for these image options)` : ''}; leave it out, got ${o.features}`);
  }
  return {
    features: input === 'features' ? (o.features as number) : width,
    image,
    input,
    classes: classes.map(String),
    model: o.model ?? 'softmax',
    strategy: o.strategy ?? 'margin',
    committee: o.committee ?? 0,
    batchSize: o.batchSize ?? 1,
    backend: o.backend ?? 'auto',
    seed: o.seed ?? 0,
    textMinDf: o.text?.minDf,
    textMaxFeatures: o.text?.maxFeatures,
    columns: o.columns,
  };
}

async function start(settings: WorkerSettings, options: StartOptions, from?: Uint8Array): Promise<Learner> {
  let worker: Worker;
  try {
    worker = options.worker ? options.worker() : new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  } catch (e) {
    throw new MarginaliaError('E_WORKER', `the learner's worker could not be started: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const wire = new WireChannel();
  worker.onmessage = (ev: MessageEvent<Response | EventMessage>) => wire.message(ev.data);
  worker.onerror = (ev: ErrorEvent) => {
    ev.preventDefault();
    wire.fatal(new MarginaliaError('E_WORKER', `the learner's worker failed: ${ev.message || 'it could not be loaded (wrong URL, blocked by CSP, or a script error)'}`));
  };
  worker.onmessageerror = () => wire.fatal(new MarginaliaError('E_INTERNAL', 'a message from the worker could not be read'));
  const timeout = options.startTimeoutMs ?? 30_000;
  const info = await new Promise<WorkerInfo>((resolve, reject) => {
    const timer = setTimeout(() => reject(new MarginaliaError('E_WORKER', `the learner's worker did not answer within ${timeout} ms`)), timeout);
    wire.onInit = (msg) => {
      clearTimeout(timer);
      if (msg.ok) resolve(msg.value as WorkerInfo);
      else reject(fromWire(msg.error));
    };
    wire.onFatal = (e) => {
      clearTimeout(timer);
      reject(e);
    };
    worker.postMessage({ id: 0, op: 'init', args: from ? [settings, from] : [settings] } satisfies Request);
  }).catch((e) => {
    worker.terminate();
    throw e;
  });
  return new Learner(worker, info, wire);
}

/** The options of {@link restoreLearner}: only how to start the worker (the rest comes from the saved bytes). */
export type StartOptions = Pick<LearnerOptions, 'worker' | 'startTimeoutMs'>;

/**
 * Start a learner in a Web Worker. Rejects with `E_INVALID_PARAM` for bad options, and
 * `E_WORKER` when the worker or the wasm cannot be loaded.
 *
 * ```ts
 * const learner = await createLearner({ features: 2, classes: ['cat', 'dog'], strategy: 'margin' });
 * ```
 */
export async function createLearner(options: LearnerOptions): Promise<Learner> {
  return start(resolveSettings(options), options);
}

/**
 * Start a learner from bytes written by {@link Learner.save}: same options, samples, labels,
 * fitted model and undo history. Bytes from the package's first format (0.1) are read too,
 * with the model refitted from the labels. `options` may only say how to start the worker.
 */
export async function restoreLearner(bytes: Uint8Array, options: StartOptions = {}): Promise<Learner> {
  if (!(bytes instanceof Uint8Array)) throw new MarginaliaError('E_SNAPSHOT', 'restoreLearner needs the Uint8Array that save() returned');
  // The rest of the options come from the bytes: saying them here would be silently ignored.
  if (options && typeof options === 'object') unknownKeys(options, ['worker', 'startTimeoutMs'], 'for restoreLearner (the others are in the saved bytes) ');
  const placeholder = resolveSettings({ features: 1, classes: 2 }); // replaced by the snapshot's own
  return start(placeholder, options, bytes);
}
