// Convolutional image features off the main thread: the Rust core's CoatesFeaturizer
// (wasm) learns its filters from the project's grey images, then encodes every image in
// chunks, reporting progress between them, so the page stays responsive and shows how far
// it is. A worker of its own (not the data worker): image projects need nothing else of
// the data import, and it is started only while features are being computed.
//
// Encoding (not the fit: k-means and the whitening stay on the CPU) runs on the GPU
// through the core's CoatesGpu when a hardware WebGPU adapter is there, and on the CPU
// otherwise or when the GPU fails midway; both give the same features within 1e-4
// (tests/wasm_compute.rs). A software adapter (SwiftShader) is passed over: it runs the
// shaders on the CPU, far slower than the SIMD CPU path.
import * as Comlink from 'comlink';
import { browserAdapter, loadCore, needCore, type CoatesFeaturizer, type CoatesGpu, type Core } from 'marginalia/engine';
import { COATES_CHUNK, COATES_FIT_IMAGES, COATES_GPU_CHUNK, evenlySpaced } from './coates';


// The wasm core, loaded once per worker by the package's loader (the SIMD build where the
// browser validates SIMD128, else the scalar one).
async function load(): Promise<Core> {
  await loadCore();
  return needCore();
}

export interface CoatesRequest {
  /** n grey images, side × side bytes each, concatenated. */
  images: Uint8Array;
  side: number;
  centroids: number;
  patch: number;
  patches: number;
  seed: number;
  backend: CoatesBackend;
}

export interface CoatesResult {
  /** n × width, row-major, row i = image i. */
  features: Float32Array;
  width: number;
  snapshot: Uint8Array;
  /** Images the filters were learned from. */
  fittedOn: number;
  /** Where the images were encoded (the fit itself is always on the CPU). */
  encodedOn: EncodedOn;
  /**
   * Worker time (ms): the core's fit (draws the patches, whitens, k-means, and encodes the
   * fitting images for the scaling), then encoding the images the fit did not see (0 when
   * it saw them all).
   */
  fitMs: number;
  encodeMs: number;
}

export type CoatesProgress = (done: number, total: number, stage: string) => void;

/** 'auto': the GPU when a hardware adapter is there; 'webgpu': the GPU or an error; 'cpu'. */
export type CoatesBackend = 'auto' | 'webgpu' | 'cpu';

type CpuFeaturizer = CoatesFeaturizer;
type GpuFeaturizer = CoatesGpu;

/** Where the images were encoded, and why not on the GPU when not (null: nothing to say). */
export interface EncodedOn {
  backend: 'webgpu' | 'cpu';
  adapter: string | null;
  why: string | null;
}

/** The GPU encoder for `snapshot`, or null and why not. */
async function gpuEncoder(c: Core, snapshot: Uint8Array, backend: CoatesBackend): Promise<{ gpu: GpuFeaturizer | null; name?: string; why: string | null }> {
  if (backend === 'cpu') return { gpu: null, why: null };
  const none = (why: string) => {
    if (backend === 'webgpu') throw new Error(`WebGPU was asked for, but ${why}`);
    return { gpu: null, why };
  };
  if (!('gpu' in self.navigator)) return none('this browser has no WebGPU');
  const a = await browserAdapter().catch(() => null);
  if (!a) return none('no WebGPU adapter is available');
  const name = a.name;
  if (backend === 'auto' && a.software) return none(`the WebGPU adapter is a software one (${name}), slower than the CPU`);
  try {
    return { gpu: await c.CoatesGpu.create(snapshot), name, why: null };
  } catch (e) {
    return none(`the GPU could not be started (${(e as Error).message})`);
  }
}

/**
 * Encode `images` (n × px) in chunks into `out` (n × width): on the GPU when given one
 * (each chunk one submission and one readback; COATES_GPU_CHUNK images keep a slow
 * adapter's submission well inside the readback's 60 s limit), else on the CPU. A GPU that
 * fails midway ('auto') hands the rest to the CPU, which gives the same features.
 */
