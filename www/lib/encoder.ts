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
  workers: number;
}

/** Messages between the pool and encoder-worker.ts. */
export type EncoderRequest =
  | { op: 'init'; weights: Uint8Array; size: number }
  | { op: 'encode'; pixels: Uint8Array; width: number; height: number; channels: number };
export type EncoderReply = { ok: true; version?: string; dim?: number; features?: Float32Array } | { ok: false; error: string };

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
 * 3 or 4) on a pool of workers. Images of any size: each is resized to the network's input.
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
  const k = Math.min(options.workers ?? poolSize(n), poolSize(n, Number.MAX_SAFE_INTEGER));
  const make = options.worker ?? (() => new Worker(new URL('./encoder-worker.js', import.meta.url), { type: 'module' }));
  const workers = Array.from({ length: k }, () => startWorker(make));
  const stop = () => workers.forEach((w) => w.terminate());
  signal?.addEventListener('abort', stop, { once: true });
  try {
    progress(0, n, 'starting the image encoder');
    const size = options.size ?? ENCODER_SIZE;
    const infos = await Promise.all(workers.map((w) => w.call({ op: 'init', weights: weights.slice(), size })));
    const version = infos[0].ok ? infos[0].version! : '';
    const dim = infos[0].ok ? infos[0].dim! : ENCODER_DIM;
    const features = new Float32Array(n * dim);
    const t0 = performance.now();
    let next = 0;
    let done = 0;
    const run = async (w: ReturnType<typeof startWorker>) => {
      while (next < n) {
        const start = next;
        const end = Math.min(start + ENCODE_CHUNK, n);
        next = end;
        const part = pixels.slice(start * px, end * px);
        const r = await w.call({ op: 'encode', pixels: part, width, height, channels }, [part.buffer]);
        signal?.throwIfAborted();
        if (r.ok) features.set(r.features!, start * dim);
        done += end - start;
        const rate = done / Math.max((performance.now() - t0) / 1000, 1e-3);
        const left = Math.ceil((n - done) / rate);
        progress(done, n, `encoding the images: ${rate.toFixed(1)} per second on ${k} ${k === 1 ? 'core' : 'cores'}${done < n ? `, about ${left < 90 ? `${left} s` : `${Math.round(left / 60)} min`} left` : ''}`);
      }
    };
    await Promise.all(workers.map(run));
    return { features, dim, version, ms: performance.now() - t0, workers: k };
  } catch (e) {
    if (signal?.aborted) throw signal.reason ?? new DOMException('cancelled', 'AbortError');
    throw e;
  } finally {
    signal?.removeEventListener('abort', stop);
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
