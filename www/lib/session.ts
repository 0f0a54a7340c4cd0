// The learner session both workers hold: the npm package's (worker.ts, behind its own
// request protocol) and the app's (www/app/engine.worker.ts, behind Comlink). One copy of
// what a session is: the wasm core (loaded once, the SIMD build when the browser validates
// SIMD), the core's learner, settings checked and applied, refits only when something
// changed, and pool scoring on the GPU (PoolScorer) with the same 'auto' | 'webgpu' |
// 'cpu' rules and the same fallbacks everywhere. Neither worker keeps its own copy.
// Both builds' glue is imported statically (a few kB each) and only one wasm is fetched:
// no dynamic import, so a worker bundles as one chunk in any bundler or worker format.
import initScalar, * as scalarCore from '../pkg/scalar/marginalia.js';
import initSimd, * as simdCore from '../pkg/simd/marginalia.js';
import { MarginaliaError } from './errors.js';
import type { Candidate, ImageSettings, WorkerSettings } from './protocol.js';

export type Core = typeof simdCore;
export type WasmLearner = InstanceType<Core['Learner']>;

// A minimal module using one SIMD instruction (i8x16.splat): if the browser validates it,
// it runs SIMD128 code, so the faster build is loaded.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

// The classes have private constructors (built by their static `fit`/`restore`).
export type TextFeaturizer = simdCore.TextFeaturizer;
export type TableFeaturizer = simdCore.TableFeaturizer;
export type CoatesFeaturizer = simdCore.CoatesFeaturizer;
/** Raw pixels need none: their settings (size, channels) travel in `WorkerSettings.image`. */
export type Featurizer = TextFeaturizer | TableFeaturizer | CoatesFeaturizer;
export type PoolScorer = simdCore.PoolScorer;
export type CoatesGpu = simdCore.CoatesGpu;
export type ParsedTable = simdCore.ParsedTable;

export interface LearnerSession {
  settings: WorkerSettings;
  /** The core's learner; null until the first samples arrive (the core needs a non-empty pool). */
  learner: WasmLearner | null;
  /** Fitted on the first texts or rows added, then applied to every later batch. */
  featurizer: Featurizer | null;
  /** Labels or settings changed since the last fit. */
  dirty: boolean;
  /**
   * Pool scoring on the GPU (src/compute, with its CPU fallback on device loss) for
   * `backend: 'webgpu'`, and for `'auto'` when an adapter exists; null: the learner scores
   * the pool itself, on the CPU. Holds a copy of the pool's features.
   */
  scorer: PoolScorer | null;
  /** The backend the last query scored on. */
  lastBackend: 'webgpu' | 'cpu';
  /** Why the last query did not score on the GPU (null: it did, or no query yet). */
  cpuReason: string | null;
  /** The same as a stable code, for a page to word (null: the GPU scored, or no query yet). */
  cpuWhy: CpuWhy | null;
  /** Milliseconds the last fit took (0 before one). */
  lastFitMs: number;
  /** `'auto'` looked for a GPU already (once a round was large enough to want one). */
  autoTried?: boolean;
  /** Why `'auto'` found no GPU when it looked. */
  noGpu?: string;
  /**
   * `'auto'` passes over a software fallback adapter (SwiftShader: a CPU emulation of a
   * GPU, 10–100× slower than the wasm CPU path in docs/BENCHMARKS.md, and busy on the same
   * cores that draw the page; in the app such rounds slowed labelling). On unless set to
   * `false` (tests that need the GPU path on SwiftShader ask for 'webgpu', which takes any
   * adapter regardless).
   */
  skipSoftwareGpu?: boolean;
  /** `noGpu` is about a software adapter passed over, not a missing one. */
  softwareGpu?: boolean;
}

/**
 * Why a round scored on the CPU: `'cpu'` asked for; `'cold'` no fitted model yet (cold-start
 * picks score nothing); `'model'` the model and strategy have no GPU scoring; `'no-gpu'`
 * no WebGPU adapter (or it could not be started); `'software'` `'auto'` passed over a
 * software adapter (`skipSoftwareGpu`); `'small'` `'auto'` and a round too small
 * for the GPU to gain; `'lost'` the GPU was lost mid-session and the CPU carried on.
 */