async function encode(
  c: Core,
  f: CpuFeaturizer,
  snapshot: Uint8Array,
  backend: CoatesBackend,
  images: Uint8Array,
  px: number,
  out: Float32Array,
  progress: CoatesProgress,
): Promise<EncodedOn> {
  const n = images.length / px;
  const w = f.width;
  const found = await gpuEncoder(c, snapshot, backend);
  let { gpu, why } = found;
  const adapter = found.name ?? null;
  try {
    for (let i = 0; i < n; ) {
      const end = Math.min(i + (gpu ? COATES_GPU_CHUNK : COATES_CHUNK), n);
      const part = images.subarray(i * px, end * px);
      if (gpu) {
        try {
          out.set((await gpu.transform(part)) as Float32Array, i * w);
        } catch (e) {
          if (backend === 'webgpu') throw e;
          why = `the GPU failed (${(e as Error).message}); the CPU encoded the rest`;
          gpu.free();
          gpu = null;
          continue; // this chunk again, on the CPU
        }
      } else out.set(f.transform(part), i * w);
      progress(end, n, gpu ? 'encoding the images on the GPU' : 'encoding the images');
      i = end;
    }
  } finally {
    gpu?.free();
  }
  return { backend: gpu ? 'webgpu' : 'cpu', adapter: gpu ? adapter : null, why };
}

const api = {
  /**
   * Learn the filters from (up to COATES_FIT_IMAGES of) the images, then encode them all.
   * Throws the core's message (with the numbers) when the images cannot be fitted.
   */
  async fit(req: CoatesRequest, progress: CoatesProgress): Promise<CoatesResult> {
    const c = await load();
    const px = req.side * req.side;
    if (req.images.length % px !== 0 || req.images.length === 0) throw new Error(`expected whole ${req.side}×${req.side} images, got ${req.images.length} bytes`);
    const n = req.images.length / px;
    const pick = evenlySpaced(n, COATES_FIT_IMAGES);
    const sample = pick.length === n ? req.images : new Uint8Array(pick.length * px);
    if (sample !== req.images) pick.forEach((j, i) => sample.set(req.images.subarray(j * px, (j + 1) * px), i * px));
    progress(0, n, `learning the filters from ${pick.length.toLocaleString('en')} images`);
    const t0 = performance.now();
    const f = c.CoatesFeaturizer.fit(sample, req.side, req.side, req.centroids, req.patch, req.patches, req.seed);
    try {
      const fitMs = performance.now() - t0;
      const w = f.width;
      let features: Float32Array;
      const t1 = performance.now();
      const snapshot = f.snapshot();
      let encodedOn: EncodedOn = { backend: 'cpu', adapter: null, why: null };
      if (pick.length === n) {
        // The fit encoded every image already (for the scaling): take those rows.
        features = f.takePoolFeatures()!;
        progress(n, n, 'encoding the images');
      } else {
        features = new Float32Array(n * w);
        encodedOn = await encode(c, f, snapshot, req.backend, req.images, px, features, progress);
      }
      const r: CoatesResult = { features, width: w, snapshot, fittedOn: pick.length, fitMs, encodeMs: performance.now() - t1, encodedOn };
      return Comlink.transfer(r, [features.buffer as ArrayBuffer]);
    } finally {
      f.free();
    }
  },

  /** Encode images with a stored featurizer (its snapshot): the same columns as at import. */
  async transform(
    snapshot: Uint8Array,
    images: Uint8Array,
    side: number,
    backend: CoatesBackend,
    progress: CoatesProgress,
  ): Promise<{ features: Float32Array; encodedOn: EncodedOn; ms: number }> {
    const c = await load();
    const f = c.CoatesFeaturizer.restore(snapshot);
    try {
      const px = side * side;
      const out = new Float32Array((images.length / px) * f.width);
      const t0 = performance.now();
      const encodedOn = await encode(c, f, snapshot, backend, images, px, out, progress);
      return Comlink.transfer({ features: out, encodedOn, ms: performance.now() - t0 }, [out.buffer as ArrayBuffer]);
    } finally {
      f.free();
    }
  },
};

export type CoatesApi = typeof api;
Comlink.expose(api);
