// The learner's settings as a person chooses them on the dashboard (model, strategy,
// batch size), stored in the project record, and the accuracy history the dashboard's
// chart draws. Pure functions, unit-tested (tests/unit/settings.test.ts).
import type { CpuWhy } from 'marginalia/engine';
import type { HistoryEntry, LearnerSettings } from './store/db';

export type { HistoryEntry, LearnerSettings };

/** The choices the model menu offers; `committee` is a bootstrap committee of softmax models. */
export const MODELS = ['softmax', 'mlp', 'committee'] as const;
export type ModelChoice = (typeof MODELS)[number];
/** Members of the committee the `committee` choice trains (the engine's default size). */
export const COMMITTEE_SIZE = 5;
export const MODEL_LABELS: Record<ModelChoice, string> = {
  softmax: 'softmax regression (L-BFGS)',
  mlp: 'small neural network (MLP)',
  committee: `committee of ${COMMITTEE_SIZE} softmax models (bootstrap)`,
};
export const MAX_BATCH = 100;

/** Where the pool is scored: the GPU when a round gains from it, always, or never. */
export type Backend = NonNullable<LearnerSettings['backend']>;
export const BACKENDS: readonly Backend[] = ['auto', 'webgpu', 'cpu'];
export const BACKEND_LABELS: Record<Backend, string> = { auto: 'auto (the GPU when it gains)', webgpu: 'GPU (WebGPU)', cpu: 'CPU' };

export const DEFAULT_SETTINGS: LearnerSettings = { model: 'softmax', strategy: 'auto', batchSize: 12 };

/** Where a round scored the pool (the worker's `Scoring`, as far as the words need it). */
export interface ScoringFacts {
  backend: 'webgpu' | 'cpu';
  asked: Backend;
  why: CpuWhy | null;
  adapter: string | null;
}

/**
 * Which backend scored the last round, and why the CPU when it was, in a few words for the
 * label view and the dashboard (the engine's own detail goes in a tooltip).
 */
export function scoringText(f: ScoringFacts): string {
  if (f.backend === 'webgpu') {
    // The engine says `name (backend, driver, driver info)`; browsers often leave the name
    // empty (fingerprinting), and the rest means nothing to a person.
    const name = (f.adapter ?? '').split(' (')[0].trim();
    return name ? `GPU (WebGPU: ${name})` : 'GPU (WebGPU)';
  }
  switch (f.why) {
    case 'cpu':
      return 'CPU (chosen in the settings)';
    case 'cold':
      return 'CPU: no model yet (the first picks need no scoring)';
    case 'model':
      return 'CPU: this model and strategy are not scored on the GPU';
    case 'no-gpu':
      return f.asked === 'webgpu' ? 'CPU: no WebGPU adapter, so the GPU you chose cannot be used; carrying on on the CPU' : 'CPU: no WebGPU adapter';
    case 'software':
      return 'CPU: the only WebGPU adapter is a software one, slower than the CPU';
    case 'small':
      return 'CPU: round too small for the GPU to gain';
    case 'lost':
      return 'CPU: the GPU was lost, carried on';
    default:
      return 'CPU';
  }
}

/**
 * A stored or chosen settings value, checked: a problem to show, or null. `strategies`
 * is what the engine offers (strategyNames), so a name from an older build is caught.
 */
export function settingsProblem(s: unknown, strategies: readonly string[]): string | null {
  if (typeof s !== 'object' || s === null) return 'not an object';
  const v = s as Partial<LearnerSettings>;
  if (!MODELS.includes(v.model as ModelChoice)) return `model “${String(v.model)}” is not one of ${MODELS.join(', ')}`;
  if (typeof v.strategy !== 'string' || !strategies.includes(v.strategy)) return `strategy “${String(v.strategy)}” is not one this version knows`;
  if (!Number.isInteger(v.batchSize) || (v.batchSize as number) < 1 || (v.batchSize as number) > MAX_BATCH)
    return `batch size ${String(v.batchSize)} is not a whole number from 1 to ${MAX_BATCH}`;
  if (v.backend !== undefined && !BACKENDS.includes(v.backend)) return `compute “${String(v.backend)}” is not one of ${BACKENDS.join(', ')}`;
  return null;
}

/**
 * The history with a measurement at `labels` labels merged in. Entries above `labels` are
 * dropped (labels were undone: the curve restarts from here); an entry at `labels` keeps
 * the measurements `patch` does not replace (held-out accuracy and the CV estimate arrive
 * separately). Sorted by labels.
 */
export function mergeHistory(h: readonly HistoryEntry[], labels: number, patch: Partial<Omit<HistoryEntry, 'labels'>>): HistoryEntry[] {
  const same = h.find((e) => e.labels === labels);
  const merged: HistoryEntry = { labels, accuracy: null, ...same, ...patch };
  return [...h.filter((e) => e.labels < labels), merged];
}

/**
 * Whether a new cross-validated estimate is worth its cost (k model fits) at `labels`
 * labels, given the label count of the last one: every 5 labels at first, then every 10%
 * more labels, so a long session takes O(log n) estimates in the background.
 */
export function estimateDue(labels: number, last: number | null): boolean {
  if (labels < 2) return false;
  if (last == null || labels < last) return true;
  return labels - last >= Math.max(5, Math.ceil(last * 0.1));
}

/** The queue length the learner is asked for: enough for the batch view and to spare. */
export function queueLength(base: number, batchSize: number): number {
  return Math.max(base, 2 * batchSize);
}