export type CpuWhy = 'cpu' | 'cold' | 'model' | 'no-gpu' | 'software' | 'small' | 'lost';

/**
 * Multiply-adds per round from which `'auto'` starts the GPU: compute::AUTO_MIN_MACS. Below
 * it a round's submission and readback (and the device's start-up, once) cost more than
 * the CPU's whole pass, so small pools never touch the GPU.
 */
export const AUTO_MIN_MACS = 20_000_000;

let core: Core | null = null;
let simd = false;
let memory: WebAssembly.Memory | null = null;
/** Told of every fit (the package's worker reports fits as progress events). */
let fitListener: ((info: { labelled: number; fitted: boolean; ms: number }) => void) | null = null;

export function onFit(f: typeof fitListener): void {
  fitListener = f;
}

export function fail(code: ConstructorParameters<typeof MarginaliaError>[0], message: string): never {
  throw new MarginaliaError(code, message);
}

export function needCore(): Core {
  if (!core) fail('E_WORKER', 'the wasm core is not loaded');
  return core;
}

/** The loaded core's linear memory (its size is the core's footprint: it only grows). */
export function coreMemory(): WebAssembly.Memory | null {
  return memory;
}

/** Load the wasm core once; resolves whether the SIMD build was loaded. */
export async function loadCore(): Promise<boolean> {
  if (core) return simd;
  simd = WebAssembly.validate(SIMD_PROBE);
  try {
    memory = (simd ? await initSimd() : await initScalar()).memory;
    core = simd ? simdCore : (scalarCore as unknown as Core);
  } catch (e) {
    fail('E_WORKER', `the wasm core could not be loaded (${simd ? 'SIMD' : 'scalar'} build): ${e instanceof Error ? e.message : String(e)}`);
  }
  return simd;
}

export function checkSettings(s: WorkerSettings): void {
  const c = needCore();
  const strategies = c.strategyNames();
  const models = c.modelNames();
  if (!strategies.includes(s.strategy)) fail('E_INVALID_PARAM', `unknown strategy '${s.strategy}'; known: ${strategies.join(', ')}`);
  if (!models.includes(s.model)) fail('E_INVALID_PARAM', `unknown model '${s.model}'; known: ${models.join(', ')}`);
  if (!Number.isInteger(s.batchSize) || s.batchSize < 1) fail('E_INVALID_PARAM', `batchSize must be a whole number ≥ 1, got ${s.batchSize}`);
  if (!Number.isInteger(s.committee) || s.committee < 0 || s.committee === 1) {
    fail('E_INVALID_PARAM', `committee must be 0 (a single model; committee strategies then train 5) or a whole number ≥ 2, got ${s.committee}`);
  }
  if (!['features', 'text', 'table', 'image'].includes(s.input)) fail('E_INVALID_PARAM', `input must be 'features', 'text', 'table' or 'image', got '${s.input}'`);
  if (s.input === 'image') checkImage(s.image);
  // Raw input learns its width from the featurizer; until then it is 0.
  if (s.input === 'features' && (!Number.isInteger(s.features) || s.features < 1)) {
    fail('E_INVALID_PARAM', `features (the width of a sample) must be a whole number ≥ 1, got ${s.features}`);
  }
  if (s.classes.length < 2) fail('E_INVALID_PARAM', `need at least 2 classes, got ${s.classes.length}`);
  if (!['auto', 'cpu', 'webgpu'].includes(s.backend)) fail('E_INVALID_PARAM', `backend must be 'auto', 'webgpu' or 'cpu', got '${s.backend}'`);
}

