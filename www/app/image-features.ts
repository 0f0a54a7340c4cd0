// Image features for an image project's samples, returned as what db.ts stores: the
// feature chunks and the project fields (imageFeatures, featurizer). Convolutional
// features are computed in coates.worker.ts; pretrained ones on the encoder pool
// (encoder-pool.ts). Used by the image import, by a project switching features, and when
// images are added.
import * as Comlink from 'comlink';
import { COATES_DEFAULTS, coatesProblem, greyStack } from './coates';
import { encodeImages, type EncodeProgress } from './encoder-pool';
import type { CoatesApi, CoatesBackend, CoatesProgress, EncodedOn } from './coates.worker';
import { featureChunks, type FeatureChunk, type ImageFeatures, type ProjectRecord, type SampleRecord } from './store/db';

export interface ComputedFeatures {
  imageFeatures: ImageFeatures;
  /** Convolutional features' fitted filters; pretrained features need none (null). */
  featurizer: Uint8Array | null;
  chunks: FeatureChunk[];
  /** Worker time: learning the filters, encoding every image (ms). */
  fitMs: number;
  encodeMs: number;
  encodedOn: EncodedOn;
  /** Pretrained features: CPU workers used (0 when the GPU encoded them all). */
  workers?: number;
}

/**
 * Where to encode: `?coates=cpu` or `?coates=webgpu` in the page's address forces one
 * (for comparing them: bench/coates-app.mjs); otherwise 'auto' (a hardware GPU if any).
 */
export function coatesBackend(search: string = typeof location === 'undefined' ? '' : location.search): CoatesBackend {
  const v = new URLSearchParams(search).get('coates');
  return v === 'cpu' || v === 'webgpu' ? v : 'auto';
}

/**
 * Fit convolutional features on the samples' images and encode them all, off the main
 * thread. Throws an Error saying why when they cannot be had (too few images: checked
 * before the worker starts). The samples' ids index the stored rows (ids not present stay
 * zero rows that no sample reads, as a restored backup's).
 */
export async function computeImageFeatures(
  project: Pick<ProjectRecord, 'id' | 'width' | 'height' | 'channels'>,
  samples: SampleRecord[],
  progress: CoatesProgress,
): Promise<ComputedFeatures> {
  const why = coatesProblem(samples.length, project.width);
  if (why) throw new Error(why);
  if (project.width !== project.height) throw new Error(`the images are ${project.width}×${project.height}; convolutional features need square images`);
  const sorted = samples.slice().sort((a, b) => a.id - b.id);
  const images = greyStack(sorted, project.width, project.channels);
  const worker = new Worker(new URL('./coates.worker.ts', import.meta.url), { type: 'module' });
  const api = Comlink.wrap<CoatesApi>(worker);
  try {
    const s = COATES_DEFAULTS;
    const r = await api.fit(
      Comlink.transfer({ images, side: project.width, centroids: s.centroids, patch: s.patch, patches: s.patches, seed: s.seed, backend: coatesBackend() }, [images.buffer as ArrayBuffer]),
      Comlink.proxy(progress),
    );
    const n = sorted.length ? sorted[sorted.length - 1].id + 1 : 0;
    let dense = r.features;
    // Contiguous ids 0..n-1 (every import): the rows are already in place.
    if (n !== sorted.length) {
      dense = new Float32Array(n * r.width);
      sorted.forEach((sm, i) => dense.set(r.features.subarray(i * r.width, (i + 1) * r.width), sm.id * r.width));
    }
    return {
      imageFeatures: { kind: 'coates', centroids: s.centroids, patch: s.patch, patches: s.patches, seed: s.seed, fittedOn: r.fittedOn },
      featurizer: r.snapshot,
      chunks: featureChunks(project.id, dense, r.width),
      fitMs: r.fitMs,
      encodeMs: r.encodeMs,
      encodedOn: r.encodedOn,
    };
  } finally {
    worker.terminate();
  }
}

/** The samples' stored pixels, concatenated in the given order. */
function pixelStack(samples: SampleRecord[], project: Pick<ProjectRecord, 'width' | 'height' | 'channels'>): Uint8Array {
  const per = project.width * project.height * project.channels;
  const out = new Uint8Array(samples.length * per);
  samples.forEach((s, i) => {
    if (s.pixels?.length !== per) throw new Error(`sample ${s.id} has ${s.pixels?.length ?? 0} pixel bytes, expected ${per}`);
    out.set(s.pixels, i * per);
  });
  return out;
}

