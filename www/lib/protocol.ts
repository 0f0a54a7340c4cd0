// The messages between the page (index.ts) and the learner's worker (worker.ts). A small
// request/response protocol of our own rather than Comlink: errors must cross with their
// `code`, the worker pushes events, and the package then needs no bare imports, so a plain
// `<script type="module">` page can load it without a bundler or import map.
import type { WireError } from './errors.js';

/** One queried sample: its pool index, its score (higher = more worth asking), why. */
export interface Candidate {
  index: number;
  score: number;
  reason: string;
}

/** A request from the page: `op` names a method of the worker's `ops`. */
export interface Request {
  id: number;
  op: string;
  args: unknown[];
}

/** The worker's answer to one request. */
export type Response = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/** Something the worker reports without being asked. */
export interface EventMessage {
  event: 'progress' | 'error';
  data: unknown;
}

/** The settings that travel to the worker (a resolved, validated {@link LearnerOptions}). */
export interface WorkerSettings {
  /** Features per sample; for text or table input, 0 until the featurizer is fitted; for images, known from `image`. */
  features: number;
  /** What samples arrive as: feature rows, texts (TF-IDF), CSV rows (tabular encoding), or images. */
  input: 'features' | 'text' | 'table' | 'image';
  /** Image input: how images become features (resolved from `LearnerOptions.image`). */
  image?: ImageSettings;
  /** Committee members: 0 = one model (committee strategies then train 5). */
  committee: number;
  /** TF-IDF vocabulary: terms in at least this many pool texts (core default 2). */
  textMinDf?: number;
  /** TF-IDF vocabulary: at most this many terms (core default 4096). */
  textMaxFeatures?: number;
  /** Table input: the CSV columns to encode (default all); set from the first rows. */
  columns?: string[];
  classes: string[];
  model: string;
  strategy: string;
  batchSize: number;
  backend: 'auto' | 'webgpu' | 'cpu';
  seed: number;
}

/** Image input, resolved: every image is resized to `size` × `size` with `channels` bytes per pixel. */
export interface ImageSettings {
  size: number;
  channels: 1 | 3;
  /** `'pixels'`: byte / 255 per pixel and channel. `'coates'`: Coates & Ng features learned from the first batch (grey only). */
  features: 'pixels' | 'coates';
  /** Coates & Ng: centroids K (4K features), patch side, random patches drawn when fitting. */
  centroids: number;
  patch: number;
  patches: number;
}

/**
 * One image as it crosses to the worker: what structured clone carries (a Blob or File, an
 * ImageBitmap, ImageData) or an absolute URL the worker fetches. The page converts the rest
 * (an `<img>`, a canvas) to an ImageBitmap first.
 */
export type WireImage = Blob | ImageBitmap | ImageData | string;
