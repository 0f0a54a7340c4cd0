// Pretrained image features (EfficientNet-Lite0) for an image project, computed on a pool
// of workers (encode.worker.ts), one per core, each with its own wasm instance: images are
// independent, so two cores encode close to twice as fast as one.
//
// The weight file (9.3 MB) comes from the app's own origin, only when a project needs it,
// never on the first page load; the service worker (www/sw.ts) keeps it for offline use.
// Its sha256 is checked before use: a damaged download is dropped from the cache and
// said, not turned into wrong features.
import * as Comlink from 'comlink';
import type { EncodeApi } from './encode.worker';

export const WEIGHTS_URL = './weights/efficientnet-lite0.f16.safetensors';
/** weights/README.md lists the same size and checksum (tests/unit/weights.test.mjs checks both). */
export const WEIGHTS_BYTES = 9_315_448;
export const WEIGHTS_SHA256 = '2c67f0da31e9d3628fb31322a97a9359ee8ad6e80a12f8ad497e3304694f5f09';
/** The cache the service worker keeps the weights in, across app updates. */
export const WEIGHTS_CACHE = 'marginalia-weights';

/**
 * The network's input side: 224 px, the size it was trained at, for images of any size
 * (the core's `defaultImageResolution`; docs/BENCHMARKS.md: on 32 px CIFAR photos `auto`
 * reaches AULC 0.60 at 224 against 0.57 at 128).
 */
export const ENCODER_SIZE = 224;

/**
 * Images per call to a worker: about half a second of work at 224 px, so progress moves
 * often and a cancel stops within a second.
 */
export const ENCODE_CHUNK = 8;

export type EncodeProgress = (done: number, total: number, stage: string) => void;

export interface EncodedImages {
  /** n × dim, row-major, row i = image i. */
  features: Float32Array;
  dim: number;
  /** What the features come from, e.g. "efficientnet-lite0/1 f16 224px". */
  version: string;
  /** Encoding time (ms), the download not included. */
  ms: number;
  workers: number;
}

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The weight file's bytes, checked; progress while downloading. */
export async function fetchWeights(progress: EncodeProgress, signal?: AbortSignal): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(WEIGHTS_URL, { signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new Error(`the image encoder's weights could not be downloaded (${(e as Error).message}); connect once to fetch them (9.3 MB), they are kept for offline use after`);
  }
  if (!res.ok || !res.body) throw new Error(`the image encoder's weights could not be downloaded (HTTP ${res.status} for ${WEIGHTS_URL})`);
  const out = new Uint8Array(WEIGHTS_BYTES);
  let got = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (got + value.length > out.length) {
      got += value.length;
      break;
    }
    out.set(value, got);
    got += value.length;
    progress(got, WEIGHTS_BYTES, `downloading the image encoder (${mb(got)} of ${mb(WEIGHTS_BYTES)}, once)`);
  }
  if (got !== WEIGHTS_BYTES || (await sha256(out)) !== WEIGHTS_SHA256) {
    // Drop the damaged copy so the next try downloads it again.
    await caches?.open(WEIGHTS_CACHE).then((c) => c.delete(WEIGHTS_URL)).catch(() => undefined);
    throw new Error(`the image encoder's weight file arrived damaged (${got.toLocaleString('en')} bytes, checksum differs); try again`);
  }
  return out;
}

/** How many workers to run for `n` images: one per core, no more than there are chunks. */
export function poolSize(n: number, cores: number = globalThis.navigator?.hardwareConcurrency || 2): number {
  return Math.max(1, Math.min(cores, Math.ceil(n / ENCODE_CHUNK), 16));
}

/**
 * Encode `images` (n × width × height × channels bytes, concatenated) at `size` px on a
 * pool of workers. Progress gives images per second and the time left. Aborting `signal`
 * stops every worker and rejects with an AbortError.
 */
export async function encodeImages(
  images: Uint8Array,
  shape: { n: number; width: number; height: number; channels: 1 | 3 },
  size: number,
  progress: EncodeProgress,
  signal?: AbortSignal,
): Promise<EncodedImages> {
  const { n, width, height, channels } = shape;
  const px = width * height * channels;
  if (images.length !== n * px) throw new Error(`expected ${n} images of ${width}×${height}×${channels} bytes, got ${images.length} bytes`);
  const weights = await fetchWeights(progress, signal);
  signal?.throwIfAborted();
  const k = poolSize(n);
  const workers = Array.from({ length: k }, () => new Worker(new URL('./encode.worker.ts', import.meta.url), { type: 'module' }));
  const apis = workers.map((w) => Comlink.wrap<EncodeApi>(w));
  const stop = () => workers.forEach((w) => w.terminate());
  signal?.addEventListener('abort', stop, { once: true });
  try {
    progress(0, n, 'starting the image encoder');
    const infos = await Promise.all(apis.map((a) => a.init(weights.slice(), size)));
    const { version, dim } = infos[0];
    const features = new Float32Array(n * dim);
    const t0 = performance.now();
    let next = 0;
    let done = 0;
    const run = async (api: Comlink.Remote<EncodeApi>) => {
      while (next < n) {
        const start = next;
        const end = Math.min(start + ENCODE_CHUNK, n);
        next = end;
        const part = images.slice(start * px, end * px);
        const rows = await api.encode(Comlink.transfer(part, [part.buffer]), width, height, channels);
        signal?.throwIfAborted();
        features.set(rows, start * dim);
        done += end - start;
        const secs = (performance.now() - t0) / 1000;
        const rate = done / Math.max(secs, 1e-3);
        const left = Math.ceil((n - done) / rate);
        progress(done, n, `encoding the images: ${rate.toFixed(1)} per second on ${k} ${k === 1 ? 'core' : 'cores'}${done < n ? `, about ${left < 90 ? `${left} s` : `${Math.round(left / 60)} min`} left` : ''}`);
      }
    };
    await Promise.all(apis.map(run));
    return { features, dim, version, ms: performance.now() - t0, workers: k };
  } catch (e) {
    if (signal?.aborted) throw signal.reason ?? new DOMException('cancelled', 'AbortError');
    throw e;
  } finally {
    signal?.removeEventListener('abort', stop);
    stop();
  }
}