/**
 * Pretrained features (the EfficientNet-Lite0 encoder at `size` px) for the samples'
 * stored pixels, on the encoder pool. The samples' ids index the stored rows, as for
 * computeImageFeatures.
 */
export async function computePretrainedFeatures(
  project: Pick<ProjectRecord, 'id' | 'width' | 'height' | 'channels'>,
  samples: SampleRecord[],
  size: number,
  progress: EncodeProgress,
  signal?: AbortSignal,
): Promise<ComputedFeatures> {
  if (!samples.length) throw new Error('there are no images to encode');
  const sorted = samples.slice().sort((a, b) => a.id - b.id);
  const images = pixelStack(sorted, project);
  const shape = { n: sorted.length, width: project.width, height: project.height, channels: project.channels };
  const r = await encodeImages(images, shape, size, progress, signal);
  const n = sorted[sorted.length - 1].id + 1;
  let dense = r.features;
  if (n !== sorted.length) {
    dense = new Float32Array(n * r.dim);
    sorted.forEach((sm, i) => dense.set(r.features.subarray(i * r.dim, (i + 1) * r.dim), sm.id * r.dim));
  }
  return {
    imageFeatures: { kind: 'pretrained', encoder: r.version, size, dim: r.dim },
    featurizer: null,
    chunks: featureChunks(project.id, dense, r.dim),
    fitMs: 0,
    encodeMs: r.ms,
    encodedOn: r.encodedOn,
    workers: r.workers,
  };
}

/**
 * Encode images added to a project the way its images were: with its stored featurizer
 * (convolutional features) or its encoder (pretrained), off the main thread: the same
 * columns as the images already there. `samples` have consecutive ids from their first;
 * the chunks start there.
 */
export async function encodeAdded(
  project: Pick<ProjectRecord, 'id' | 'width' | 'height' | 'channels' | 'featurizer' | 'imageFeatures'>,
  samples: SampleRecord[],
  progress: CoatesProgress,
): Promise<{ chunks: FeatureChunk[]; encodedOn: EncodedOn | null; ms: number }> {
  if (!samples.length) return { chunks: [], encodedOn: null, ms: 0 };
  const pf = project.imageFeatures;
  if (pf?.kind === 'pretrained') {
    samples.forEach((s, i) => {
      if (s.id !== samples[0].id + i) throw new Error(`added samples must have consecutive ids (${samples[0].id + i} expected, got ${s.id})`);
    });
    const shape = { n: samples.length, width: project.width, height: project.height, channels: project.channels };
    const r = await encodeImages(pixelStack(samples, project), shape, pf.size, progress);
    // Same encoder, same version: otherwise the new rows would not be comparable.
    if (r.version !== pf.encoder) throw new Error(`this project's images were encoded with ${pf.encoder}; this page has ${r.version}, whose features differ`);
    return { chunks: featureChunks(project.id, r.features, r.dim, samples[0].id), encodedOn: r.encodedOn, ms: r.ms };
  }
  if (!project.featurizer) throw new Error('the project has no stored featurizer to encode new images with');
  samples.forEach((s, i) => {
    if (s.id !== samples[0].id + i) throw new Error(`added samples must have consecutive ids (${samples[0].id + i} expected, got ${s.id})`);
  });
  const images = greyStack(samples, project.width, project.channels);
  const worker = new Worker(new URL('./coates.worker.ts', import.meta.url), { type: 'module' });
  const api = Comlink.wrap<CoatesApi>(worker);
  try {
    const r = await api.transform(project.featurizer, Comlink.transfer(images, [images.buffer as ArrayBuffer]), project.width, coatesBackend(), Comlink.proxy(progress));
    return { chunks: featureChunks(project.id, r.features, r.features.length / samples.length, samples[0].id), encodedOn: r.encodedOn, ms: r.ms };
  } finally {
    worker.terminate();
  }
}

/** Where pretrained features were computed, in words: the GPU, or how many CPU workers and why not the GPU. */
export function pretrainedWhere(e: EncodedOn, workers: number): string {
  if (e.backend === 'webgpu') return `on the GPU (${e.adapter ?? 'WebGPU'})`;
  return `on ${workers} CPU ${workers === 1 ? 'worker' : 'workers'}, one per core${e.why ? ` (${e.why})` : ''}`;
}

/** Where images were encoded, in words ("on the GPU (adapter)", "on the CPU: why"). */
export function encodedWhere(e: EncodedOn): string {
  if (e.backend === 'webgpu') return `on the GPU (${e.adapter ?? 'WebGPU'})`;
  return e.why ? `on the CPU (${e.why})` : 'on the CPU';
}
