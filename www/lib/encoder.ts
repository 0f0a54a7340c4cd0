/**
 * Pretrained image features in the page: `embedImages`, `encodePixels` (EfficientNet-Lite0 on a pool of workers).
 * @module marginalia/encoder
 */
// `marginalia/encoder`: pretrained image features (EfficientNet-Lite0, ImageNet-1k), computed
// in the page on a pool of workers, one per core, each with its own wasm instance: images
// are independent, so two cores encode close to twice as fast as one. The network is the
// core's (src/encoder/), the same numbers natively and in both wasm builds.
//
// The weight file (9.3 MB) ships inside this package (weights/) and is fetched only when
// something is encoded; `weightsUrl` points elsewhere (a CDN, your own server), `weights`
// hands over bytes already fetched. Its size and sha256 are checked before use.
import { decodeImage, type DecodableImage } from './image.js';
import { MarginaliaError } from './errors.js';
import { browserAdapter } from './session.js';

export type { DecodableImage };

/** The network's input side: 224 px, the size it was trained at, for images of any size (measured in docs/BENCHMARKS.md). */
export const ENCODER_SIZE = 224;
/** Values per image. */
export const ENCODER_DIM = 1280;
export const WEIGHTS_FILE = 'efficientnet-lite0.f16.safetensors';
/** weights/README.md lists the same size and checksum (tests/unit/weights.test.mjs checks both). */
export const WEIGHTS_BYTES = 9_315_448;
export const WEIGHTS_SHA256 = '2c67f0da31e9d3628fb31322a97a9359ee8ad6e80a12f8ad497e3304694f5f09';
/** Images per call to a worker: about a quarter of a second at 224 px, so progress moves often and a cancel stops soon. */
export const ENCODE_CHUNK = 8;

export type EncodeProgress = (done: number, total: number, stage: string) => void;

export interface EncoderOptions {
  /** Where the weight file is. Default: the copy in this package (`weights/efficientnet-lite0.f16.safetensors`). */
  weightsUrl?: string | URL;
  /** The weight file's bytes, already fetched (then nothing is downloaded). */
  weights?: Uint8Array;
  /** The network's input side in pixels, 32 to 512. Default {@link ENCODER_SIZE}. */
  size?: number;
  /**
   * Where to encode. `'auto'` (default): on the GPU when the browser has a hardware WebGPU
   * adapter (a software one, such as SwiftShader, is slower than the CPU and passed over),
   * else on the CPU worker pool; a GPU that fails midway hands the rest to the CPU.
   * `'webgpu'`: on any WebGPU adapter, or reject. `'cpu'`: the worker pool.
   */
  backend?: 'auto' | 'webgpu' | 'cpu';
  /** Workers to run. Default: one per core (`navigator.hardwareConcurrency`), no more than there are chunks of images. */
  workers?: number;
  /** Starts one encoder worker, for bundlers that cannot follow `new URL('./encoder-worker.js', import.meta.url)`: a module worker that imports `marginalia/encoder-worker`. */
  worker?: () => Worker;
  /** Called while downloading the weights and after each chunk of images: done, total, and what it is doing in words (images per second, time left). */
  onProgress?: EncodeProgress;
  /** Aborting stops every worker; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface EncodedImages {
  /** n × dim, row-major, row i = image i; values rounded to f16 precision. */
  features: Float32Array;
  dim: number;
  /** What the features come from, e.g. "efficientnet-lite0/1 f16 224px": keep it with them; features of another version are not comparable. */
  version: string;
  /** Encoding time (ms), the download not included. */
  ms: number;
  /** CPU workers used (0 when the GPU encoded everything). */
  workers: number;
  /** Where the images were encoded, the GPU adapter's name, and why not on the GPU when not (null: nothing to say). */
  encodedOn: { backend: 'webgpu' | 'cpu'; adapter: string | null; why: string | null };
}

/** Messages between the pool and encoder-worker.ts. */
export type EncoderRequest =
  | { op: 'init'; weights: Uint8Array; size: number; gpu?: boolean }
  | { op: 'encode'; pixels: Uint8Array; width: number; height: number; channels: number };
export type EncoderReply = { ok: true; version?: string; dim?: number; adapter?: string; features?: Float32Array } | { ok: false; error: string };

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The default weight file: the copy in this package. */
export function defaultWeightsUrl(): URL {
  return new URL(`../weights/${WEIGHTS_FILE}`, import.meta.url);
}

/**
 * The weight file's bytes from `url`, with progress, checked against its size and sha256
 * (`E_FORMAT` when they differ: a damaged or different file is never used).
 */