function checkImage(im: ImageSettings | undefined): void {
  if (!im) fail('E_INVALID_PARAM', "input 'image' needs image settings");
  const whole = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!whole(im.size, 1, 1024)) fail('E_INVALID_PARAM', `image.size (the side images are resized to, in pixels) must be a whole number 1..1024, got ${im.size}`);
  if (im.channels !== 1 && im.channels !== 3) fail('E_INVALID_PARAM', `image.channels must be 1 (grey) or 3 (RGB), got ${im.channels}`);
  if (im.features !== 'pixels' && im.features !== 'coates') fail('E_INVALID_PARAM', `image.features must be 'pixels' or 'coates', got '${im.features}'`);
  if (im.features === 'coates') {
    if (im.channels !== 1) fail('E_INVALID_PARAM', "image.features 'coates' works on grey images: set image.channels to 1");
    if (!whole(im.centroids, 1, 4096)) fail('E_INVALID_PARAM', `image.centroids must be a whole number 1..4096, got ${im.centroids}`);
    if (!whole(im.patch, 1, im.size)) fail('E_INVALID_PARAM', `image.patch must be a whole number 1..${im.size} (the image side), got ${im.patch}`);
    if (!Number.isInteger(im.patches) || im.patches < im.centroids) fail('E_INVALID_PARAM', `image.patches must be a whole number ≥ image.centroids (${im.centroids}), got ${im.patches}`);
  }
}

/**
 * Give the core's learner the settings that differ from `prev` (all of them when there is
 * none); validated by checkSettings first. Only what changed: a new model or committee
 * size drops the fitted model, which a batch-size change must not.
 */
export function applySettings(l: WasmLearner, s: WorkerSettings, prev?: WorkerSettings): void {
  if (!prev) l.setClassNames(s.classes);
  if (!prev || prev.model !== s.model) l.setModel(s.model);
  if (!prev || prev.committee !== s.committee) l.setCommittee(s.committee);
  if (!prev || prev.strategy !== s.strategy) l.setStrategy(s.strategy);
  if (!prev || prev.batchSize !== s.batchSize) l.setBatchSize(s.batchSize);
}

export function learnerOf(s: LearnerSession): WasmLearner {
  if (!s.learner) fail('E_EMPTY', 'the pool is empty: addSamples first');
  return s.learner;
}

/** Refit when labels or settings changed since the last fit; report the fit as progress. */
export function fitted(s: LearnerSession): WasmLearner {
  const l = learnerOf(s);
  if (s.dirty) {
    const t0 = performance.now();
    const ok = l.fit();
    s.dirty = false;
    s.lastFitMs = performance.now() - t0;
    fitListener?.({ labelled: l.labelledCount, fitted: ok, ms: s.lastFitMs });
  }
  return l;
}

export function toRows(values: Float32Array | number[], width: number, what: string): Float32Array {
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
 * Start GPU scoring for `backend` ('webgpu' or 'auto') once the width is known. 'webgpu'
 * without an adapter is E_BACKEND_UNAVAILABLE, never a silent CPU run (`strict`, the
 * package's promise); not strict (the app, where the person picked "GPU" in a menu and
 * labelling must go on), it carries on on the CPU and says why in `cpuReason`. 'auto'
 * without an adapter stays on the CPU. An adapter looked for in vain is not looked for
 * again: the browser does not grow one mid-session.
 */
export async function startScorer(s: LearnerSession, strict = true): Promise<void> {
  // A software adapter passed over by 'auto' is still there for 'webgpu'.
  if (s.scorer || (s.noGpu !== undefined && !s.softwareGpu) || s.settings.backend === 'cpu' || s.settings.features < 1) return;
  if (s.settings.backend === 'auto') {
    s.autoTried = true;
    const software = s.skipSoftwareGpu !== false ? await softwareAdapter() : null;
    if (software) {
      s.noGpu = `the WebGPU adapter is a software fallback (${software}), slower than the CPU path`;
      s.softwareGpu = true;
      return;
    }
  }
  const c = needCore();
  let scorer: PoolScorer;
  try {
    scorer = await c.PoolScorer.create(s.settings.backend, s.settings.features);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    if (strict) fail('E_BACKEND_UNAVAILABLE', `backend 'webgpu' was requested, but WebGPU cannot be used here (${why}); use 'auto' or 'cpu'`);
    s.noGpu = `no WebGPU adapter (${why})`;
    return;
  }
  if (!scorer.hasGpu) {
    // 'auto' without an adapter: the learner's own CPU path; keep the reason for stats().
    s.noGpu = `no WebGPU adapter (${scorer.fallbackReason ?? 'none offered'})`;
    scorer.free();
    return;
  }
  if (s.learner) scorer.append(s.learner.poolFeatures());
  s.scorer = scorer;
  s.noGpu = s.softwareGpu = undefined;
}

/**
 * The browser's default WebGPU adapter: its name in the browser's words ("vendor /
 * architecture", e.g. "google / swiftshader"; wgpu's adapter info is empty on the web)
 * and whether it is a software fallback (a CPU emulation of a GPU, slower than the wasm
 * CPU path). Null when there is no WebGPU or no adapter. Used by pool scoring here and by
 * the app's Coates featurizer, so both pass over the same adapters.
 */
export async function browserAdapter(): Promise<{ name: string; software: boolean } | null> {
  type Info = { vendor?: string; architecture?: string; isFallbackAdapter?: boolean };
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<{ info?: Info; isFallbackAdapter?: boolean } | null> } }).gpu;
  const a = await gpu?.requestAdapter();
  if (!a) return null;
  const arch = a.info?.architecture ?? '';
  return {
    name: [a.info?.vendor, arch].filter(Boolean).join(' / ') || 'an unnamed adapter',
    software: Boolean(a.info?.isFallbackAdapter ?? a.isFallbackAdapter) || /swiftshader/i.test(arch),
  };
}

