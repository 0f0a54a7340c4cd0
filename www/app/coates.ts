// Convolutional image features for the app (Coates, Lee & Ng 2011; the Rust core's
// `CoatesFeaturizer`): the choice between them and raw pixels, the checks before fitting,
// and the pure steps around the worker (coates.worker.ts) that computes them.
import type { CoatesImageFeatures, ImageFeatures } from './store/db';

export type ImageFeatureKind = 'pixels' | 'coates' | 'pretrained';

/**
 * The featurizer's settings. 128 centroids (512 features), 6×6 patches and 20,000 random
 * patches are the core's and the npm package's defaults: measured on Fashion-MNIST
 * (docs/BENCHMARKS.md) at +4 to +5 points of accuracy over raw pixels. The seed is fixed
 * so the same images give the same features on every machine.
 */
export const COATES_DEFAULTS = { centroids: 128, patch: 6, patches: 20_000, seed: 1 } as const;

/**
 * Fewest images a project needs for convolutional features. The filters (k-means on
 * patches) and each feature's scaling (mean and spread over the pool) are learned from
 * the project's own images: from a few dozen, 512 features are scaled by statistics of
 * almost nothing and the filters are fitted to a handful of pictures. Below this, raw
 * pixels are used and the person is told why.
 */
export const COATES_MIN_IMAGES = 100;

/**
 * The filters are learned from at most this many images (spread evenly over the import,
 * which is sorted by path, so every folder is represented); every image is then encoded
 * with them. Fitting on more adds time (each image is encoded once for the scaling) and
 * barely moves the filters, which see 20,000 random patches either way.
 */
export const COATES_FIT_IMAGES = 2_000;

/** Images per call to the worker's encoder: progress often, the tab never waits on one. */
export const COATES_CHUNK = 256;

/**
 * Images per GPU submission. Small: 256 (1.6 G multiply-adds at 28 px) took over the
 * readback's 60 s limit on SwiftShader under load; 64 costs a real GPU little more in
 * submissions and keeps a slow integrated one well inside it.
 */
export const COATES_GPU_CHUNK = 64;

/**
 * What a new image project uses by default: the pretrained network, for images of any
 * size. Measured (docs/BENCHMARKS.md, "Image features"; the core's
 * `encoder::default_image_features` says the same): on CIFAR-10 photos `auto` reaches AULC
 * 0.60 on it against 0.31 on convolutional features and 0.23 on pixels, and even on small
 * grey Fashion-MNIST images 0.80 against 0.73 and 0.70. Pixels and convolutional
 * features stay as choices (no download, faster to import).
 */
export function defaultImageFeatures(_size: number): ImageFeatureKind {
  return 'pretrained';
}

/** Features per image the learner sees with these settings: 4 quadrants × centroids. */
export function coatesWidth(f: Pick<CoatesImageFeatures, 'centroids'>): number {
  return 4 * f.centroids;
}

/** Why convolutional features cannot be fitted on `n` images of `size` px; null when they can. */
export function coatesProblem(n: number, size: number, s: { centroids: number; patch: number; patches: number } = COATES_DEFAULTS): string | null {
  if (size < s.patch) return `the images are ${size} px, smaller than the ${s.patch} px patches the features are learned from`;
  if (s.patches < s.centroids) return `${s.patches} patches cannot make ${s.centroids} filters`;
  if (n < COATES_MIN_IMAGES)
    return `convolutional features are learned from the images themselves and need at least ${COATES_MIN_IMAGES}; there ${n === 1 ? 'is 1' : `are ${n}`}`;
  return null;
}

/**
 * Grey bytes for the featurizer, which reads one value per pixel. Colour is converted
 * with ITU-R BT.601 luma, the formula the image decoder (www/lib/image.ts) uses for grey
 * imports, so a colour project's features are those of its grey import. Grey rather than
 * one featurizer per channel: shape and texture, what the filters capture, live mostly in
 * brightness, and per-channel features would triple the width (1,536) and the time.
 */
export function toGrey(pixels: Uint8Array, channels: 1 | 3): Uint8Array {
  if (channels === 1) return pixels;
  const n = Math.floor(pixels.length / 3);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(0.299 * pixels[i * 3] + 0.587 * pixels[i * 3 + 1] + 0.114 * pixels[i * 3 + 2]);
  return out;
}

/** The samples' grey images, concatenated (the featurizer's input), in the given order. */
export function greyStack(samples: { pixels?: Uint8Array }[], side: number, channels: 1 | 3): Uint8Array {
  const px = side * side;
  const out = new Uint8Array(samples.length * px);
  samples.forEach((s, i) => {
    if (!s.pixels || s.pixels.length !== px * channels) throw new Error(`image ${i + 1} has ${s.pixels?.length ?? 0} pixel bytes, expected ${px * channels}`);
    out.set(toGrey(s.pixels, channels), i * px);
  });
  return out;
}

/** `k` indices spread evenly over 0..n (all of them when k ≥ n), ascending. */
export function evenlySpaced(n: number, k: number): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, i) => Math.floor((i * n) / k));
}

/** A project's image features in words, for the UI. */
export function describeImageFeatures(f: ImageFeatures | null | undefined): string {
  if (!f) return 'raw pixels';
  if (f.kind === 'pretrained') return `pretrained features (${f.dim.toLocaleString('en')} per image from ${f.encoder}, an ImageNet network run in this page)`;
  return `convolutional features (${coatesWidth(f)} per image, learned from ${f.fittedOn.toLocaleString('en')} of your images)`;
}

/** Check a stored ImageFeatures record; a reason when unusable, else null. */
export function imageFeaturesProblem(f: unknown): string | null {
  if (f == null) return null;
  if ((f as { kind?: unknown }).kind === 'pretrained') {
    const p = f as Partial<Extract<ImageFeatures, { kind: 'pretrained' }>>;
    if (typeof p.encoder !== 'string' || !p.encoder) return 'image features: the encoder is not named';
    if (!Number.isInteger(p.size) || p.size! < 32 || p.size! > 512) return 'image features: the encoder size is not 32 to 512 pixels';
    if (!Number.isInteger(p.dim) || p.dim! < 1) return 'image features: no width';
    return null;
  }
  const r = f as Partial<CoatesImageFeatures>;
  if (r.kind !== 'coates') return `image features of kind ${String(r.kind)} are not known`;
  for (const k of ['centroids', 'patch', 'patches', 'seed', 'fittedOn'] as const) {
    if (!Number.isInteger(r[k]) || (r[k] as number) < 0) return `image features: ${k} is not a whole number`;
  }
  if (r.centroids! < 1) return 'image features: no centroids';
  return null;
}