export async function fetchWeights(url: string | URL = defaultWeightsUrl(), progress: EncodeProgress = () => {}, signal?: AbortSignal): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw new MarginaliaError('E_WORKER', `the image encoder's weights could not be downloaded from ${String(url)} (${(e as Error).message})`, { cause: e });
  }
  if (!res.ok || !res.body) throw new MarginaliaError('E_WORKER', `the image encoder's weights could not be downloaded (HTTP ${res.status} for ${String(url)})`);
  const out = new Uint8Array(WEIGHTS_BYTES);
  let got = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (got + value.length <= out.length) out.set(value, got);
    got += value.length;
    progress(Math.min(got, WEIGHTS_BYTES), WEIGHTS_BYTES, `downloading the image encoder (${mb(got)} of ${mb(WEIGHTS_BYTES)}, once)`);
  }
  if (got !== WEIGHTS_BYTES || (await sha256(out)) !== WEIGHTS_SHA256)
    throw new MarginaliaError('E_FORMAT', `the image encoder's weight file from ${String(url)} is not the expected one (${got.toLocaleString('en')} bytes, sha256 differs); it was not used`);
  return out;
}

/** How many workers to run for `n` images: one per core, no more than there are chunks. */
export function poolSize(n: number, cores: number = globalThis.navigator?.hardwareConcurrency || 2): number {
  return Math.max(1, Math.min(cores, Math.ceil(n / ENCODE_CHUNK), 16));
}

/** One worker behind a promise per request (each worker answers its requests in order). */
function startWorker(make: () => Worker) {
  const w = make();
  let pending: { resolve: (r: EncoderReply) => void; reject: (e: Error) => void } | null = null;
  w.onmessage = (ev: MessageEvent<EncoderReply>) => pending?.resolve(ev.data);
  w.onerror = (ev) => pending?.reject(new Error(ev.message || 'the encoder worker failed'));
  const call = (msg: EncoderRequest, transfer: Transferable[] = []) =>
    new Promise<EncoderReply>((resolve, reject) => {
      pending = { resolve, reject };
      w.postMessage(msg, transfer);
    }).then((r) => {
      if (!r.ok) throw new MarginaliaError('E_WORKER', `image encoder: ${r.error}`);
      return r;
    });
  // A terminated worker never answers: its pending call rejects instead of hanging.
  const terminate = () => {
    w.terminate();
    pending?.reject(new DOMException('the encoder worker was stopped', 'AbortError'));
    pending = null;
  };
  return { call, terminate };
}

/**
 * Encode `pixels` (n images of width × height × channels bytes, concatenated; channels 1,
 * 3 or 4) on the GPU or a pool of workers (`backend`). Images of any size: each is resized
 * to the network's input.
 */
export async function encodePixels(
  pixels: Uint8Array,
  shape: { n: number; width: number; height: number; channels: 1 | 3 | 4 },
  options: EncoderOptions = {},
): Promise<EncodedImages> {
  const { n, width, height, channels } = shape;
  const { signal } = options;
  const progress = options.onProgress ?? (() => {});
  const px = width * height * channels;
  if (!(n > 0) || pixels.length !== n * px)
    throw new MarginaliaError('E_SHAPE', `expected ${n} images of ${width}×${height}×${channels} bytes (${n * px} in all), got ${pixels.length} bytes`);
  const weights = options.weights ?? (await fetchWeights(options.weightsUrl ?? defaultWeightsUrl(), progress, signal));
  signal?.throwIfAborted();
  const size = options.size ?? ENCODER_SIZE;
  const backend = options.backend ?? 'auto';
  const make = options.worker ?? (() => new Worker(new URL('./encoder-worker.js', import.meta.url), { type: 'module' }));
  const job: Job = { pixels, shape, px, size, weights, make, progress, signal, features: null, dim: ENCODER_DIM, version: '', done: 0, t0: performance.now() };
  let why: string | null = null;
  if (backend !== 'cpu') {
    const adapter = await browserAdapter().catch(() => null);
    if (!adapter) why = 'no WebGPU adapter';
    else if (backend === 'auto' && adapter.software) why = `the WebGPU adapter is a software one (${adapter.name}), slower than the CPU`;
    else {
      try {
        const name = await runPool(job, 1, true);
        if (job.done === n) return result(job, 0, { backend: 'webgpu', adapter: name, why: null });
        why = 'the GPU stopped midway; the CPU encoded the rest';
      } catch (e) {
        if (signal?.aborted) throw signal.reason ?? e;
        if (backend === 'webgpu') throw e;
        why = `the GPU could not encode (${(e as Error).message}); the CPU did`;
      }
    }
    if (backend === 'webgpu' && job.done < n) throw new MarginaliaError('E_GPU', `WebGPU was asked for, but ${why}`);
  }
  const k = Math.min(options.workers ?? poolSize(n - job.done), poolSize(n - job.done, Number.MAX_SAFE_INTEGER));
  await runPool(job, k, false);
  return result(job, k, { backend: 'cpu', adapter: null, why });
}