/** The default adapter's name when it is a software fallback, else null (hardware, or none). */
async function softwareAdapter(): Promise<string | null> {
  try {
    const a = await browserAdapter();
    return a?.software ? a.name : null;
  } catch {
    return null; // PoolScorer.create then finds out for itself
  }
}

/** Append feature rows to the pool, creating the core's learner on the first batch. */
export async function append(s: LearnerSession, data: Float32Array): Promise<{ first: number; count: number }> {
  const width = s.settings.features;
  const count = data.length / width;
  if (s.settings.backend === 'webgpu') await startScorer(s);
  let first = 0;
  if (!s.learner) {
    const c = needCore();
    const l = new c.Learner(data, count, width, s.settings.classes.length, s.settings.seed);
    applySettings(l, s.settings);
    s.learner = l;
  } else {
    first = s.learner.addSamples(data);
  }
  // After the learner accepted the rows (it checks them), so both pools stay in step.
  s.scorer?.append(data);
  return { first, count };
}

/** The next `n` questions: pool probabilities from the GPU scorer when the model allows, else the learner's own pass. */
export async function queryNext(s: LearnerSession, n: number): Promise<Candidate[]> {
  const l = fitted(s);
  const net = l.isFitted ? l.scoringNetwork() : undefined;
  const macs = net ? l.size * net.macsPerRow : 0;
  if (net && !s.scorer && s.settings.backend === 'auto' && !s.autoTried && macs >= AUTO_MIN_MACS) {
    await startScorer(s);
  }
  if (!s.scorer || !net) {
    net?.free();
    s.lastBackend = 'cpu';
    [s.cpuWhy, s.cpuReason] = cpuReason(s, l, net !== undefined, macs);
    return l.query(n) as Candidate[];
  }
  try {
    // On device loss the scorer finishes the round (and every later one) on the CPU with
    // the pool it holds: nothing is lost, and the backend says so.
    const round = (await s.scorer.score(net)) as { probs: Float32Array; memberProbs?: Float32Array; backend: 'webgpu' | 'cpu' };
    s.lastBackend = round.backend;
    s.cpuWhy = round.backend === 'webgpu' ? null : 'lost';
    s.cpuReason = round.backend === 'webgpu' ? null : (s.scorer.fallbackReason ?? 'the GPU round fell back to the CPU');
    // A committee's strategies look at every member (vote entropy, KL), not only the mean.
    if (net.committee && round.memberProbs) return l.queryWithMemberProbs(n, round.memberProbs, net.members, net.outputs) as Candidate[];
    return l.queryWithPoolProbs(n, round.probs, net.outputs) as Candidate[];
  } finally {
    net.free();
  }
}

