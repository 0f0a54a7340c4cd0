// Convolutional image features off the main thread: the Rust core's CoatesFeaturizer
// (wasm) learns its filters from the project's grey images, then encodes every image in
// chunks, reporting progress between them, so the page stays responsive and shows how far
// it is. A worker of its own (not the data worker): image projects need nothing else of
// the data import, and it is started only while features are being computed.
import * as Comlink from 'comlink';
import { COATES_CHUNK, COATES_FIT_IMAGES, evenlySpaced } from './coates';

type Core = typeof import('../pkg/simd/marginalia.js');

// The same probe as the engine worker: a module with one SIMD instruction.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

let core: Core | null = null;
async function load(): Promise<Core> {
  if (core) return core;
  const mod: Core = WebAssembly.validate(SIMD_PROBE) ? await import('../pkg/simd/marginalia.js') : await import('../pkg/scalar/marginalia.js');
  await mod.default();
  core = mod;
  return mod;
}

export interface CoatesRequest {
  /** n grey images, side × side bytes each, concatenated. */
  images: Uint8Array;
  side: number;
  centroids: number;
  patch: number;
  patches: number;
  seed: number;
}

export interface CoatesResult {
  /** n × width, row-major, row i = image i. */
  features: Float32Array;
  width: number;
  snapshot: Uint8Array;
  /** Images the filters were learned from. */
  fittedOn: number;
  /**
   * Worker time (ms): the core's fit (draws the patches, whitens, k-means, and encodes the
   * fitting images for the scaling), then encoding the images the fit did not see (0 when
   * it saw them all).
   */
  fitMs: number;
  encodeMs: number;
}

export type CoatesProgress = (done: number, total: number, stage: string) => void;

/** Encode `images` (n × px) with a fitted featurizer, in chunks, into `out` (n × width). */
function encode(f: import('../pkg/simd/marginalia.js').CoatesFeaturizer, images: Uint8Array, px: number, out: Float32Array, progress: CoatesProgress): void {
  const n = images.length / px;
  const w = f.width;
  for (let i = 0; i < n; i += COATES_CHUNK) {
    const end = Math.min(i + COATES_CHUNK, n);
    out.set(f.transform(images.subarray(i * px, end * px)), i * w);
    progress(end, n, 'encoding the images');
  }
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
      if (pick.length === n) {
        // The fit encoded every image already (for the scaling): take those rows.
        features = f.takePoolFeatures()!;
        progress(n, n, 'encoding the images');
      } else {
        features = new Float32Array(n * w);
        encode(f, req.images, px, features, progress);
      }
      const r: CoatesResult = { features, width: w, snapshot: f.snapshot(), fittedOn: pick.length, fitMs, encodeMs: performance.now() - t1 };
      return Comlink.transfer(r, [features.buffer as ArrayBuffer]);
    } finally {
      f.free();
    }
  },

  /** Encode images with a stored featurizer (its snapshot): the same columns as at import. */
  async transform(snapshot: Uint8Array, images: Uint8Array, side: number, progress: CoatesProgress): Promise<Float32Array> {
    const c = await load();
    const f = c.CoatesFeaturizer.restore(snapshot);
    try {
      const px = side * side;
      const out = new Float32Array((images.length / px) * f.width);
      encode(f, images, px, out, progress);
      return Comlink.transfer(out, [out.buffer as ArrayBuffer]);
    } finally {
      f.free();
    }
  },
};

export type CoatesApi = typeof api;
Comlink.expose(api);