/** One encoding job, shared by the GPU attempt and the CPU pool (which resumes where the GPU stopped). */
interface Job {
  pixels: Uint8Array;
  shape: { n: number; width: number; height: number; channels: 1 | 3 | 4 };
  px: number;
  size: number;
  weights: Uint8Array;
  make: () => Worker;
  progress: EncodeProgress;
  signal?: AbortSignal;
  features: Float32Array | null;
  dim: number;
  version: string;
  /** Images encoded so far: always the first `done` (chunks are handed out in order and a failed chunk ends the run). */
  done: number;
  t0: number;
}

function result(job: Job, workers: number, encodedOn: EncodedImages['encodedOn']): EncodedImages {
  return { features: job.features!, dim: job.dim, version: job.version, ms: performance.now() - job.t0, workers, encodedOn };
}

/**
 * Encode the job's images from `job.done` on `k` workers (or one GPU worker); returns the
 * GPU adapter's name. A GPU that fails leaves `job.done` at the first image not encoded.
 */
async function runPool(job: Job, k: number, gpu: boolean): Promise<string | null> {
  const { n, width, height, channels } = job.shape;
  const workers = Array.from({ length: k }, () => startWorker(job.make));
  const stop = () => workers.forEach((w) => w.terminate());
  job.signal?.addEventListener('abort', stop, { once: true });
  try {
    job.progress(job.done, n, gpu ? 'starting the image encoder on the GPU' : 'starting the image encoder');
    const infos = await Promise.all(workers.map((w) => w.call({ op: 'init', weights: job.weights.slice(), size: job.size, gpu })));
    const info = infos[0].ok ? infos[0] : null;
    if (job.version && info?.version !== job.version) throw new MarginaliaError('E_WORKER', `the GPU and CPU encoders differ (${info?.version} against ${job.version})`);
    job.version = info?.version ?? '';
    job.dim = info?.dim ?? ENCODER_DIM;
    job.features ??= new Float32Array(n * job.dim);
    // On the GPU one submission carries many images: how many is set by measuring, about
    // a second's work each (a fast GPU takes dozens; a slow or software one a few, which
    // keeps every submission well inside the readback's time limit). From 2 at first.
    let chunk = gpu ? 2 : ENCODE_CHUNK;
    let next = job.done;
    let failed: unknown = null;
    const where = gpu ? `on the GPU (${info?.adapter ?? 'WebGPU'})` : `on ${k} ${k === 1 ? 'core' : 'cores'}`;
    const rateFrom = { t: performance.now(), done: job.done };
    const run = async (w: ReturnType<typeof startWorker>) => {
      while (next < n && failed === null) {
        const start = next;
        const end = Math.min(start + chunk, n);
        next = end;
        const part = job.pixels.slice(start * job.px, end * job.px);
        let r: EncoderReply;
        const sent = performance.now();
        try {
          r = await w.call({ op: 'encode', pixels: part, width, height, channels }, [part.buffer]);
          if (gpu) chunk = Math.max(1, Math.min(64, Math.round((1000 * (end - start)) / Math.max(performance.now() - sent, 1))));
        } catch (e) {
          if (!gpu) throw e;
          failed = e;
          return;
        }
        job.signal?.throwIfAborted();
        if (r.ok) job.features!.set(r.features!, start * job.dim);
        job.done += end - start;
        const rate = (job.done - rateFrom.done) / Math.max((performance.now() - rateFrom.t) / 1000, 1e-3);
        const left = Math.ceil((n - job.done) / rate);
        job.progress(job.done, n, `encoding the images: ${rate.toFixed(1)} per second ${where}${job.done < n ? `, about ${left < 90 ? `${left} s` : `${Math.round(left / 60)} min`} left` : ''}`);
      }
    };
    await Promise.all(workers.map(run));
    return info?.adapter ?? null;
  } catch (e) {
    if (job.signal?.aborted) throw job.signal.reason ?? new DOMException('cancelled', 'AbortError');
    throw e;
  } finally {
    job.signal?.removeEventListener('abort', stop);
    stop();
  }
}

/**
 * Pretrained features for images: Blobs or Files (PNG, JPEG, WebP, GIF, BMP), ImageBitmaps,
 * ImageData or OffscreenCanvases. Each is decoded by the browser and resized (whole, not
 * cropped) to the network's input, then encoded on the worker pool. A file the browser
 * cannot decode rejects with `E_FORMAT` naming its position.
 */
export async function embedImages(images: DecodableImage[], options: EncoderOptions = {}): Promise<EncodedImages> {
  const size = options.size ?? ENCODER_SIZE;
  const per = size * size * 3;
  const pixels = new Uint8Array(images.length * per);
  for (let i = 0; i < images.length; i++) {
    try {
      pixels.set(await decodeImage(images[i], size, 3), i * per);
    } catch (e) {
      throw new MarginaliaError('E_FORMAT', `image ${i}: ${(e as Error).message}`, { cause: e });
    }
    options.signal?.throwIfAborted();
  }
  return encodePixels(pixels, { n: images.length, width: size, height: size, channels: 3 }, options);
}