/** Why a query scored on the CPU: a code, and one phrase for `stats().gpuFallback`. */
function cpuReason(s: LearnerSession, l: WasmLearner, gpuScorable: boolean, macs: number): [CpuWhy, string] {
  if (s.settings.backend === 'cpu') return ['cpu', "backend 'cpu' was asked for"];
  if (!l.isFitted) return ['cold', 'no fitted model yet (cold-start picks need no scoring)'];
  if (!gpuScorable) {
    return [
      'model',
      `the GPU scores softmax regression, the MLP and committees with auto, margin, entropy or least_confident (committees also with vote_entropy, consensus_entropy, mean_kl or max_kl); this session uses ${s.settings.model} with ${s.settings.strategy}${s.settings.committee ? ` and a committee of ${s.settings.committee}` : ''}`,
    ];
  }
  if (s.noGpu) return [s.softwareGpu ? 'software' : 'no-gpu', s.noGpu];
  if (s.scorer) return ['lost', s.scorer.fallbackReason ?? 'the GPU is not available'];
  return ['small', `backend 'auto': a round is ${macs} multiply-adds, below the ${AUTO_MIN_MACS} from which the GPU gains`];
}

export function newSession(settings: WorkerSettings, dirty: boolean): LearnerSession {
  return { settings, learner: null, featurizer: null, dirty, scorer: null, lastBackend: 'cpu', cpuReason: null, cpuWhy: null, lastFitMs: 0 };
}

/**
 * Change model, strategy, batch size, committee or backend, all or nothing: checked first
 * (a bad value changes nothing), then only what differs is applied. A new model,
 * committee size, or a switch to or from a committee strategy drops the fit (refit at the
 * next query). A backend change takes effect at the next query: 'cpu' lets the GPU go,
 * 'webgpu' starts it now (see `startScorer` for `strict`), 'auto' when a round is large.
 */
export async function configure(
  s: LearnerSession,
  changes: Partial<Pick<WorkerSettings, 'strategy' | 'model' | 'batchSize' | 'committee' | 'backend'>>,
  strict = true,
): Promise<void> {
  const prev = s.settings;
  const next = { ...prev, ...changes };
  checkSettings(next);
  if (next.backend !== prev.backend) {
    // First, so a strict 'webgpu' that cannot start leaves everything as it was.
    // 'cpu' lets the GPU go; so does 'auto', which decides afresh at its next large round
    // (it may pass over an adapter that 'webgpu' took).
    s.autoTried = false;
    if (next.backend !== 'webgpu') {
      s.scorer?.free();
      s.scorer = null;
    } else {
      s.settings = { ...prev, backend: 'webgpu' };
      try {
        await startScorer(s, strict);
      } catch (e) {
        s.settings = prev;
        throw e;
      }
    }
  }
  s.settings = next;
  if (s.learner) {
    const wasFitted = s.learner.isFitted;
    applySettings(s.learner, next, prev);
    if (wasFitted && !s.learner.isFitted) s.dirty = true;
  }
}

/** Tests only: destroy the GPU device, as a driver reset would; false when no GPU is held. */
export function loseGpuForTesting(s: LearnerSession): boolean {
  s.scorer?.loseDeviceForTesting();
  return s.scorer !== null;
}

export function stats(s: LearnerSession) {
  const l = s.learner;
  return {
    samples: l ? l.size : 0,
    labelled: l ? l.labelledCount : 0,
    fitted: l ? l.isFitted : false,
    strategy: s.settings.strategy,
    model: s.settings.model,
    committee: s.settings.committee,
    batchSize: s.settings.batchSize,
    classes: s.settings.classes,
    features: s.settings.features,
    input: s.settings.input,
    /** Where the last query scored the pool. */
    backend: s.lastBackend,
    /** Why the last query did not score on the GPU; null when it did, or before a query. */
    gpuFallback: s.lastBackend === 'webgpu' ? null : s.cpuReason,
    image: s.settings.image ?? null,
  };
}