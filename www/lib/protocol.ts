// The messages between the page (index.ts) and the learner's worker (worker.ts). A small
// request/response protocol of our own rather than Comlink: errors must cross with their
// `code`, the worker pushes events, and the package then needs no bare imports, so a plain
// `<script type="module">` page can load it without a bundler or import map.
import type { WireError } from './errors.js';

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
  /** Features per sample; for text or table input, 0 until the featurizer is fitted. */
  features: number;
  /** What samples arrive as: feature rows, texts (TF-IDF), or CSV rows (tabular encoding). */
  input: 'features' | 'text' | 'table';
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
